/**
 * `npm run bench:kafka`: produce → consume throughput of plain kafkajs against the same workload through
 * libs/messaging (coalescing idempotent MessageProducer + ConsumerRunner with contract validation) and through
 * the Nest transport over it (`nest`: a tiny Nest app, `connectMicroservice` with `KafkaTransport`, one
 * `@EventPattern` controller), in one process against a real broker. Prints a table and writes
 * bench/results/kafka.json.
 *
 *   node --conditions=@notifications/source -r @swc-node/register \
 *     libs/messaging/bench/kafka-throughput.bench.ts [--messages 100000] [--partitions 6] [--rounds 3]
 *
 * Workload: `Email` contract objects whose body is padded so the serialized JSON is `--message-size` bytes,
 * keyed by notificationId, acks=-1, idempotent producers, no compression. Each scenario runs three phases,
 * each on fresh topics (created with the kafkajs admin, deleted afterwards):
 *   produce     the producer alone writes N messages to topic A, in sequential chunks of `--chunk`
 *               messages: one `send` per chunk for kafkajs, `Promise.all` of `publish` calls for the lib;
 *   consume     a new consumer group drains the N messages of topic A (first to last message received);
 *   end-to-end  a joined consumer group on topic B while the producer writes N messages to B, from the
 *               first send to the last message received. Latency per message = receive time − the time
 *               its chunk was handed to the producer (a header), so under saturation it includes the
 *               queueing behind the backlog.
 * Both scenarios are warmed up first on scratch topics (JIT, connections, group coordinator).
 *
 * Options (CLI flag, or environment variable):
 *   --messages N                   BENCH_MESSAGES                   default 100000
 *   --partitions N                 BENCH_PARTITIONS                 default 6
 *   --message-size BYTES           BENCH_MESSAGE_SIZE               default 1024
 *   --chunk N                      BENCH_CHUNK                      default 1000 (per send / Promise.all)
 *   --warmup N                     BENCH_WARMUP                     default 500
 *   --partition-concurrency N      BENCH_PARTITION_CONCURRENCY      default 3 (both scenarios)
 *   --per-partition-concurrency N  BENCH_PER_PARTITION_CONCURRENCY  default: the runner's default (1)
 *   --scenarios raw,messaging,nest BENCH_SCENARIOS                  default raw,messaging,nest
 *   --rounds N                     BENCH_ROUNDS                     default 3; every round runs all
 *                                                                   scenarios (order alternating, fresh
 *                                                                   clients, warm-up, topics deleted
 *                                                                   after the round); the table shows
 *                                                                   per-column medians
 *   --latency / --no-latency       BENCH_LATENCY=0|1                default on (a header per message)
 *   --out PATH                     BENCH_OUT                        default bench/results/kafka.json
 *                                                                   (relative to the workspace root)
 *   --brokers host:port,…          KAFKA_BROKERS                    default 127.0.0.1:9092
 *   --quiet-wait SECONDS           BENCH_QUIET_WAIT                 default 120: before each phase, wait
 *                                                                   up to this long for a one-second
 *   --quiet-busy PERCENT           BENCH_QUIET_BUSY                 sample with at most 15 % of all
 *                                                                   cores busy (others share this
 *                                                                   machine; 0 s = don't wait)
 *   --cpu-prof-dir DIR             BENCH_CPU_PROF_DIR               one <scenario>-r<round>-<phase>
 *                                                                   .cpuprofile per phase (200 µs
 *                                                                   sampling; open in Chrome DevTools;
 *                                                                   slows the run down)
 *
 * Besides throughput, each phase records the CPU time of this process, of the local broker (pid from
 * .infra/kafka/broker.json) and of everything else on the machine (`otherMs`); a phase during which other
 * load used more than a tenth of a core is flagged `noisy`.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { EmailContract, defineTopic, type Email, type TopicDefinition } from '@notifications/contracts';
import { CompressionTypes, Kafka, logLevel, type Admin, type IHeaders } from 'kafkajs';
import { NestFactory } from '@nestjs/core';
import { Ctx, EventPattern } from '@nestjs/microservices';
import { KafkaRuntime, createConsoleLogger, handlerFor, type ConsumerRunnerOptions } from '../src';
import { KafkaController, KafkaTransport, type KafkaContext } from '../src/nest';

// Both scenarios use kafkajs' default partitioner; its one-time v2 notice is noise here.
process.env['KAFKAJS_NO_PARTITIONER_WARNING'] ??= '1';

const WORKSPACE_ROOT = path.resolve(__dirname, '..', '..', '..');
const SENT_AT_HEADER = 'x-bench-sent-at';
const TOPIC_PREFIX = 'altinn.notifications.bench';
/** Fail instead of hanging when no message arrives for this long. */
const STALL_TIMEOUT_MS = 120_000;

type ScenarioName = 'raw' | 'messaging' | 'nest';
const SCENARIOS: readonly ScenarioName[] = ['raw', 'messaging', 'nest'];
const SCENARIO_LABELS: Record<ScenarioName, string> = {
  raw: 'raw kafkajs',
  messaging: 'libs/messaging',
  nest: 'Nest transport',
};

interface Settings {
  readonly messages: number;
  readonly partitions: number;
  readonly messageSize: number;
  readonly chunk: number;
  readonly warmup: number;
  readonly partitionConcurrency: number;
  /** undefined = the ConsumerRunner's default. */
  readonly perPartitionConcurrency: number | undefined;
  readonly scenarios: readonly ScenarioName[];
  /** Rounds of all scenarios (alternating their order); the table shows per-column medians. */
  readonly rounds: number;
  readonly latency: boolean;
  readonly out: string;
  readonly brokers: readonly string[];
  /** Before each phase, wait up to this long for a quiet machine (0 = don't wait). */
  readonly quietWaitSeconds: number;
  /** "Quiet": at most this share of all cores busy during a one-second sample. */
  readonly quietBusyPct: number;
  /** Write one V8 CPU profile per scenario phase here (numbers of such a run are not representative). */
  readonly cpuProfDir: string | undefined;
}

// ---------------------------------------------------------------------------------------------------------
// Options

function readSettings(): Settings {
  const { values } = parseArgs({
    options: {
      messages: { type: 'string' },
      partitions: { type: 'string' },
      'message-size': { type: 'string' },
      chunk: { type: 'string' },
      warmup: { type: 'string' },
      'partition-concurrency': { type: 'string' },
      'per-partition-concurrency': { type: 'string' },
      scenarios: { type: 'string' },
      rounds: { type: 'string' },
      latency: { type: 'boolean' },
      'no-latency': { type: 'boolean' },
      out: { type: 'string' },
      brokers: { type: 'string' },
      'quiet-wait': { type: 'string' },
      'quiet-busy': { type: 'string' },
      'cpu-prof-dir': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    const header = readFileSync(__filename, 'utf8').split('*/')[0] ?? '';
    process.stdout.write(`${header.replace(/^\/\*\*|^ \* ?/gm, '')}\n`);
    process.exit(0);
  }
  const int = (flag: string | undefined, env: string, fallback: number, minimum = 1): number => {
    const raw = flag ?? process.env[env];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < minimum)
      throw new Error(`${env}/${raw}: expected an integer ≥ ${minimum}`);
    return value;
  };
  const perPartitionRaw =
    values['per-partition-concurrency'] ?? process.env['BENCH_PER_PARTITION_CONCURRENCY'];
  const scenarios = (values.scenarios ?? process.env['BENCH_SCENARIOS'] ?? 'raw,messaging,nest')
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  for (const name of scenarios) {
    if (!(SCENARIOS as readonly string[]).includes(name))
      throw new Error(`Unknown scenario ${name} (${SCENARIOS.join(', ')})`);
  }
  const latencyEnv = process.env['BENCH_LATENCY'];
  const latency = values['no-latency']
    ? false
    : (values.latency ?? (latencyEnv === undefined ? true : !/^(0|false|no|off)$/i.test(latencyEnv)));
  return {
    messages: int(values.messages, 'BENCH_MESSAGES', 100_000),
    partitions: int(values.partitions, 'BENCH_PARTITIONS', 6),
    messageSize: int(values['message-size'], 'BENCH_MESSAGE_SIZE', 1024),
    chunk: int(values.chunk, 'BENCH_CHUNK', 1000),
    warmup: int(values.warmup, 'BENCH_WARMUP', 500, 0),
    partitionConcurrency: int(values['partition-concurrency'], 'BENCH_PARTITION_CONCURRENCY', 3),
    perPartitionConcurrency:
      perPartitionRaw === undefined ? undefined : int(perPartitionRaw, 'BENCH_PER_PARTITION_CONCURRENCY', 1),
    scenarios: scenarios as ScenarioName[],
    rounds: int(values.rounds, 'BENCH_ROUNDS', 3),
    latency,
    out: path.resolve(WORKSPACE_ROOT, values.out ?? process.env['BENCH_OUT'] ?? 'bench/results/kafka.json'),
    brokers: (values.brokers ?? process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092')
      .split(',')
      .map((broker) => broker.trim())
      .filter((broker) => broker !== ''),
    quietWaitSeconds: int(values['quiet-wait'], 'BENCH_QUIET_WAIT', 120, 0),
    quietBusyPct: int(values['quiet-busy'], 'BENCH_QUIET_BUSY', 15, 1),
    cpuProfDir: ((dir) => (dir ? path.resolve(process.cwd(), dir) : undefined))(
      values['cpu-prof-dir'] ?? process.env['BENCH_CPU_PROF_DIR'],
    ),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Payloads

const BODY_TEXT =
  '<p>Dear recipient, this is a notification about your case. Please log in to read the full message and ' +
  'respond before the deadline. Regards, the Notifications team.</p> ';

/**
 * `count` emails whose JSON is exactly `size` bytes (when `size` exceeds the fixed fields): fixed-width
 * subject and address, ASCII body without characters JSON escapes. Key order is the contract's, so
 * `EmailContract.serialize` writes the same bytes as `JSON.stringify`.
 */
function makeEmails(count: number, size: number): Email[] {
  const shape = (id: string, index: number, body: string): Email => ({
    notificationId: id,
    subject: `Notification ${String(index).padStart(9, '0')}`,
    body,
    fromAddress: 'noreply@altinn.cloud',
    toAddress: `user-${id.slice(0, 8)}@example.com`,
    contentType: 'Html',
  });
  const overhead = Buffer.byteLength(JSON.stringify(shape(randomUUID(), 0, '')));
  const bodyLength = Math.max(0, size - overhead);
  const body = BODY_TEXT.repeat(Math.ceil(bodyLength / BODY_TEXT.length)).slice(0, bodyLength);
  return Array.from({ length: count }, (_, index) => shape(randomUUID(), index, body));
}

// ---------------------------------------------------------------------------------------------------------
// Measurement

/** Counts received messages; knows the first/last receive time and per-message latencies. */
class Receiver {
  count = 0;
  firstAt: number | undefined;
  lastAt = 0;
  private readonly latencies: Float64Array;
  private latencyCount = 0;
  private readonly done: Promise<void>;
  private resolveDone!: () => void;

  constructor(readonly expected: number) {
    this.latencies = new Float64Array(expected);
    this.done = new Promise<void>((resolve) => (this.resolveDone = resolve));
  }

  record(sentAt: number | undefined): void {
    const now = performance.now();
    this.firstAt ??= now;
    this.lastAt = now;
    if (sentAt !== undefined && this.latencyCount < this.expected) {
      this.latencies[this.latencyCount] = now - sentAt;
      this.latencyCount += 1;
    }
    this.count += 1;
    if (this.count === this.expected) this.resolveDone();
  }

  /** Resolves when `expected` messages arrived; rejects when none arrives for STALL_TIMEOUT_MS. */
  async wait(): Promise<void> {
    let seen = -1;
    let timer: NodeJS.Timeout | undefined;
    const stalled = new Promise<never>((_, reject) => {
      timer = setInterval(() => {
        if (this.count === seen) {
          reject(
            new Error(`No message for ${STALL_TIMEOUT_MS / 1000} s; got ${this.count}/${this.expected}`),
          );
        }
        seen = this.count;
      }, STALL_TIMEOUT_MS);
    });
    try {
      await Promise.race([this.done, stalled]);
    } finally {
      clearInterval(timer);
    }
  }

  latencyPercentiles(): { p50: number; p99: number; max: number } | undefined {
    if (this.latencyCount === 0) return undefined;
    const sorted = this.latencies.slice(0, this.latencyCount).sort();
    const at = (q: number): number =>
      sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? NaN;
    return { p50: round(at(0.5), 1), p99: round(at(0.99), 1), max: round(at(1), 1) };
  }
}

function sentAtOf(value: string | Buffer | (string | Buffer)[] | undefined): number | undefined {
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? undefined : Number(first.toString());
}

/** CPU time of this process, the broker (when its pid is known) and the whole machine (contention). */
interface CpuSample {
  readonly wallMs: number;
  readonly process: NodeJS.CpuUsage;
  readonly brokerTicks: number | undefined;
  readonly machine: { busy: number; total: number } | undefined;
}

const CLOCK_TICKS_PER_SECOND = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

function readBrokerPid(): number | undefined {
  const state = path.join(WORKSPACE_ROOT, '.infra', 'kafka', 'broker.json');
  if (!existsSync(state)) return undefined;
  const pid = (JSON.parse(readFileSync(state, 'utf8')) as { pid?: unknown }).pid;
  return typeof pid === 'number' && existsSync(`/proc/${pid}/stat`) ? pid : undefined;
}

function sampleCpu(brokerPid: number | undefined): CpuSample {
  let brokerTicks: number | undefined;
  let machine: CpuSample['machine'];
  try {
    if (brokerPid !== undefined) {
      // Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
      const stat = readFileSync(`/proc/${brokerPid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      brokerTicks = Number(fields[11]) + Number(fields[12]);
    }
    const cpu = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal (guest time is already inside user)
    const total = cpu.slice(0, 8).reduce((sum, value) => sum + value, 0);
    const idle = (cpu[3] ?? 0) + (cpu[4] ?? 0);
    machine = { busy: total - idle, total };
  } catch {
    // Not Linux, or the broker is gone: report what we have.
  }
  return { wallMs: performance.now(), process: process.cpuUsage(), brokerTicks, machine };
}

interface CpuReport {
  /** CPU time of this Node process (producer + consumer + bench) during the phase. */
  readonly benchProcessMs: number;
  readonly benchProcessUsPerMessage: number;
  readonly brokerMs?: number;
  /** Busy CPU time of the whole machine not accounted for by the two above (other load). */
  readonly otherMs?: number;
  /** Busy share of all cores during the phase. */
  readonly machineBusyPct?: number;
}

function cpuBetween(start: CpuSample, end: CpuSample, messages: number): CpuReport {
  const benchProcessMs =
    (end.process.user - start.process.user + end.process.system - start.process.system) / 1000;
  const tickMs = 1000 / CLOCK_TICKS_PER_SECOND;
  const brokerMs =
    start.brokerTicks !== undefined && end.brokerTicks !== undefined
      ? (end.brokerTicks - start.brokerTicks) * tickMs
      : undefined;
  const report: CpuReport = {
    benchProcessMs: round(benchProcessMs, 0),
    benchProcessUsPerMessage: round((benchProcessMs * 1000) / messages, 1),
  };
  if (!start.machine || !end.machine) return report;
  const busyMs = (end.machine.busy - start.machine.busy) * tickMs;
  const totalTicks = end.machine.total - start.machine.total;
  return {
    ...report,
    ...(brokerMs === undefined ? {} : { brokerMs: round(brokerMs, 0) }),
    otherMs: round(Math.max(0, busyMs - benchProcessMs - (brokerMs ?? 0)), 0),
    machineBusyPct:
      totalTicks > 0 ? round((100 * (end.machine.busy - start.machine.busy)) / totalTicks, 1) : 0,
  };
}

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

function perSecond(messages: number, ms: number): number {
  return ms > 0 ? Math.round((messages * 1000) / ms) : 0;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Waits until a one-second sample shows the machine at most `quietBusyPct` busy (other engineers' builds and
 * tests share the two cores), up to `quietWaitSeconds`. Returns the last sample's busy %, or undefined off
 * Linux.
 */
async function waitForQuiet(settings: Settings, brokerPid: number | undefined): Promise<number | undefined> {
  if (settings.quietWaitSeconds === 0) return undefined;
  const deadline = performance.now() + settings.quietWaitSeconds * 1000;
  let busyPct: number | undefined;
  let waited = false;
  for (;;) {
    const start = sampleCpu(brokerPid);
    await sleep(1000);
    const end = sampleCpu(brokerPid);
    if (!start.machine || !end.machine) return undefined;
    const total = end.machine.total - start.machine.total;
    busyPct = total > 0 ? round((100 * (end.machine.busy - start.machine.busy)) / total, 1) : 0;
    if (busyPct <= settings.quietBusyPct) break;
    if (performance.now() >= deadline) {
      process.stdout.write(`  machine still ${busyPct} % busy; measuring anyway (expect noise)\n`);
      return busyPct;
    }
    if (!waited)
      process.stdout.write(`  machine ${busyPct} % busy (other load); waiting for it to settle…\n`);
    waited = true;
  }
  return busyPct;
}

/** V8 CPU profiles of single phases, through the inspector (so set-up and the other phases stay out). */
class PhaseProfiler {
  private session: Session | undefined;

  constructor(private readonly dir: string | undefined) {}

  async start(): Promise<void> {
    if (this.dir === undefined) return;
    if (!this.session) {
      this.session = new Session();
      this.session.connect();
      await this.session.post('Profiler.enable');
      await this.session.post('Profiler.setSamplingInterval', { interval: 200 });
    }
    await this.session.post('Profiler.start');
  }

  async stop(name: string): Promise<void> {
    if (this.dir === undefined || !this.session) return;
    const { profile } = await this.session.post('Profiler.stop');
    mkdirSync(this.dir, { recursive: true });
    const file = path.join(this.dir, `${name}.cpuprofile`);
    writeFileSync(file, JSON.stringify(profile));
    process.stdout.write(`  wrote ${path.relative(process.cwd(), file)}\n`);
  }

  close(): void {
    this.session?.disconnect();
  }
}

// ---------------------------------------------------------------------------------------------------------
// Scenarios: the same phases drive a plain kafkajs pair and the messaging lib.

interface BenchTopic {
  readonly name: string;
  readonly definition: TopicDefinition<Email>;
  /** Topics to create and delete: the main topic, plus retry and dead-letter topics for the lib's runner. */
  readonly allNames: readonly string[];
}

interface Driver {
  readonly name: ScenarioName;
  readonly description: string;
  /** Topics this driver needs for one logical topic. */
  topicNames(main: string): string[];
  /** Sends every email, chunk by chunk; stamps each chunk's hand-over time in a header when asked to. */
  produce(topic: BenchTopic, emails: readonly Email[]): Promise<void>;
  /** Joins a new group on `topic` (from the beginning) and reports every message to `receiver`. */
  startConsumer(topic: BenchTopic, groupId: string, receiver: Receiver): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let index = 0; index < items.length; index += size) out.push(items.slice(index, index + size));
  return out;
}

function rawDriver(settings: Settings): Driver {
  const kafka = new Kafka({
    clientId: 'bench-raw',
    brokers: [...settings.brokers],
    logLevel: logLevel.WARN,
  });
  // Like the lib's MessageProducer: idempotent (acks=-1 forced), one request in flight.
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
  });
  let connected: Promise<void> | undefined;
  return {
    name: 'raw',
    description:
      `kafkajs producer (idempotent, acks -1, maxInFlightRequests 1, ${settings.chunk} messages per ` +
      `awaited send, JSON.stringify) + kafkajs consumer (eachBatch, JSON.parse of every value, autoCommit, ` +
      `partitionsConsumedConcurrently ${settings.partitionConcurrency}, maxWaitTimeInMs 500 like the runner)`,
    topicNames: (main) => [main],
    async produce(topic, emails) {
      connected ??= producer.connect();
      await connected;
      for (const chunk of chunks(emails, settings.chunk)) {
        const headers = settings.latency ? { [SENT_AT_HEADER]: performance.now().toFixed(3) } : undefined;
        await producer.send({
          topic: topic.name,
          acks: -1,
          compression: CompressionTypes.None,
          messages: chunk.map((email) => ({
            key: email.notificationId,
            value: JSON.stringify(email),
            headers,
          })),
        });
      }
    },
    async startConsumer(topic, groupId, receiver) {
      const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false, maxWaitTimeInMs: 500 });
      await consumer.connect();
      await consumer.subscribe({ topics: [topic.name], fromBeginning: true });
      // run() resolves once the group is joined and synced.
      await consumer.run({
        partitionsConsumedConcurrently: settings.partitionConcurrency,
        autoCommit: true,
        eachBatch: ({ batch }) => {
          for (const message of batch.messages) {
            if (message.value !== null) JSON.parse(message.value.toString('utf8'));
            receiver.record(sentAtOf((message.headers as IHeaders | undefined)?.[SENT_AT_HEADER]));
          }
          return Promise.resolve();
        },
      });
      return () => consumer.disconnect();
    },
    async close() {
      if (connected) await producer.disconnect();
    },
  };
}

function messagingDriver(settings: Settings): Driver {
  const runtime = new KafkaRuntime(
    { brokers: settings.brokers, clientId: 'bench-messaging' },
    createConsoleLogger('bench-messaging', 'warn'),
  );
  const runnerOptions = (groupId: string): ConsumerRunnerOptions => ({
    groupId,
    partitionConcurrency: settings.partitionConcurrency,
    ...(settings.perPartitionConcurrency === undefined
      ? {}
      : { perPartitionConcurrency: settings.perPartitionConcurrency }),
  });
  const perPartitionNote =
    settings.perPartitionConcurrency === undefined
      ? ''
      : `, perPartitionConcurrency ${settings.perPartitionConcurrency}`;
  return {
    name: 'messaging',
    description:
      `runtime.producer.publish (EmailContract.serialize validates + stringifies; coalesced, ` +
      `${settings.chunk} concurrent publishes per awaited Promise.all) + ConsumerRunner (contract parse + ` +
      `validation, offset watermarking; defaults except partitionConcurrency ` +
      `${settings.partitionConcurrency}${perPartitionNote}), handler only counts`,
    topicNames: (main) => [main, `${main}.retry`, `${main}.deadletter`],
    async produce(topic, emails) {
      for (const chunk of chunks(emails, settings.chunk)) {
        const options = settings.latency
          ? { headers: { [SENT_AT_HEADER]: performance.now().toFixed(3) } }
          : {};
        await Promise.all(chunk.map((email) => runtime.producer.publish(topic.definition, email, options)));
      }
    },
    async startConsumer(topic, groupId, receiver) {
      const runner = runtime.createConsumer(runnerOptions(groupId), [
        handlerFor({
          topic: topic.definition,
          handle: (_email, context) => {
            receiver.record(sentAtOf(context.headers[SENT_AT_HEADER]));
            return Promise.resolve();
          },
        }),
      ]);
      // start() resolves once the group is joined and synced.
      await runner.start();
      return () => runner.stop();
    },
    close: () => runtime.shutdown(),
  };
}

/**
 * The messaging driver's producer, consumed through the Nest transport: per consumer, a Nest app (no HTTP
 * listener) whose one `@KafkaController` counts messages, started with `connectMicroservice` + `KafkaTransport`.
 */
function nestDriver(settings: Settings): Driver {
  const messaging = messagingDriver(settings);
  const runtime = new KafkaRuntime(
    { brokers: settings.brokers, clientId: 'bench-nest' },
    createConsoleLogger('bench-nest', 'warn'),
  );
  return {
    ...messaging,
    name: 'nest',
    description:
      'the libs/messaging producer + a Nest app: connectMicroservice({ strategy: KafkaTransport }), one ' +
      "@KafkaController with @EventPattern (@Payload/@Ctx through Nest's RPC pipeline), ConsumerRunner " +
      `underneath with the same options (partitionConcurrency ${settings.partitionConcurrency}), handler only counts`,
    async startConsumer(topic, groupId, receiver) {
      @KafkaController()
      class BenchConsumer {
        @EventPattern('bench')
        handle(@Ctx() context: KafkaContext): Promise<void> {
          receiver.record(sentAtOf(context.headers[SENT_AT_HEADER]));
          return Promise.resolve();
        }
      }
      const app = await NestFactory.create(
        { module: class BenchModule {}, controllers: [BenchConsumer] },
        {
          logger: ['error', 'warn'],
        },
      );
      app.connectMicroservice({
        strategy: new KafkaTransport({
          runtime,
          consumer: {
            groupId,
            partitionConcurrency: settings.partitionConcurrency,
            ...(settings.perPartitionConcurrency === undefined
              ? {}
              : { perPartitionConcurrency: settings.perPartitionConcurrency }),
          },
          topics: { bench: topic.definition as TopicDefinition<unknown> },
        }),
      });
      await app.init();
      // listen() resolves once the runner joined its group.
      await app.startAllMicroservices();
      return () => app.close();
    },
    async close() {
      await Promise.all([messaging.close(), runtime.shutdown()]);
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// Topic and group housekeeping

class Housekeeping {
  private readonly topics = new Set<string>();
  private readonly groups = new Set<string>();
  private readonly run = randomUUID().slice(0, 8);
  private counter = 0;

  constructor(
    private readonly admin: Admin,
    private readonly partitions: number,
  ) {}

  async topic(driver: Driver, label: string): Promise<BenchTopic> {
    this.counter += 1;
    const name = `${TOPIC_PREFIX}.${this.run}.${driver.name}.${label}.${this.counter}`;
    const allNames = driver.topicNames(name);
    const definition = defineTopic<Email>({
      name,
      contract: EmailContract,
      keyOf: (email) => email.notificationId,
      retryTopic: `${name}.retry`,
      deadLetterTopic: `${name}.deadletter`,
    });
    for (const topic of allNames) this.topics.add(topic);
    // kafkajs' own waitForLeaders gives up when the broker does not know a new topic yet ("does not host this
    // topic-partition"), which a busy KRaft broker reports for a moment after creation; so wait here instead.
    await this.admin.createTopics({
      waitForLeaders: false,
      topics: allNames.map((topic) => ({ topic, numPartitions: this.partitions, replicationFactor: 1 })),
    });
    await this.waitForLeaders(allNames);
    return { name, definition, allNames };
  }

  private async waitForLeaders(topics: readonly string[]): Promise<void> {
    const deadline = performance.now() + 30_000;
    for (;;) {
      try {
        const metadata = await this.admin.fetchTopicMetadata({ topics: [...topics] });
        const ready = metadata.topics.filter(
          (topic) =>
            topic.partitions.length === this.partitions &&
            topic.partitions.every((partition) => partition.leader >= 0),
        );
        if (ready.length === topics.length) {
          // Metadata can name the leader a moment before it accepts produce requests (NOT_LEADER retries,
          // logged as errors and, inside a measured phase, a few hundred ms lost): give it that moment.
          await sleep(500);
          return;
        }
      } catch (error) {
        if (performance.now() > deadline) throw error;
      }
      if (performance.now() > deadline) throw new Error(`No leaders for ${topics.join(', ')} after 30 s`);
      await sleep(100);
    }
  }

  group(driver: Driver, label: string): string {
    const id = `${TOPIC_PREFIX}.${this.run}.${driver.name}.${label}`;
    this.groups.add(id);
    return id;
  }

  async cleanup(): Promise<void> {
    const groups = [...this.groups];
    const topics = [...this.topics];
    this.groups.clear();
    this.topics.clear();
    if (groups.length > 0) {
      await this.admin.deleteGroups(groups).catch((error: unknown) => {
        process.stderr.write(
          `Could not delete bench consumer groups ${groups.join(', ')}: ${String(error)}\n`,
        );
      });
    }
    if (topics.length > 0) {
      await this.admin.deleteTopics({ topics, timeout: 30_000 }).catch((error: unknown) => {
        process.stderr.write(`Could not delete bench topics ${topics.join(', ')}: ${String(error)}\n`);
      });
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// Phases

interface PhaseResult {
  readonly messages: number;
  readonly seconds: number;
  readonly perSec: number;
  readonly cpu: CpuReport;
  /** Machine busy % in the idle second before the phase (see waitForQuiet). */
  readonly busyBeforePct: number | undefined;
  /** Other processes used more than a tenth of a core during the phase. */
  readonly noisy: boolean;
}

function isNoisy(cpu: CpuReport, seconds: number): boolean {
  // A tenth of a core on average; at least 50 ms, since /proc/stat counts in 10 ms ticks.
  return cpu.otherMs !== undefined && cpu.otherMs > Math.max(50, 100 * seconds);
}

interface EndToEndResult extends PhaseResult {
  /** Producer rate while the consumer ran in the same process. */
  readonly producedPerSec: number;
  /** First to last message received, while the producer ran. */
  readonly consumedPerSec: number;
  readonly latencyMs: { p50: number; p99: number; max: number } | undefined;
}

interface ScenarioResult {
  readonly description: string;
  readonly producedPerSec: number;
  readonly consumedPerSec: number;
  readonly endToEndPerSec: number;
  readonly latencyMs: { p50: number; p99: number; max: number } | null;
  readonly phases: { produce: PhaseResult; consume: PhaseResult; endToEnd: EndToEndResult };
  /** Messages received more than once (at-least-once redeliveries); 0 in a clean run. */
  readonly duplicates: number;
}

async function warmUp(driver: Driver, house: Housekeeping, emails: readonly Email[]): Promise<void> {
  if (emails.length === 0) return;
  const topic = await house.topic(driver, 'warmup');
  await driver.produce(topic, emails);
  const receiver = new Receiver(emails.length);
  const stop = await driver.startConsumer(topic, house.group(driver, 'warmup'), receiver);
  await receiver.wait();
  await stop();
}

async function runScenario(
  driver: Driver,
  house: Housekeeping,
  emails: readonly Email[],
  brokerPid: number | undefined,
  settings: Settings,
  profiler: PhaseProfiler,
  roundNumber: number,
): Promise<ScenarioResult> {
  const n = emails.length;
  const label = `${driver.name}-r${roundNumber}`;
  const log = (text: string): void => void process.stdout.write(`  [${label}] ${text}\n`);

  // 1. Producer alone.
  const drainTopic = await house.topic(driver, 'drain');
  let busyBeforePct = await waitForQuiet(settings, brokerPid);
  await profiler.start();
  let before = sampleCpu(brokerPid);
  await driver.produce(drainTopic, emails);
  let after = sampleCpu(brokerPid);
  await profiler.stop(`${label}-produce`);
  const produceMs = after.wallMs - before.wallMs;
  let cpu = cpuBetween(before, after, n);
  const produce: PhaseResult = {
    messages: n,
    seconds: round(produceMs / 1000, 3),
    perSec: perSecond(n, produceMs),
    cpu,
    busyBeforePct,
    noisy: isNoisy(cpu, produceMs / 1000),
  };
  log(`produce      ${produce.perSec} msg/s (${produce.seconds} s)`);

  // 2. Consumer alone, draining what phase 1 wrote.
  const drain = new Receiver(n);
  busyBeforePct = await waitForQuiet(settings, brokerPid);
  await profiler.start();
  before = sampleCpu(brokerPid);
  const stopDrain = await driver.startConsumer(drainTopic, house.group(driver, 'drain'), drain);
  await drain.wait();
  after = sampleCpu(brokerPid);
  await profiler.stop(`${label}-consume`);
  await stopDrain();
  const consumeMs = drain.lastAt - (drain.firstAt ?? drain.lastAt);
  cpu = cpuBetween(before, after, n);
  const consume: PhaseResult = {
    messages: n,
    seconds: round(consumeMs / 1000, 3),
    perSec: perSecond(n, consumeMs),
    cpu,
    busyBeforePct,
    noisy: isNoisy(cpu, (after.wallMs - before.wallMs) / 1000),
  };
  log(`consume      ${consume.perSec} msg/s (${consume.seconds} s, first to last message)`);

  // 3. Both at once, consumer group joined before the first send.
  const e2eTopic = await house.topic(driver, 'e2e');
  const e2e = new Receiver(n);
  busyBeforePct = await waitForQuiet(settings, brokerPid);
  const stopE2e = await driver.startConsumer(e2eTopic, house.group(driver, 'e2e'), e2e);
  await profiler.start();
  before = sampleCpu(brokerPid);
  const producing = driver.produce(e2eTopic, emails).then(() => performance.now());
  const [producedAt] = await Promise.all([producing, e2e.wait()]);
  after = sampleCpu(brokerPid);
  await profiler.stop(`${label}-endToEnd`);
  await stopE2e();
  const e2eMs = e2e.lastAt - before.wallMs;
  const latency = e2e.latencyPercentiles();
  cpu = cpuBetween(before, after, n);
  const endToEnd: EndToEndResult = {
    messages: n,
    seconds: round(e2eMs / 1000, 3),
    perSec: perSecond(n, e2eMs),
    producedPerSec: perSecond(n, producedAt - before.wallMs),
    consumedPerSec: perSecond(n, e2e.lastAt - (e2e.firstAt ?? e2e.lastAt)),
    latencyMs: latency,
    cpu,
    busyBeforePct,
    noisy: isNoisy(cpu, e2eMs / 1000),
  };
  log(
    `end-to-end   ${endToEnd.perSec} msg/s (${endToEnd.seconds} s)` +
      (latency ? `, latency p50 ${latency.p50} ms, p99 ${latency.p99} ms` : ''),
  );

  return {
    description: driver.description,
    producedPerSec: produce.perSec,
    consumedPerSec: consume.perSec,
    endToEndPerSec: endToEnd.perSec,
    latencyMs: latency ?? null,
    phases: { produce, consume, endToEnd },
    duplicates: Math.max(0, drain.count - n) + Math.max(0, e2e.count - n),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Report

function describeMachine(brokerPid: number | undefined, settings: Settings): Record<string, unknown> {
  const cpus = os.cpus();
  let cpuModel = cpus[0]?.model;
  try {
    cpuModel = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpuModel;
  } catch {
    // not Linux
  }
  const localState = path.join(WORKSPACE_ROOT, '.infra', 'kafka', 'broker.json');
  const local = settings.brokers.every((broker) => /^(127\.0\.0\.1|localhost):9092$/.test(broker));
  const kafkaVersion =
    process.env['KAFKA_VERSION'] ??
    (local && existsSync(localState)
      ? ((JSON.parse(readFileSync(localState, 'utf8')) as { version?: string }).version ?? 'unknown')
      : 'unknown');
  const kafkajsVersion = (
    JSON.parse(readFileSync(require.resolve('kafkajs/package.json'), 'utf8')) as { version: string }
  ).version;
  return {
    hostname: os.hostname(),
    cpus: os.availableParallelism(),
    cpuModel: cpuModel ?? 'unknown',
    memoryMiB: Math.round(os.totalmem() / 2 ** 20),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    kafkajs: kafkajsVersion,
    kafka: kafkaVersion,
    brokers: settings.brokers,
    brokerPid: brokerPid ?? null,
    loadAverageAtStart: os.loadavg().map((value) => round(value, 2)),
  };
}

type Column = 'producedPerSec' | 'consumedPerSec' | 'endToEndPerSec';
const COLUMNS: readonly Column[] = ['producedPerSec', 'consumedPerSec', 'endToEndPerSec'];
const PHASES = ['produce', 'consume', 'endToEnd'] as const;
type Phase = (typeof PHASES)[number];
const GOAL = 0.8;

/** One scenario over all rounds: per-column medians, and every round's full result. */
interface ScenarioSummary {
  readonly description: string;
  readonly producedPerSec: number;
  readonly consumedPerSec: number;
  readonly endToEndPerSec: number;
  readonly latencyMs: { p50: number; p99: number } | null;
  /** Median CPU time of this Node process per message, per phase. */
  readonly benchCpuUsPerMessage: Record<Phase, number>;
  /** Rounds each phase's columns are the median of (noisy rounds left out when a clean one exists). */
  readonly roundsUsed: Record<Phase, number>;
  /** Phases (over all rounds) during which other processes used more than a tenth of a core. */
  readonly noisyPhases: number;
  readonly duplicates: number;
  readonly rounds: ScenarioResult[];
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? NaN)
    : ((sorted[middle - 1] ?? NaN) + (sorted[middle] ?? NaN)) / 2;
}

/**
 * Per-column medians. A round whose phase was noisy (other load on the machine) is left out of that phase's
 * columns when at least one round of the phase was clean.
 */
function summarize(rounds: ScenarioResult[]): ScenarioSummary {
  const usable = (phase: Phase): ScenarioResult[] => {
    const clean = rounds.filter((result) => !result.phases[phase].noisy);
    return clean.length > 0 ? clean : rounds;
  };
  const medianOf = (phase: Phase, pick: (result: ScenarioResult) => number): number =>
    median(usable(phase).map(pick));
  const latencies = usable('endToEnd').flatMap((result) => (result.latencyMs ? [result.latencyMs] : []));
  return {
    description: rounds[0]?.description ?? '',
    producedPerSec: Math.round(medianOf('produce', (result) => result.producedPerSec)),
    consumedPerSec: Math.round(medianOf('consume', (result) => result.consumedPerSec)),
    endToEndPerSec: Math.round(medianOf('endToEnd', (result) => result.endToEndPerSec)),
    latencyMs:
      latencies.length === 0
        ? null
        : {
            p50: round(median(latencies.map((latency) => latency.p50)), 1),
            p99: round(median(latencies.map((latency) => latency.p99)), 1),
          },
    benchCpuUsPerMessage: {
      produce: round(
        medianOf('produce', (r) => r.phases.produce.cpu.benchProcessUsPerMessage),
        1,
      ),
      consume: round(
        medianOf('consume', (r) => r.phases.consume.cpu.benchProcessUsPerMessage),
        1,
      ),
      endToEnd: round(
        medianOf('endToEnd', (r) => r.phases.endToEnd.cpu.benchProcessUsPerMessage),
        1,
      ),
    },
    roundsUsed: {
      produce: usable('produce').length,
      consume: usable('consume').length,
      endToEnd: usable('endToEnd').length,
    },
    noisyPhases: rounds.reduce(
      (sum, result) => sum + PHASES.filter((phase) => result.phases[phase].noisy).length,
      0,
    ),
    duplicates: rounds.reduce((sum, result) => sum + result.duplicates, 0),
    rounds,
  };
}

type Ratios = Record<
  Column | 'latencyP50' | 'latencyP99' | 'benchCpuPerMessageProduce' | 'benchCpuPerMessageConsume',
  number | null
>;

function ratio(a: number | undefined, b: number | undefined): number | null {
  return a === undefined || b === undefined || b === 0 ? null : round(a / b, 3);
}

/** messaging / raw for every column (for latency and CPU, above 1 means the lib is slower). */
function ratios(
  raw: Pick<ScenarioSummary, Column | 'latencyMs' | 'benchCpuUsPerMessage'>,
  lib: Pick<ScenarioSummary, Column | 'latencyMs' | 'benchCpuUsPerMessage'>,
): Ratios {
  return {
    producedPerSec: ratio(lib.producedPerSec, raw.producedPerSec),
    consumedPerSec: ratio(lib.consumedPerSec, raw.consumedPerSec),
    endToEndPerSec: ratio(lib.endToEndPerSec, raw.endToEndPerSec),
    latencyP50: ratio(lib.latencyMs?.p50, raw.latencyMs?.p50),
    latencyP99: ratio(lib.latencyMs?.p99, raw.latencyMs?.p99),
    benchCpuPerMessageProduce: ratio(lib.benchCpuUsPerMessage.produce, raw.benchCpuUsPerMessage.produce),
    benchCpuPerMessageConsume: ratio(lib.benchCpuUsPerMessage.consume, raw.benchCpuUsPerMessage.consume),
  };
}

function table(rows: string[][]): string {
  const widths =
    rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length))) ?? [];
  const line = (row: string[]): string =>
    row
      .map((cell, column) =>
        column === 0 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0),
      )
      .join(' | ');
  const separator = widths.map((width) => '-'.repeat(width)).join('-|-');
  const [head, ...body] = rows;
  return [line(head ?? []), separator, ...body.map(line)].join('\n');
}

const fmt = (value: number): string => value.toLocaleString('en-US');
const pct = (value: number | null | undefined): string =>
  value === null || value === undefined ? 'n/a' : `${(value * 100).toFixed(1)} %`;
const mark = (value: number | null | undefined): string =>
  value === null || value === undefined ? '' : value >= GOAL ? ' ✓' : ' ✗';

function printReport(
  summaries: Partial<Record<ScenarioName, ScenarioSummary>>,
  ratioOfMedians: Ratios | null,
  rounds: number,
  nestRatio: Ratios | null = null,
): void {
  const rows: string[][] = [
    [
      rounds > 1 ? `scenario (median of ${rounds} rounds¹)` : 'scenario',
      'produced msg/s',
      'consumed msg/s',
      'end-to-end msg/s',
      'p50 / p99 latency ms',
    ],
  ];
  for (const name of SCENARIOS) {
    const summary = summaries[name];
    if (!summary) continue;
    rows.push([
      SCENARIO_LABELS[name],
      fmt(summary.producedPerSec),
      fmt(summary.consumedPerSec),
      fmt(summary.endToEndPerSec),
      summary.latencyMs ? `${summary.latencyMs.p50} / ${summary.latencyMs.p99}` : 'n/a',
    ]);
  }
  if (ratioOfMedians) {
    rows.push([
      'messaging / raw',
      ...COLUMNS.map((column) => pct(ratioOfMedians[column]) + mark(ratioOfMedians[column])),
      `${pct(ratioOfMedians.latencyP50)} / ${pct(ratioOfMedians.latencyP99)}`,
    ]);
  }
  if (nestRatio) {
    rows.push([
      'nest / raw',
      ...COLUMNS.map((column) => pct(nestRatio[column]) + mark(nestRatio[column])),
      `${pct(nestRatio.latencyP50)} / ${pct(nestRatio.latencyP99)}`,
    ]);
  }
  process.stdout.write(`\n${table(rows)}\n`);

  const raw = summaries.raw;
  const lib = summaries.messaging;
  if (rounds > 1 && raw && lib) {
    const roundRows: string[][] = [
      [
        'round',
        'produced raw / lib',
        'lib/raw',
        'consumed raw / lib',
        'lib/raw',
        'end-to-end raw / lib',
        'lib/raw',
        'noisy phases',
      ],
    ];
    raw.rounds.forEach((rawRound, index) => {
      const libRound = lib.rounds[index];
      if (!libRound) return;
      const noisy = [
        ...PHASES.filter((phase) => rawRound.phases[phase].noisy).map((phase) => `raw ${phase}`),
        ...PHASES.filter((phase) => libRound.phases[phase].noisy).map((phase) => `lib ${phase}`),
      ];
      const cells = COLUMNS.flatMap((column) => [
        `${fmt(rawRound[column])} / ${fmt(libRound[column])}`,
        pct(ratio(libRound[column], rawRound[column])),
      ]);
      roundRows.push([String(index + 1), ...cells, noisy.join(', ') || '-']);
    });
    process.stdout.write(`\n${table(roundRows)}\n`);
  }

  // Where the CPU went per phase: this process (producer + consumer), the broker, and anything else on the
  // machine (other load makes a run noisy).
  const cpuRows: string[][] = [
    [
      'CPU per phase (median)',
      'bench process µs/msg',
      'broker ms',
      'other ms',
      'machine busy',
      'noisy rounds',
    ],
  ];
  for (const name of SCENARIOS) {
    const summary = summaries[name];
    if (!summary) continue;
    for (const phase of PHASES) {
      const results = summary.rounds.map((result) => result.phases[phase]);
      const medianOf = (pick: (cpu: CpuReport) => number | undefined, unit = ''): string => {
        const values = results.flatMap(({ cpu }) => {
          const value = pick(cpu);
          return value === undefined ? [] : [value];
        });
        return values.length === 0 ? 'n/a' : `${round(median(values), 1)}${unit}`;
      };
      cpuRows.push([
        `${name} ${phase}`,
        medianOf((cpu) => cpu.benchProcessUsPerMessage),
        medianOf((cpu) => cpu.brokerMs),
        medianOf((cpu) => cpu.otherMs),
        medianOf((cpu) => cpu.machineBusyPct, ' %'),
        `${results.filter((result) => result.noisy).length}/${results.length}`,
      ]);
    }
  }
  process.stdout.write(`\n${table(cpuRows)}\n`);
  const noisy = (raw?.noisyPhases ?? 0) + (lib?.noisyPhases ?? 0) + (summaries.nest?.noisyPhases ?? 0);
  if (noisy > 0) {
    const used = SCENARIOS.flatMap((name) => {
      const summary = summaries[name];
      return summary ? PHASES.map((phase) => `${name} ${phase} ${summary.roundsUsed[phase]}`) : [];
    });
    process.stdout.write(
      `\n⚠ in ${noisy} phase(s) other processes took over a tenth of a core (see "noisy").\n` +
        `¹ noisy rounds are left out of a column when a clean one exists; rounds used: ${used.join(', ')}\n`,
    );
  }
  if (ratioOfMedians) {
    const met = COLUMNS.filter((column) => (ratioOfMedians[column] ?? 0) >= GOAL);
    process.stdout.write(
      `\nGoal (messaging ≥ ${GOAL * 100} % of raw throughput): ` +
        `${(ratioOfMedians.endToEndPerSec ?? 0) >= GOAL ? 'MET' : 'NOT MET'} end-to-end; ` +
        `${met.length}/${COLUMNS.length} columns ≥ ${GOAL * 100} % ` +
        `(${COLUMNS.map((column) => `${column} ${pct(ratioOfMedians[column])}`).join(', ')})\n`,
    );
  }
  if (nestRatio) {
    process.stdout.write(
      `Goal (Nest transport ≥ ${GOAL * 100} % of raw end-to-end): ` +
        `${(nestRatio.endToEndPerSec ?? 0) >= GOAL ? 'MET' : 'NOT MET'} (${pct(nestRatio.endToEndPerSec)})\n`,
    );
  }
}

// ---------------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const settings = readSettings();
  const brokerPid = readBrokerPid();
  const machine = describeMachine(brokerPid, settings);
  process.stdout.write(
    `Kafka throughput bench: ${settings.messages} messages × ${settings.messageSize} B, ` +
      `${settings.partitions} partitions, brokers ${settings.brokers.join(',')}\n` +
      `machine: ${String(machine['cpus'])} × ${String(machine['cpuModel'])}, ` +
      `${String(machine['memoryMiB'])} MiB, node ${process.version}, Kafka ${String(machine['kafka'])}, ` +
      `load ${JSON.stringify(machine['loadAverageAtStart'])}\n`,
  );

  const emails = makeEmails(settings.messages, settings.messageSize);
  const warmupEmails = makeEmails(settings.warmup, settings.messageSize);
  const sample = emails[0];
  if (sample && EmailContract.serialize(sample) !== JSON.stringify(sample)) {
    throw new Error(
      'EmailContract.serialize and JSON.stringify disagree: the scenarios would send different bytes',
    );
  }
  const payloadBytes = sample ? Buffer.byteLength(JSON.stringify(sample)) : 0;

  const admin = new Kafka({
    clientId: 'bench-admin',
    brokers: [...settings.brokers],
    // Its failures surface as exceptions; its log would only repeat the "unknown topic" answers that
    // Housekeeping.waitForLeaders polls through after creating topics.
    logLevel: logLevel.NOTHING,
  }).admin();
  await admin.connect();
  const perRound: Partial<Record<ScenarioName, ScenarioResult[]>> = {};
  const profiler = new PhaseProfiler(settings.cpuProfDir);
  const startedAt = new Date().toISOString();
  try {
    for (let roundNumber = 1; roundNumber <= settings.rounds; roundNumber += 1) {
      // Alternate the order so that neither scenario always runs on a fresher (or more fragmented) broker.
      const order = roundNumber % 2 === 1 ? settings.scenarios : [...settings.scenarios].reverse();
      process.stdout.write(`round ${roundNumber}/${settings.rounds}: ${order.join(' → ')}\n`);
      const house = new Housekeeping(admin, settings.partitions);
      const drivers = order.map((name) =>
        name === 'raw'
          ? rawDriver(settings)
          : name === 'nest'
            ? nestDriver(settings)
            : messagingDriver(settings),
      );
      try {
        process.stdout.write(`  warming up (${settings.warmup} messages per scenario on scratch topics)\n`);
        for (const driver of drivers) await warmUp(driver, house, warmupEmails);
        for (const driver of drivers) {
          if (roundNumber === 1) process.stdout.write(`  ${driver.name}: ${driver.description}\n`);
          const result = await runScenario(driver, house, emails, brokerPid, settings, profiler, roundNumber);
          (perRound[driver.name] ??= []).push(result);
        }
      } finally {
        // Topics are deleted only after the round's producers are gone: a kafkajs producer keeps every topic
        // it wrote to in its metadata requests, and fails them once such a topic no longer exists.
        await Promise.allSettled(drivers.map((driver) => driver.close()));
        await house.cleanup();
      }
    }
  } finally {
    profiler.close();
    await admin.disconnect();
  }

  const raw = perRound.raw ? summarize(perRound.raw) : undefined;
  const lib = perRound.messaging ? summarize(perRound.messaging) : undefined;
  const nest = perRound.nest ? summarize(perRound.nest) : undefined;
  const ratioOfMedians = raw && lib ? ratios(raw, lib) : null;
  const nestRatio = raw && nest ? ratios(raw, nest) : null;
  printReport({ raw, messaging: lib, nest }, ratioOfMedians, settings.rounds, nestRatio);

  const report = {
    raw: raw ?? null,
    messaging: lib ?? null,
    nest: nest ?? null,
    /** nest / raw of the medians (the Nest transport's goal: end-to-end ≥ GOAL as well). */
    nestRatio,
    /** messaging / raw of the medians; for latency and CPU per message, above 1 means the lib is slower. */
    ratio: ratioOfMedians,
    goal: {
      threshold: GOAL,
      basis: 'endToEndPerSec',
      met: ratioOfMedians ? (ratioOfMedians.endToEndPerSec ?? 0) >= GOAL : null,
      columns: ratioOfMedians
        ? Object.fromEntries(COLUMNS.map((column) => [column, (ratioOfMedians[column] ?? 0) >= GOAL]))
        : null,
    },
    machine: { ...machine, loadAverageAtEnd: os.loadavg().map((value) => round(value, 2)) },
    settings: {
      messages: settings.messages,
      partitions: settings.partitions,
      messageSize: settings.messageSize,
      payloadBytes,
      key: 'notificationId',
      chunk: settings.chunk,
      warmup: settings.warmup,
      partitionConcurrency: settings.partitionConcurrency,
      perPartitionConcurrency: settings.perPartitionConcurrency ?? 'runner default (1)',
      acks: -1,
      idempotent: true,
      compression: 'none',
      latencyHeader: settings.latency,
      quietWaitSeconds: settings.quietWaitSeconds,
      quietBusyPct: settings.quietBusyPct,
      cpuProfiled: settings.cpuProfDir !== undefined,
      scenarios: settings.scenarios,
      rounds: settings.rounds,
      summary:
        'per-column median over the rounds, leaving out rounds whose phase was noisy when a clean one ' +
        'exists (roundsUsed); every round in raw.rounds / messaging.rounds',
      phases: {
        produce: 'producer alone, topic A; messages / (last chunk acknowledged − first send)',
        consume: 'new group drains topic A; messages / (last − first message received)',
        endToEnd:
          'group joined on fresh topic B, then produce; messages / (last message received − first send); ' +
          'latency = receive time − chunk hand-over time (includes backlog queueing)',
      },
    },
    startedAt,
    timestamp: new Date().toISOString(),
  };
  mkdirSync(path.dirname(settings.out), { recursive: true });
  writeFileSync(settings.out, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`\nwrote ${path.relative(process.cwd(), settings.out) || settings.out}\n`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
