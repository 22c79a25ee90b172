/**
 * `npm run bench:email`: emails per second through email-sender against the ACS emulator, and the time from
 * consuming an Email to the broker's ack of its SendNotificationOperationIdentifier. Prints a table and writes
 * bench/results/email.json.
 *
 *   node --conditions=@notifications/source -r @swc-node/register apps/email-sender/bench/email.bench.ts \
 *     [--emails 50000] [--latencies 0,50] [--concurrency 16]
 *
 * Per scenario (one per emulator latency), everything fresh: an emulator process (built-in rules off; with a
 * catch-all rule adding `responseDelayMs` = the latency to every send), throw-away topics, and email-sender as
 * its own process (the same wiring as main.ts, default settings unless given below). A warm-up batch goes through
 * first (JIT, connections, group join), then the sender's counters are reset (`DELETE /stats`) and N emails are
 * published as fast as the producer goes (keyed by notification id, ~300-byte bodies) while the sender drains them.
 *
 *   emails/s            N / (first publish → N-th identifier seen on email.sending.accepted)
 *   consume → accepted  from the sender's `GET /stats` (handler start → broker ack of the identifier; histogram
 *                       with ~4 % buckets), so it excludes the time an email waited in the topic
 *
 * Afterwards the emulator must hold exactly N (+ warm-up) messages and report no notification sent twice.
 *
 * Options (CLI flag or environment variable):
 *   --emails N          BENCH_EMAILS          default 50000
 *   --latencies MS,…    BENCH_LATENCIES_MS    default 0,50 (emulator response delay per send)
 *   --concurrency N     BENCH_CONCURRENCY     default: the sender's default (EMAIL_SEND_CONCURRENCY = 16)
 *   --partitions N      BENCH_PARTITIONS      default 6 (the production default, KAFKA_TOPIC_PARTITIONS)
 *   --warmup N          BENCH_WARMUP          default 500
 *   --out PATH          BENCH_OUT             default bench/results/email.json
 *   --brokers h:p,…     KAFKA_BROKERS         default 127.0.0.1:9092
 *
 * CPU seconds of the sender, the emulator and the broker (from /proc) are recorded per scenario: on a 2-core
 * machine the three share the cores, which is usually what bounds the zero-latency number.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  loadOrCreateDevKey,
  OPERATOR_SCOPE,
  DEFAULT_DEV_KEY_FILE,
  signDevToken,
} from '@notifications/config';
import { EmailContract, allTopicNames, topicCatalog, type Email } from '@notifications/contracts';
import { Kafka, logLevel, type Admin, type Consumer, type Producer } from 'kafkajs';

process.env['KAFKAJS_NO_PARTITIONER_WARNING'] ??= '1';

const WORKSPACE_ROOT = path.resolve(__dirname, '..', '..', '..');
const APP_ROOT = path.resolve(__dirname, '..');
const EMULATOR_MAIN = path.join(WORKSPACE_ROOT, 'apps', 'acs-emulator', 'dist', 'main.js');
const SENDER_PROCESS = path.join(APP_ROOT, 'test', 'fixtures', 'sender-process.ts');
const EMULATOR_ACCESS_KEY = 'YWNzLWVtdWxhdG9yLWRldmVsb3BtZW50LWFjY2Vzcy1rZXktbm90LWEtc2VjcmV0';
const TOPIC_PREFIX = 'altinn.notifications.bench.email';
/** Fail instead of hanging when no identifier arrives for this long. */
const STALL_TIMEOUT_MS = 120_000;
const PRODUCE_CHUNK = 1_000;

interface Settings {
  readonly emails: number;
  readonly latenciesMs: readonly number[];
  readonly concurrency: number | undefined;
  readonly partitions: number;
  readonly warmup: number;
  readonly out: string;
  readonly brokers: readonly string[];
}

interface Cpu {
  readonly senderSeconds: number;
  readonly emulatorSeconds: number;
  readonly brokerSeconds: number | null;
  readonly benchSeconds: number;
}

interface ScenarioResult {
  readonly latencyMs: number;
  readonly emails: number;
  readonly seconds: number;
  readonly emailsPerSecond: number;
  readonly consumeToAcceptedMs: {
    p50: number | null;
    p90: number | null;
    p99: number | null;
    max: number | null;
  };
  readonly emulator: { messages: number; notificationsSentMoreThanOnce: number; sendRequests: number };
  readonly sender: { accepted: number; retryScheduled: number; gaveUp: number; rejected: number };
  readonly cpu: Cpu;
  /** 1-minute load average just before measuring: others share this machine, and it shows. */
  readonly loadAverageBefore: number;
}

function readSettings(): Settings {
  const { values } = parseArgs({
    options: {
      emails: { type: 'string' },
      latencies: { type: 'string' },
      concurrency: { type: 'string' },
      partitions: { type: 'string' },
      warmup: { type: 'string' },
      out: { type: 'string' },
      brokers: { type: 'string' },
    },
    allowPositionals: false,
  });
  const int = (text: string | undefined, fallback: number, what: string): number => {
    if (text === undefined || text === '') return fallback;
    const value = Number(text);
    if (!Number.isSafeInteger(value) || value < 0)
      throw new Error(`${what}: expected a whole number, got ${text}`);
    return value;
  };
  const latencies = (values.latencies ?? process.env['BENCH_LATENCIES_MS'] ?? '0,50')
    .split(',')
    .map((item) => int(item.trim(), 0, 'latencies'));
  const concurrency = values.concurrency ?? process.env['BENCH_CONCURRENCY'];
  return {
    emails: int(values.emails ?? process.env['BENCH_EMAILS'], 50_000, 'emails'),
    latenciesMs: latencies,
    concurrency: concurrency === undefined ? undefined : int(concurrency, 16, 'concurrency'),
    partitions: int(values.partitions ?? process.env['BENCH_PARTITIONS'], 6, 'partitions'),
    warmup: int(values.warmup ?? process.env['BENCH_WARMUP'], 500, 'warmup'),
    out: path.resolve(WORKSPACE_ROOT, values.out ?? process.env['BENCH_OUT'] ?? 'bench/results/email.json'),
    brokers: (values.brokers ?? process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092')
      .split(',')
      .map((b) => b.trim()),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Processes

interface Started {
  readonly child: ChildProcess;
  readonly url: string;
  readonly output: () => string;
}

function startProcess(args: string[], env: NodeJS.ProcessEnv, ready: RegExp, what: string): Promise<Started> {
  const child = spawn(process.execPath, args, {
    cwd: WORKSPACE_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const collect = (chunk: Buffer): void => {
    output += chunk.toString();
    // Keep the tail only: a long run must not grow this without bound.
    if (output.length > 100_000) output = output.slice(-50_000);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${what} did not start within 60 s:\n${output}`)),
      60_000,
    );
    child.stdout?.on('data', () => {
      const match = ready.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve({ child, url: match[1].replace(/\/$/, ''), output: () => output });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited (${code}) before it was ready:\n${output}`));
    });
  });
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

/** utime + stime of a process in seconds (Linux /proc), or null when unreadable. */
function cpuSecondsOf(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

function brokerPid(): number | undefined {
  const file = path.join(WORKSPACE_ROOT, '.infra', 'kafka', 'broker.json');
  if (!existsSync(file)) return undefined;
  try {
    return (JSON.parse(readFileSync(file, 'utf8')) as { pid?: number }).pid;
  } catch {
    return undefined;
  }
}

// The sender runs on its development defaults, so it trusts operator tokens of the development key.
const operatorToken = signDevToken(loadOrCreateDevKey(DEFAULT_DEV_KEY_FILE), {
  scopes: [OPERATOR_SCOPE],
  lifetimeMs: 24 * 3_600_000,
});

async function http<T>(method: string, url: string, body?: unknown, token?: string): Promise<T> {
  const response = await fetch(url, {
    method,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${url} → ${response.status}: ${text}`);
  return (text === '' ? undefined : JSON.parse(text)) as T;
}

// ---------------------------------------------------------------------------------------------------------
// Kafka

interface BenchTopics {
  /** The run's KAFKA_TOPIC_SUFFIX: the sender process derives every topic name from it. */
  readonly suffix: string;
  readonly emailQueue: string;
  readonly emailSendingAccepted: string;
  readonly emailStatusUpdated: string;
  readonly platformServiceUpdated: string;
  readonly emailHealthCheck: string;
}

function benchTopics(): BenchTopics {
  const suffix = `bench-email-${randomUUID().slice(0, 8)}`;
  const catalog = topicCatalog(suffix);
  return {
    suffix,
    emailQueue: catalog.emailQueue.name,
    emailSendingAccepted: catalog.emailSendingAccepted.name,
    emailStatusUpdated: catalog.emailStatusUpdated.name,
    platformServiceUpdated: catalog.platformServiceUpdated.name,
    emailHealthCheck: catalog.emailHealthCheck.name,
  };
}

function allNames(topics: BenchTopics): string[] {
  const catalog = topicCatalog(topics.suffix);
  return allTopicNames([
    catalog.emailQueue,
    catalog.emailSendingAccepted,
    catalog.emailStatusUpdated,
    catalog.platformServiceUpdated,
    catalog.emailHealthCheck,
  ]);
}

/** Counts identifiers on the accepted topic as they arrive. */
class AcceptedCounter {
  count = 0;
  lastAt = 0;
  private readonly consumer: Consumer;
  readonly groupId = `${TOPIC_PREFIX}.reader.${randomUUID().slice(0, 8)}`;

  constructor(kafka: Kafka) {
    this.consumer = kafka.consumer({
      groupId: this.groupId,
      maxWaitTimeInMs: 50,
    });
  }

  async start(topic: string): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [topic], fromBeginning: true });
    await this.consumer.run({
      eachBatch: async ({ batch }) => {
        this.count += batch.messages.length;
        this.lastAt = performance.now();
      },
    });
  }

  async waitFor(target: number): Promise<void> {
    let seen = this.count;
    let progressAt = performance.now();
    while (this.count < target) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      if (this.count !== seen) {
        seen = this.count;
        progressAt = performance.now();
      } else if (performance.now() - progressAt > STALL_TIMEOUT_MS) {
        throw new Error(`stalled at ${this.count}/${target} identifiers`);
      }
    }
  }

  stop(): Promise<void> {
    return this.consumer.disconnect();
  }
}

function makeEmails(count: number, label: string): Email[] {
  return Array.from({ length: count }, (_, index) => {
    const notificationId = randomUUID();
    return {
      notificationId,
      subject: `Your tax return for 2025 is ready (${label} ${index})`,
      body:
        'Hello, your tax return for 2025 is ready for review. Log in to see the details, correct anything that ' +
        'is wrong and submit it before the deadline. This message was sent by the notification benchmark and ' +
        `belongs to run ${label}, email number ${index}.`,
      fromAddress: 'noreply@altinn.cloud',
      toAddress: `bench-${notificationId.slice(0, 8)}@example.com`,
      contentType: 'Plain',
    };
  });
}

async function publish(producer: Producer, topic: string, emails: readonly Email[]): Promise<void> {
  for (let start = 0; start < emails.length; start += PRODUCE_CHUNK) {
    await producer.send({
      topic,
      acks: -1,
      messages: emails.slice(start, start + PRODUCE_CHUNK).map((email) => ({
        key: email.notificationId,
        value: EmailContract.serialize(email),
      })),
    });
  }
}

// ---------------------------------------------------------------------------------------------------------
// One scenario

interface SenderStats {
  sending: {
    outcomes: Record<string, number>;
    consumeToAccepted: {
      count: number;
      p50Ms: number | null;
      p90Ms: number | null;
      p99Ms: number | null;
      maxMs: number | null;
    };
  };
}

interface EmulatorStats {
  messages: number;
  notificationsSentMoreThanOnce: number;
  requests: { send: { total: number } };
}

async function runScenario(
  settings: Settings,
  latencyMs: number,
  kafka: Kafka,
  admin: Admin,
): Promise<ScenarioResult> {
  const label = `latency ${latencyMs} ms`;
  const topics = benchTopics();
  const names = allNames(topics);
  let emulator: Started | undefined;
  let sender: Started | undefined;
  const counter = new AcceptedCounter(kafka);
  const senderGroup = `${TOPIC_PREFIX}.sender.${randomUUID().slice(0, 8)}`;
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
  });
  try {
    emulator = await startProcess(
      [EMULATOR_MAIN],
      {
        ...process.env,
        PORT: '0',
        HOST: '127.0.0.1',
        NO_COLOR: '1',
        ACS_BUILT_IN_RULES: 'false',
        ACS_STORED_BODY_CHARS: '0',
        ACS_MAX_MESSAGES: String(settings.emails + settings.warmup + 1_000),
      },
      /ACS emulator listening on (http:\/\/\S+)/,
      'ACS emulator',
    );
    if (latencyMs > 0) {
      await http('POST', `${emulator.url}/admin/rules`, {
        id: 'bench-latency',
        match: '*',
        behaviour: { type: 'succeed', responseDelayMs: latencyMs },
      });
    }

    await admin.createTopics({
      waitForLeaders: true,
      topics: names.map((topic) => ({ topic, numPartitions: settings.partitions, replicationFactor: 1 })),
    });

    sender = await startProcess(
      [
        '--conditions=@notifications/source',
        '-r',
        '@swc-node/register',
        SENDER_PROCESS,
        topics.suffix,
        senderGroup,
      ],
      {
        ...process.env,
        SWC_NODE_PROJECT: path.join(APP_ROOT, 'tsconfig.spec.json'),
        KAFKA_BROKERS: settings.brokers.join(','),
        KAFKA_TOPIC_PARTITIONS: String(settings.partitions),
        PORT: '0',
        HOST: '127.0.0.1',
        LOG_LEVEL: 'warn',
        ACS_CONNECTION_STRING: `endpoint=${emulator.url}/;accesskey=${EMULATOR_ACCESS_KEY}`,
        ...(settings.concurrency === undefined
          ? {}
          : { EMAIL_SEND_CONCURRENCY: String(settings.concurrency) }),
      },
      // The management listener: `/stats` lives there (operator token of the development key).
      /management (http:\/\/\S+)/,
      'email-sender',
    );

    await producer.connect();
    await counter.start(topics.emailSendingAccepted);

    // Warm-up: JIT, keep-alive connections, the group's first assignment.
    process.stdout.write(`[${label}] warm-up: ${settings.warmup} emails\n`);
    await publish(producer, topics.emailQueue, makeEmails(settings.warmup, 'warm-up'));
    await counter.waitFor(settings.warmup);
    await http('DELETE', `${sender.url}/stats`, undefined, operatorToken);

    const emails = makeEmails(settings.emails, label);
    const target = settings.warmup + settings.emails;
    const cpuBefore = {
      sender: cpuSecondsOf(sender.child.pid) ?? 0,
      emulator: cpuSecondsOf(emulator.child.pid) ?? 0,
      broker: cpuSecondsOf(brokerPid()),
      bench: process.cpuUsage(),
    };
    const loadAverageBefore = round(os.loadavg()[0] ?? 0);
    process.stdout.write(
      `[${label}] measuring: ${settings.emails} emails (load average ${loadAverageBefore})\n`,
    );
    const startedAt = performance.now();
    const progress = setInterval(() => {
      const done = counter.count - settings.warmup;
      const seconds = (performance.now() - startedAt) / 1_000;
      process.stdout.write(
        `[${label}] ${done}/${settings.emails} accepted, ${(done / seconds).toFixed(0)}/s\n`,
      );
    }, 10_000);
    try {
      await publish(producer, topics.emailQueue, emails);
      await counter.waitFor(target);
    } finally {
      clearInterval(progress);
    }
    const seconds = (counter.lastAt - startedAt) / 1_000;
    const benchCpu = process.cpuUsage(cpuBefore.bench);
    const brokerAfter = cpuSecondsOf(brokerPid());
    const cpu: Cpu = {
      senderSeconds: round((cpuSecondsOf(sender.child.pid) ?? 0) - cpuBefore.sender),
      emulatorSeconds: round((cpuSecondsOf(emulator.child.pid) ?? 0) - cpuBefore.emulator),
      brokerSeconds:
        brokerAfter === null || cpuBefore.broker === null ? null : round(brokerAfter - cpuBefore.broker),
      benchSeconds: round((benchCpu.user + benchCpu.system) / 1e6),
    };

    const senderStats = await http<SenderStats>('GET', `${sender.url}/stats`, undefined, operatorToken);
    const emulatorStats = await http<EmulatorStats>('GET', `${emulator.url}/admin/stats`);
    if (emulatorStats.messages !== target) {
      throw new Error(`the emulator holds ${emulatorStats.messages} messages, expected ${target}`);
    }
    if (emulatorStats.notificationsSentMoreThanOnce !== 0) {
      throw new Error(
        `${emulatorStats.notificationsSentMoreThanOnce} notifications were sent more than once`,
      );
    }
    const latency = senderStats.sending.consumeToAccepted;
    const outcomes = senderStats.sending.outcomes;
    return {
      latencyMs,
      emails: settings.emails,
      seconds: round(seconds),
      emailsPerSecond: Math.round(settings.emails / seconds),
      consumeToAcceptedMs: { p50: latency.p50Ms, p90: latency.p90Ms, p99: latency.p99Ms, max: latency.maxMs },
      emulator: {
        messages: emulatorStats.messages,
        notificationsSentMoreThanOnce: emulatorStats.notificationsSentMoreThanOnce,
        sendRequests: emulatorStats.requests.send.total,
      },
      sender: {
        accepted: outcomes['accepted'] ?? 0,
        retryScheduled: outcomes['retryScheduled'] ?? 0,
        gaveUp: outcomes['gaveUp'] ?? 0,
        rejected: outcomes['rejected'] ?? 0,
      },
      cpu,
      loadAverageBefore,
    };
  } finally {
    await counter.stop().catch(() => undefined);
    await producer.disconnect().catch(() => undefined);
    if (sender) await stopProcess(sender.child);
    if (emulator) await stopProcess(emulator.child);
    await admin.deleteTopics({ topics: names }).catch(() => undefined);
    await deleteGroups(admin, [senderGroup, counter.groupId]);
  }
}

/** Best effort: a group is deletable only once its last member has left, which may take a moment. */
async function deleteGroups(admin: Admin, groupIds: readonly string[]): Promise<void> {
  for (const groupId of groupIds) {
    for (let attempt = 0; attempt < 10; attempt += 1) {
      const deleted = await admin.deleteGroups([groupId]).then(
        () => true,
        () => false,
      );
      if (deleted) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

function table(results: readonly ScenarioResult[]): string {
  const header = [
    'emulator latency',
    'emails',
    'seconds',
    'emails/s',
    'consume→accepted p50',
    'p99',
    'CPU s sender / emulator / broker',
    'load before',
  ];
  const ms = (value: number | null): string => (value === null ? '–' : `${value} ms`);
  const rows = results.map((r) => [
    `${r.latencyMs} ms`,
    String(r.emails),
    r.seconds.toFixed(1),
    String(r.emailsPerSecond),
    ms(r.consumeToAcceptedMs.p50),
    ms(r.consumeToAcceptedMs.p99),
    `${r.cpu.senderSeconds} / ${r.cpu.emulatorSeconds} / ${r.cpu.brokerSeconds ?? '–'}`,
    String(r.loadAverageBefore),
  ]);
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: readonly string[]): string =>
    `| ${cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join(' | ')} |`;
  return [
    line(header),
    `|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`,
    ...rows.map(line),
  ].join('\n');
}

async function main(): Promise<void> {
  const settings = readSettings();
  if (!existsSync(EMULATOR_MAIN)) {
    throw new Error(`${EMULATOR_MAIN} is missing: build it first (scripts/run nx build acs-emulator)`);
  }
  const kafka = new Kafka({
    clientId: 'bench-email',
    brokers: [...settings.brokers],
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  await admin.connect();
  const results: ScenarioResult[] = [];
  try {
    for (const latencyMs of settings.latenciesMs)
      results.push(await runScenario(settings, latencyMs, kafka, admin));
  } finally {
    await admin.disconnect();
  }
  const report = {
    measuredAt: new Date().toISOString(),
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model ?? 'unknown', node: process.version },
    settings: {
      emails: settings.emails,
      warmup: settings.warmup,
      partitions: settings.partitions,
      sendConcurrency: settings.concurrency ?? 'default (16)',
    },
    scenarios: results,
  };
  mkdirSync(path.dirname(settings.out), { recursive: true });
  writeFileSync(settings.out, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`\n${table(results)}\n\nwritten to ${path.relative(WORKSPACE_ROOT, settings.out)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
