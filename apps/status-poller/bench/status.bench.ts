/**
 * `npm run bench:status`: status checks per second and check lateness (how far behind its due time each check
 * starts) of the status poller for N accepted operations, against the ACS emulator and the real broker. Prints a
 * table and writes bench/results/status.json.
 *
 *   node --conditions=@notifications/source -r @swc-node/register apps/status-poller/bench/status.bench.ts [--count 50000]
 *
 * Set-up: as the sender does, in chunks, the bench has the emulator (apps/acs-emulator/dist, a child process)
 * accept sends with Operation-Id = notification id (signed REST calls) and then publishes the accepted operations
 * as `SendNotificationOperationIdentifier`s on `email.sending.accepted` (lastStatusCheck = now, key = notification
 * id). The emulator's operations succeed `--succeed-after` ms after acceptance, so with the default schedule (first
 * check 2 s after acceptance, the next 4 s later) each operation takes two checks: Running at +2 s (a re-check is
 * published and waits in the 4 s delay tier), Succeeded at +6 s. The poller (apps/status-poller/dist, a child
 * process with default settings and its own topics) runs until every operation has a result on
 * `email.status.updated`.
 *
 * Scenarios (each with fresh topics, a fresh poller and the emulator reset):
 *   burst — accepted as fast as the emulator takes sends (chunks of 500): more checks fall due than the poller can
 *           do, so this measures capacity (checks per second); lateness then is queueing behind the backlog.
 *   paced — accepted at `--rate` per second: a steady load below capacity, so lateness shows the scheduling itself
 *           (delay topics, pause/resume, fetch waits).
 *
 * Lateness comes from the poller's own histogram (`GET /stats`: check start − due, every check). "Result latency"
 * is the result record's timestamp − the accepted time (ideal: 6 s with the defaults).
 *
 * Options (CLI flag or environment variable):
 *   --count N            BENCH_COUNT          default 50000 operations per scenario
 *   --rate N             BENCH_RATE           default 500 accepted per second in the paced scenario (1000 checks/s)
 *   --scenarios a,b      BENCH_SCENARIOS      default burst,paced
 *   --succeed-after MS   BENCH_SUCCEED_AFTER  default 3000 (emulator operation delay)
 *   --partitions N       BENCH_PARTITIONS     default 6 (every topic of the run)
 *   --out PATH           BENCH_OUT            default bench/results/status.json
 * Extra poller settings can be passed as environment variables (e.g. STATUS_CHECK_CONCURRENCY=64).
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { signAcsRequest } from '@notifications/acs';
import { type AcsEmulatorProcess, EMULATOR_ACCESS_KEY, startEmulator } from '../test/support/acs-emulator';
import { startNode, WORKSPACE_ROOT, type RunningChild } from '../test/support/child-process';
import { percentile } from '../test/support/eventually';
import { TestKafka } from '../test/support/kafka';
import { acceptedRecord } from '../test/support/messages';
import { operatorAuth, pollerTopicNames, topicsFor } from '../test/support/status-poller-app';

interface Settings {
  readonly count: number;
  readonly rate: number;
  readonly scenarios: readonly ('burst' | 'paced')[];
  readonly succeedAfterMs: number;
  readonly partitions: number;
  readonly out: string;
}

function readSettings(): Settings {
  const { values } = parseArgs({
    options: {
      count: { type: 'string' },
      rate: { type: 'string' },
      scenarios: { type: 'string' },
      'succeed-after': { type: 'string' },
      partitions: { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(
      `${(readFileSync(__filename, 'utf8').split('*/')[0] ?? '').replace(/^\/\*\*|^ \* ?/gm, '')}\n`,
    );
    process.exit(0);
  }
  const int = (flag: string | undefined, env: string, fallback: number): number => {
    const raw = flag ?? process.env[env];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 0) throw new Error(`${env}: expected a whole number, got ${raw}`);
    return value;
  };
  const scenarios = (values.scenarios ?? process.env['BENCH_SCENARIOS'] ?? 'burst,paced')
    .split(',')
    .map((s) => s.trim());
  for (const scenario of scenarios) {
    if (scenario !== 'burst' && scenario !== 'paced') throw new Error(`unknown scenario ${scenario}`);
  }
  return {
    count: int(values.count, 'BENCH_COUNT', 50_000),
    rate: int(values.rate, 'BENCH_RATE', 500),
    scenarios: scenarios as ('burst' | 'paced')[],
    succeedAfterMs: int(values['succeed-after'], 'BENCH_SUCCEED_AFTER', 3_000),
    partitions: int(values.partitions, 'BENCH_PARTITIONS', 6),
    out: path.resolve(WORKSPACE_ROOT, values.out ?? process.env['BENCH_OUT'] ?? 'bench/results/status.json'),
  };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** CPU seconds (user + system) a process has used so far, from /proc (Linux); undefined elsewhere. */
function cpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? ticks / 100 : undefined;
  } catch {
    return undefined;
  }
}

/** The local broker's pid (libs/dev-infra writes it), to account for its CPU. */
function readBrokerPid(): number | undefined {
  try {
    const info = JSON.parse(readFileSync(path.join(WORKSPACE_ROOT, '.infra/kafka/broker.json'), 'utf8')) as {
      pid?: unknown;
    };
    return typeof info.pid === 'number' ? info.pid : undefined;
  } catch {
    return undefined;
  }
}

/** Busy and total CPU ticks of the whole machine (/proc/stat), or undefined off Linux. */
function machineCpu(): { busy: number; total: number } | undefined {
  try {
    const fields = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '')
      .trim()
      .split(/\s+/)
      .slice(1)
      .map(Number);
    const total = fields.reduce((sum, value) => sum + value, 0);
    const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
    return { busy: total - idle, total };
  } catch {
    return undefined;
  }
}

/** Creates the operations in the emulator: signed `POST /emails:send` with Operation-Id, over keep-alive. */
async function createOperations(emulatorUrl: string, ids: readonly string[]): Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const send = (id: string): Promise<void> => {
    const url = new URL('/emails:send?api-version=2025-09-01', emulatorUrl);
    const body = JSON.stringify({
      senderAddress: 'noreply@notifications.test',
      content: { subject: 'bench', plainText: 'bench' },
      recipients: { to: [{ address: `${id}@bench.test` }] },
    });
    return new Promise((resolve, reject) => {
      const request = http.request(
        url,
        {
          method: 'POST',
          agent,
          headers: {
            ...signAcsRequest(EMULATOR_ACCESS_KEY, 'POST', url, body),
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
            'operation-id': id,
          },
        },
        (response) => {
          response.resume();
          response.on('end', () =>
            response.statusCode === 202
              ? resolve()
              : reject(new Error(`send ${id}: HTTP ${response.statusCode}`)),
          );
        },
      );
      request.on('error', reject);
      request.end(body);
    });
  };
  const queue = [...ids];
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      for (let id = queue.shift(); id !== undefined; id = queue.shift()) await send(id);
    }),
  );
  agent.destroy();
}

interface PollerStats {
  polling: {
    checks: number;
    waits: Record<string, number>;
    held: number;
    results: Record<string, number>;
    stillRunning: number;
    transientErrors: number;
    lateness: {
      count: number;
      early: number;
      p50Ms: number;
      p90Ms: number;
      p99Ms: number;
      maxMs: number;
      meanMs: number;
    };
  };
  consumer: { deadLettered: number; retried: number };
}

interface ScenarioResult {
  readonly scenario: string;
  readonly operations: number;
  readonly acceptedPerSec: number;
  readonly checks: number;
  readonly seconds: number;
  readonly checksPerSec: number;
  readonly resultsPerSec: number;
  readonly latenessMs: PollerStats['polling']['lateness'];
  readonly resultLatencySeconds: { p50: number; p99: number; max: number };
  readonly duplicates: number;
  readonly waits: Record<string, number>;
  readonly heldInProcess: number;
  readonly transientErrors: number;
  readonly deadLettered: number;
  /** CPU used during the measured phase (all on the same 2 cores). */
  readonly cpuSeconds: { poller?: number; emulator?: number; broker?: number; bench: number };
  /** Share of the machine's CPU time that was busy during the phase. */
  readonly machineBusyPct?: number;
  /** Machine busy % in the second before the poller started (after waiting up to 2 min for ≤ 15 %). */
  readonly busyBeforePct?: number;
  /** CPU seconds used by other processes during the phase; `noisy` when that exceeds a tenth of a core. */
  readonly otherCpuSeconds?: number;
  readonly noisy?: boolean;
}

/**
 * Other sessions' builds and tests share this machine's two cores; wait (up to `maxWaitMs`) for a one-second sample
 * with at most `maxBusyPct` busy before a scenario, as the Kafka benchmark does. Returns the last sample.
 */
async function waitForQuietMachine(maxWaitMs = 120_000, maxBusyPct = 15): Promise<number | undefined> {
  const deadline = Date.now() + maxWaitMs;
  let busyPct: number | undefined;
  do {
    const before = machineCpu();
    await sleep(1_000);
    const after = machineCpu();
    if (!before || !after) return undefined;
    busyPct = Math.round((100 * (after.busy - before.busy)) / Math.max(1, after.total - before.total));
    if (busyPct <= maxBusyPct) return busyPct;
  } while (Date.now() < deadline);
  return busyPct;
}

async function runScenario(
  settings: Settings,
  scenario: 'burst' | 'paced',
  emulator: AcsEmulatorProcess,
  emulatorPid: number | undefined,
): Promise<ScenarioResult> {
  const { count } = settings;
  const suffix = `bench-${scenario}-${randomUUID().slice(0, 8)}`;
  const env = {
    KAFKA_TOPIC_SUFFIX: suffix,
    ACS_CONNECTION_STRING: emulator.connectionString(),
    KAFKA_TOPIC_PARTITIONS: String(settings.partitions),
    KAFKA_TOPIC_RETENTION_MS: '1h',
    LOG_LEVEL: process.env['BENCH_POLLER_LOG'] ? 'log' : 'warn',
    PORT: '0',
    HOST: '127.0.0.1',
    ...operatorAuth.env,
  };
  const topics = topicsFor(env);
  const kafka = new TestKafka();
  let poller: RunningChild | undefined;
  try {
    await fetch(new URL('/admin/reset', emulator.url), { method: 'POST' });
    const ids = Array.from({ length: count }, () => randomUUID());

    await kafka.prepareTopics(pollerTopicNames(topics), settings.partitions);
    const busyBeforePct = await waitForQuietMachine();
    poller = startNode('apps/status-poller/dist/main.js', env);
    // `/stats` is on the management listener, for operator tokens.
    const url = await poller.waitForLine(/status-poller management on (http:\/\/\S+)/, 60_000);
    const stats = async (): Promise<PollerStats> =>
      (await (await fetch(`${url}/stats`, { headers: operatorAuth.headers() })).json()) as PollerStats;
    const records = await kafka.read([topics.emailStatusUpdated.name], suffix);
    const pollerPid = poller.process.pid;
    const brokerPid = readBrokerPid();
    const cpuBefore = {
      poller: cpuSeconds(pollerPid),
      emulator: cpuSeconds(emulatorPid),
      broker: cpuSeconds(brokerPid),
      bench: process.cpuUsage(),
      machine: machineCpu(),
      at: Date.now(),
    };

    const acceptedAt = new Map<string, number>();
    const start = Date.now();
    process.stdout.write(
      `[${scenario}] publishing ${count} accepted operations${scenario === 'paced' ? ` at ${settings.rate}/s` : ''}…\n`,
    );
    const chunk = scenario === 'burst' ? 500 : Math.max(1, Math.round(settings.rate / 10));
    for (let offset = 0; offset < count; offset += chunk) {
      if (scenario === 'paced') {
        const target = start + (offset / settings.rate) * 1000;
        if (target > Date.now()) await sleep(target - Date.now());
      }
      const slice = ids.slice(offset, offset + chunk);
      // As the sender does: ACS accepts the send, then the accepted operation is published.
      await createOperations(emulator.url, slice);
      const now = Date.now();
      for (const id of slice) acceptedAt.set(id, now);
      await kafka.publish(
        topics.emailSendingAccepted.name,
        slice.map((id) => acceptedRecord(id, now)),
      );
    }
    const published = Date.now();

    const seen = new Set<string>();
    let lastProgress = Date.now();
    let lastSeen = 0;
    for (;;) {
      for (const record of records.slice(lastSeen)) {
        const value = JSON.parse(record.value) as { notificationId?: string };
        if (value.notificationId) seen.add(value.notificationId);
      }
      lastSeen = records.length;
      if (seen.size >= count) break;
      if (records.length > 0 && Date.now() - lastProgress > 10_000) {
        const s = await stats();
        process.stdout.write(`[${scenario}] ${seen.size}/${count} results, ${s.polling.checks} checks\n`);
        lastProgress = Date.now();
      }
      if (Date.now() - start > 60_000 + count * 20)
        throw new Error(`only ${seen.size} of ${count} results arrived`);
      await sleep(200);
    }
    const final = await stats();
    const cpuAfter = {
      poller: cpuSeconds(pollerPid),
      emulator: cpuSeconds(emulatorPid),
      broker: cpuSeconds(brokerPid),
      bench: process.cpuUsage(cpuBefore.bench),
      machine: machineCpu(),
      at: Date.now(),
    };
    const lastResult = Math.max(...records.map((r) => r.timestamp));
    // The clock runs from the first check's due time (first accepted + 2 s) to the last result.
    const firstDue = start + 2_000;
    const seconds = (lastResult - firstDue) / 1000;
    const latencies = records.map((r) => {
      const { notificationId } = JSON.parse(r.value) as { notificationId: string };
      return (r.timestamp - (acceptedAt.get(notificationId) ?? r.timestamp)) / 1000;
    });
    const cpu = (key: 'poller' | 'emulator' | 'broker'): number | undefined => {
      const before = cpuBefore[key];
      const after = cpuAfter[key];
      return before === undefined || after === undefined ? undefined : Math.round((after - before) * 10) / 10;
    };
    const pollerCpu = cpu('poller');
    const emulatorCpu = cpu('emulator');
    const brokerCpu = cpu('broker');
    const machineBusyPct =
      cpuBefore.machine && cpuAfter.machine
        ? Math.round(
            (100 * (cpuAfter.machine.busy - cpuBefore.machine.busy)) /
              Math.max(1, cpuAfter.machine.total - cpuBefore.machine.total),
          )
        : undefined;
    // CPU the machine spent on anything but this benchmark's processes (other sessions' work).
    const machineBusySeconds =
      cpuBefore.machine && cpuAfter.machine
        ? (cpuAfter.machine.busy - cpuBefore.machine.busy) / 100
        : undefined;
    const ours =
      (pollerCpu ?? 0) +
      (emulatorCpu ?? 0) +
      (brokerCpu ?? 0) +
      (cpuAfter.bench.user + cpuAfter.bench.system) / 1e6;
    const otherCpu =
      machineBusySeconds === undefined
        ? undefined
        : Math.max(0, Math.round((machineBusySeconds - ours) * 10) / 10);
    return {
      scenario,
      operations: count,
      acceptedPerSec: Math.round((count * 1000) / Math.max(1, published - start)),
      checks: final.polling.checks,
      seconds: Math.round(seconds * 10) / 10,
      checksPerSec: Math.round(final.polling.checks / seconds),
      resultsPerSec: Math.round(count / seconds),
      latenessMs: final.polling.lateness,
      resultLatencySeconds: {
        p50: Math.round(percentile(latencies, 50) * 100) / 100,
        p99: Math.round(percentile(latencies, 99) * 100) / 100,
        max: Math.round(Math.max(...latencies) * 100) / 100,
      },
      duplicates: records.length - count,
      waits: final.polling.waits,
      heldInProcess: final.polling.held,
      transientErrors: final.polling.transientErrors,
      deadLettered: final.consumer.deadLettered,
      cpuSeconds: {
        ...(pollerCpu === undefined ? {} : { poller: pollerCpu }),
        ...(emulatorCpu === undefined ? {} : { emulator: emulatorCpu }),
        ...(brokerCpu === undefined ? {} : { broker: brokerCpu }),
        bench: Math.round((cpuAfter.bench.user + cpuAfter.bench.system) / 100_000) / 10,
      },
      ...(machineBusyPct === undefined ? {} : { machineBusyPct }),
      ...(busyBeforePct === undefined ? {} : { busyBeforePct }),
      ...(otherCpu === undefined
        ? {}
        : { otherCpuSeconds: otherCpu, noisy: otherCpu / ((cpuAfter.at - cpuBefore.at) / 1000) > 0.1 }),
    };
  } finally {
    await poller?.stop();
    const logFile = process.env['BENCH_POLLER_LOG'];
    if (logFile && poller) {
      writeFileSync(`${logFile}.${scenario}.log`, poller.output());
      console.log(await kafka.messageCounts(suffix));
    }
    await kafka.deleteTopics(suffix);
    await kafka.close();
  }
}

function table(results: readonly ScenarioResult[]): string {
  const header = [
    'scenario',
    'operations',
    'accepted/s',
    'checks',
    'seconds',
    'checks/s',
    'lateness p50 / p90 / p99 / max (ms)',
    'result latency p50 / p99 (s)',
    'duplicates',
    'CPU s: poller / emulator / broker / bench',
    'machine busy (others)',
  ];
  const rows = results.map((r) => [
    r.scenario,
    String(r.operations),
    String(r.acceptedPerSec),
    String(r.checks),
    String(r.seconds),
    String(r.checksPerSec),
    `${r.latenessMs.p50Ms} / ${r.latenessMs.p90Ms} / ${r.latenessMs.p99Ms} / ${r.latenessMs.maxMs}`,
    `${r.resultLatencySeconds.p50} / ${r.resultLatencySeconds.p99}`,
    String(r.duplicates),
    `${r.cpuSeconds.poller ?? '–'} / ${r.cpuSeconds.emulator ?? '–'} / ${r.cpuSeconds.broker ?? '–'} / ${r.cpuSeconds.bench}`,
    r.machineBusyPct === undefined
      ? '–'
      : `${r.machineBusyPct} % (${r.otherCpuSeconds ?? '?'} s${r.noisy ? ', noisy' : ''})`,
  ]);
  const line = (cells: string[]): string => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

async function main(): Promise<void> {
  const settings = readSettings();
  const emulator = await startEmulator({
    ACS_OPERATION_DELAY_MS: `${settings.succeedAfterMs}ms`,
    ACS_BUILT_IN_RULES: 'false',
    ACS_STORED_BODY_CHARS: '0',
    ACS_MAX_MESSAGES: String(settings.count + 1_000),
    LOG_LEVEL: 'warn',
  });
  const emulatorPid = emulator.pid;
  const results: ScenarioResult[] = [];
  try {
    for (const scenario of settings.scenarios)
      results.push(await runScenario(settings, scenario, emulator, emulatorPid));
  } finally {
    await emulator.stop();
  }
  const report = {
    benchmark: 'status-poller',
    at: new Date().toISOString(),
    machine: {
      cpus: os.cpus().length,
      model: os.cpus()[0]?.model,
      memoryGb: Math.round(os.totalmem() / 2 ** 30),
    },
    node: process.version,
    settings: { ...settings, out: path.relative(WORKSPACE_ROOT, settings.out) },
    pollerDefaults: 'first check 2 s after acceptance, ×2 up to 60 s; 3 partitions × 32 checks in flight',
    results,
  };
  mkdirSync(path.dirname(settings.out), { recursive: true });
  writeFileSync(settings.out, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`\n${table(results)}\n\nWrote ${path.relative(WORKSPACE_ROOT, settings.out)}\n`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
