/**
 * `npm run bench`: the headline benchmark — the whole pipeline (ACS emulator, orders, email-sender,
 * status-poller as their built processes, the local broker and PostgreSQL, all on this machine) from a large
 * order to every notification final. Prints tables, writes bench/results/pipeline.json and a chart
 * (bench/results/pipeline.svg).
 *
 *   node --conditions=@notifications/source -r @swc-node/register apps/pipeline-e2e/bench/pipeline.bench.ts \
 *     [--recipients 100000] [--steady-rate 300] [--steady-seconds 60] [--skip-baseline] …
 *   (SWC_NODE_PROJECT=apps/pipeline-e2e/tsconfig.spec.json SWC_NODE_IGNORE_DYNAMIC=1, as the Nx target sets)
 *
 * Phases, on one pipeline started with the apps' production defaults (plus any --set):
 *   baseline  `bench:kafka` (libs/messaging/bench) with --rounds 1 --scenarios raw, as its own process before the
 *             pipeline starts: plain kafkajs end-to-end msg/s on this machine now, the ceiling to compare with.
 *   warm-up   one order of --warmup recipients, until final (JIT, connections, consumer groups).
 *   bulk      --recipients recipients in orders of at most --order-size (orders' limit is 100 000), posted at
 *             once. Sampled every second from the database (notifications by result) until every notification
 *             is final. Afterwards, per second, from exact timestamps: emails accepted by ACS (the emulator's
 *             `receivedAt`) and notifications reaching a final result (`result_time`).
 *               throughput          recipients / (last order accepted (202) → last notification final)
 *               all accepted        → the last email recorded by the emulator
 *               all Succeeded+      → every notification past Sending (1 s sampling resolution)
 *               all final           → the last final result (the emulator's delivery reports make them Delivered)
 *             Then the checks: every notification final, and exactly one emulator message per notification id
 *             (none lost, none doubled). A run that fails them exits non-zero: a benchmark that lost mail is not
 *             a result.
 *   steady    orders of --steady-order-size recipients, requestedSendTime = now, posted on a fixed schedule for
 *             --steady-seconds so that --steady-rate notifications/s flow. Latency per notification = the
 *             emulator's receivedAt − the order's requestedSendTime, p50/p95/p99/max, split into stages from the
 *             database's timestamps (the scheduler's claim, the outbox relay, the pastdue consumer, the email
 *             claim, Kafka + email-sender).
 * Each phase records CPU seconds and peak RSS per process (/proc: the four apps, the broker JVM, this run's
 * PostgreSQL backends, this process) and the machine's other load; a phase during which other processes used
 * more than a tenth of a core is flagged noisy (others share this machine).
 *
 * Options (CLI flag, or environment variable):
 *   --recipients N          BENCH_RECIPIENTS          default 100000 (500000 = the reference's largest batches)
 *   --order-size N          BENCH_ORDER_SIZE          default 100000 recipients per bulk order
 *   --warmup N              BENCH_WARMUP              default 500 recipients
 *   --steady-rate N         BENCH_STEADY_RATE         default 300 notifications/s
 *   --steady-seconds N      BENCH_STEADY_SECONDS      default 60 (0 = no steady phase)
 *   --steady-order-size N   BENCH_STEADY_ORDER_SIZE   default 50 recipients per order
 *   --partitions N          BENCH_PARTITIONS          default 6 (every topic)
 *   --set app.KEY=VALUE     (repeatable)              a setting for one app (orders, email-sender, status-poller,
 *                                                     acs-emulator), over its default; e.g.
 *                                                     --set orders.ORDERS_EMAIL_PUBLISH_INTERVAL=250ms
 *   --skip-baseline         BENCH_SKIP_BASELINE=1     no bench:kafka run (no ratio)
 *   --baseline-messages N   BENCH_BASELINE_MESSAGES   default 100000
 *   --out PATH              BENCH_OUT                 default bench/results/pipeline.json (workspace-relative);
 *                                                     the chart goes beside it (.svg), the baseline's JSON to
 *                                                     bench/results/kafka-baseline.json
 *   --docs-chart PATH       BENCH_DOCS_CHART          also copy the chart here (docs/images/pipeline-bench.svg
 *                                                     for a run worth publishing)
 *   --quiet-wait SECONDS    BENCH_QUIET_WAIT          default 120: before each measured phase, wait up to this
 *   --quiet-busy PERCENT    BENCH_QUIET_BUSY          long for a one-second sample with at most 15 % of all
 *                                                     cores busy with other work (0 s = don't wait)
 *   --stall-seconds N       BENCH_STALL_SECONDS       default 180: give up when no notification becomes final
 *                                                     for this long
 *   --node-arg app=ARG      (repeatable)              a `node` argument for one app, after its own (package.json
 *                                                     `notifications.nodeArgs`, e.g. the heap cap); e.g.
 *                                                     --node-arg status-poller=--max-old-space-size=4096
 *                                                     (the last --max-old-space-size wins), --node-arg orders=--trace-gc
 *   --cpu-prof-dir DIR      BENCH_CPU_PROF_DIR        run the apps with `--cpu-prof` (one .cpuprofile per app,
 *                                                     written when the pipeline stops; whole process lifetime)
 *                                                     and summarise the top self-time functions per app;
 *                                                     profiling slows the apps, so such a run's numbers are not
 *                                                     the headline
 *   KAFKA_BROKERS, DATABASE_URL                       as for the end-to-end tests (local defaults)
 */
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Pool } from 'pg';
import { renderChart, type ThroughputPoint } from './bench-chart';
import { summarizeProfiles, type ProfileSummary } from './cpu-profile-summary';
import { ProcessMeter, findBrokerPid, waitForQuiet, type GroupUsage } from './process-stats';
import { NotificationLedger } from '../test/support/notification-ledger';
import { isFinal } from '../test/support/orders-api';
import { APP_NAMES, Pipeline, type AppName, type PipelineOptions } from '../test/support/pipeline';

const WORKSPACE_ROOT = path.resolve(__dirname, '..', '..', '..');
/** orders refuses larger orders (its request limit). */
const MAX_ORDER_SIZE = 100_000;
const DOMAIN = 'bench.example.org';
/** The benchmark's own database connections, told apart from the apps' in pg_stat_activity. */
const BENCH_DB_APPLICATION = 'pipeline-bench';
/** Seconds of the idle pipeline measured after the warm-up (its polling loops' CPU, subtracted for "marginal"). */
const IDLE_SECONDS = 15;
const GOALS = {
  notificationsPerSecond: 2_000,
  fiveHundredThousandSeconds: 300,
  p99Ms: 2_000,
  rssMb: 256,
} as const;
/** The product's apps (the emulator stands in for ACS and is reported, not judged). */
const PRODUCT_APPS: readonly AppName[] = ['orders', 'email-sender', 'status-poller'];

interface Settings {
  readonly recipients: number;
  readonly orderSize: number;
  readonly warmup: number;
  readonly steadyRate: number;
  readonly steadySeconds: number;
  readonly steadyOrderSize: number;
  readonly partitions: number;
  readonly env: NonNullable<PipelineOptions['env']>;
  readonly skipBaseline: boolean;
  readonly baselineMessages: number;
  readonly out: string;
  readonly docsChart: string | undefined;
  readonly quietWaitSeconds: number;
  readonly quietBusyPct: number;
  readonly stallSeconds: number;
  readonly cpuProfDir: string | undefined;
  /** `--node-arg app=ARG`: extra `node` arguments per app, after the app's own (package.json `nodeArgs`). */
  readonly nodeArgs: Partial<Record<AppName, string[]>>;
}

// ---------------------------------------------------------------------------------------------------------
// Options

function readSettings(): Settings {
  const { values } = parseArgs({
    options: {
      recipients: { type: 'string' },
      'order-size': { type: 'string' },
      warmup: { type: 'string' },
      'steady-rate': { type: 'string' },
      'steady-seconds': { type: 'string' },
      'steady-order-size': { type: 'string' },
      partitions: { type: 'string' },
      set: { type: 'string', multiple: true },
      'node-arg': { type: 'string', multiple: true },
      'skip-baseline': { type: 'boolean' },
      'baseline-messages': { type: 'string' },
      out: { type: 'string' },
      'docs-chart': { type: 'string' },
      'quiet-wait': { type: 'string' },
      'quiet-busy': { type: 'string' },
      'stall-seconds': { type: 'string' },
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
      throw new Error(`${env}=${raw}: expected an integer ≥ ${minimum}`);
    return value;
  };
  const env: Partial<Record<AppName, Record<string, string>>> = {};
  for (const assignment of values.set ?? []) {
    const match = /^([a-z-]+)\.([A-Z0-9_]+)=(.*)$/.exec(assignment);
    const app = match?.[1] as AppName | undefined;
    if (!match || app === undefined || !APP_NAMES.includes(app)) {
      throw new Error(`--set ${assignment}: expected app.KEY=VALUE with app one of ${APP_NAMES.join(', ')}`);
    }
    env[app] = { ...(env[app] ?? {}), [match[2] ?? '']: match[3] ?? '' };
  }
  const nodeArgs: Partial<Record<AppName, string[]>> = {};
  for (const assignment of values['node-arg'] ?? []) {
    const match = /^([a-z-]+)=(-.*)$/.exec(assignment);
    const app = match?.[1] as AppName | undefined;
    if (!match || app === undefined || !APP_NAMES.includes(app)) {
      throw new Error(
        `--node-arg ${assignment}: expected app=--flag with app one of ${APP_NAMES.join(', ')}`,
      );
    }
    nodeArgs[app] = [...(nodeArgs[app] ?? []), match[2] ?? ''];
  }
  const orderSize = int(values['order-size'], 'BENCH_ORDER_SIZE', MAX_ORDER_SIZE);
  if (orderSize > MAX_ORDER_SIZE) throw new Error(`--order-size: at most ${MAX_ORDER_SIZE} (orders' limit)`);
  const dir = values['cpu-prof-dir'] ?? process.env['BENCH_CPU_PROF_DIR'];
  const docsChart = values['docs-chart'] ?? process.env['BENCH_DOCS_CHART'];
  return {
    recipients: int(values.recipients, 'BENCH_RECIPIENTS', 100_000),
    orderSize,
    warmup: int(values.warmup, 'BENCH_WARMUP', 500),
    steadyRate: int(values['steady-rate'], 'BENCH_STEADY_RATE', 300),
    steadySeconds: int(values['steady-seconds'], 'BENCH_STEADY_SECONDS', 60, 0),
    steadyOrderSize: int(values['steady-order-size'], 'BENCH_STEADY_ORDER_SIZE', 50),
    partitions: int(values.partitions, 'BENCH_PARTITIONS', 6),
    env,
    skipBaseline:
      values['skip-baseline'] ?? /^(1|true|yes|on)$/i.test(process.env['BENCH_SKIP_BASELINE'] ?? ''),
    baselineMessages: int(values['baseline-messages'], 'BENCH_BASELINE_MESSAGES', 100_000),
    out: path.resolve(
      WORKSPACE_ROOT,
      values.out ?? process.env['BENCH_OUT'] ?? 'bench/results/pipeline.json',
    ),
    docsChart: docsChart ? path.resolve(WORKSPACE_ROOT, docsChart) : undefined,
    quietWaitSeconds: int(values['quiet-wait'], 'BENCH_QUIET_WAIT', 120, 0),
    quietBusyPct: int(values['quiet-busy'], 'BENCH_QUIET_BUSY', 15),
    stallSeconds: int(values['stall-seconds'], 'BENCH_STALL_SECONDS', 180),
    cpuProfDir: dir ? path.resolve(process.cwd(), dir) : undefined,
    nodeArgs,
  };
}

// ---------------------------------------------------------------------------------------------------------
// Helpers

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const round = (value: number, digits = 0): number => Math.round(value * 10 ** digits) / 10 ** digits;
const log = (line: string): void => void process.stdout.write(`${line}\n`);

function percentile(sorted: Float64Array | readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? NaN;
}

interface Percentiles {
  readonly count: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
  readonly mean: number;
}

function percentiles(values: readonly number[]): Percentiles {
  const sorted = Float64Array.from(values).sort();
  const sum = values.reduce((total, value) => total + value, 0);
  return {
    count: values.length,
    p50: round(percentile(sorted, 0.5)),
    p95: round(percentile(sorted, 0.95)),
    p99: round(percentile(sorted, 0.99)),
    max: round(percentile(sorted, 1)),
    mean: round(values.length > 0 ? sum / values.length : NaN),
  };
}

function table(rows: string[][]): string {
  const widths =
    rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length))) ?? [];
  const line = (row: string[]): string =>
    `| ${row
      .map((cell, column) =>
        column === 0 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0),
      )
      .join(' | ')} |`;
  const separator = `| ${widths.map((width, column) => (column === 0 ? '-'.repeat(width) : `${'-'.repeat(width - 1)}:`)).join(' | ')} |`;
  const [head, ...body] = rows;
  return [line(head ?? []), separator, ...body.map(line)].join('\n');
}

const fmt = (value: number | null | undefined, digits = 0): string =>
  value === null || value === undefined || Number.isNaN(value)
    ? 'n/a'
    : value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

const recipientsOf = (count: number, prefix: string): { emailAddress: string }[] =>
  Array.from({ length: count }, (_, index) => ({ emailAddress: `${prefix}-${index}@${DOMAIN}` }));

type DatabaseCounters = Record<
  'transactions' | 'inserted' | 'updated' | 'deleted' | 'returned' | 'fetched',
  number
>;

/**
 * The run database's activity counters (`pg_stat_database`): how much database work a notification costs.
 * Backends report them at the end of a transaction at most once a second (idle ones within 10 s), so a reading
 * right after a phase may miss its last second.
 */
async function databaseCounters(db: Pool, database: string): Promise<DatabaseCounters> {
  const { rows } = await db.query<Record<keyof DatabaseCounters, string>>(
    `SELECT xact_commit + xact_rollback AS transactions, tup_inserted AS inserted, tup_updated AS updated,
            tup_deleted AS deleted, tup_returned AS returned, tup_fetched AS fetched
       FROM pg_stat_database WHERE datname = $1`,
    [database],
  );
  const row = rows[0];
  const value = (key: keyof DatabaseCounters): number => Number(row?.[key] ?? 0);
  return {
    transactions: value('transactions'),
    inserted: value('inserted'),
    updated: value('updated'),
    deleted: value('deleted'),
    returned: value('returned'),
    fetched: value('fetched'),
  };
}

function countersPerNotification(
  before: DatabaseCounters,
  after: DatabaseCounters,
  notifications: number,
): DatabaseCounters {
  const per = (key: keyof DatabaseCounters): number => round((after[key] - before[key]) / notifications, 2);
  return {
    transactions: per('transactions'),
    inserted: per('inserted'),
    updated: per('updated'),
    deleted: per('deleted'),
    returned: per('returned'),
    fetched: per('fetched'),
  };
}

/** Rows read per scan source (index or table) of the run's database, cumulative. */
async function scanCounters(db: Pool): Promise<Map<string, { scans: number; rows: number }>> {
  const { rows } = await db.query<{ source: string; scans: string; rows: string }>(
    `SELECT 'index ' || indexrelname AS source, idx_scan AS scans, idx_tup_read AS rows FROM pg_stat_user_indexes
     UNION ALL
     SELECT 'seq scan ' || relname, seq_scan, seq_tup_read FROM pg_stat_user_tables`,
  );
  return new Map(rows.map((row) => [row.source, { scans: Number(row.scans), rows: Number(row.rows) }]));
}

/** The scan sources that read the most rows per notification between two readings. */
function topScans(
  before: Map<string, { scans: number; rows: number }>,
  after: Map<string, { scans: number; rows: number }>,
  notifications: number,
): { source: string; scansPerNotification: number; rowsPerNotification: number }[] {
  return [...after.entries()]
    .map(([source, end]) => {
      const start = before.get(source) ?? { scans: 0, rows: 0 };
      return {
        source,
        scansPerNotification: round((end.scans - start.scans) / notifications, 2),
        rowsPerNotification: round((end.rows - start.rows) / notifications, 1),
      };
    })
    .sort((a, b) => b.rowsPerNotification - a.rowsPerNotification)
    .slice(0, 6);
}

/** Math.max over large arrays (spreading 500 000 arguments overflows the stack). */
function maxOf(values: readonly number[]): number {
  let max = -Infinity;
  for (const value of values) if (value > max) max = value;
  return max;
}

/** `count` as `orderSize`-sized chunks. */
function splitSizes(count: number, orderSize: number): number[] {
  const sizes: number[] = [];
  for (let left = count; left > 0; left -= orderSize) sizes.push(Math.min(orderSize, left));
  return sizes;
}

/** Emulator messages recorded since `since` (paged by sequence number; only the fields the bench needs). */
async function emulatorMessages(
  pipeline: Pipeline,
  since: Date,
): Promise<{ operationId: string; receivedAtMs: number }[]> {
  const out: { operationId: string; receivedAtMs: number }[] = [];
  let after: number | undefined;
  for (;;) {
    const query = new URLSearchParams({ limit: '10000', since: since.toISOString() });
    if (after !== undefined) query.set('after', String(after));
    const response = await fetch(`${pipeline.url('acs-emulator')}/admin/messages?${query.toString()}`);
    if (!response.ok) throw new Error(`GET /admin/messages → ${response.status}: ${await response.text()}`);
    const page = (await response.json()) as {
      messages: { operationId: string; receivedAt: string }[];
      nextAfter?: number;
    };
    for (const message of page.messages) {
      out.push({ operationId: message.operationId, receivedAtMs: Date.parse(message.receivedAt) });
    }
    if (page.nextAfter === undefined) return out;
    after = page.nextAfter;
  }
}

/** Per-second counts of `timesMs` since `t0Ms` (bucket i = [i s, i+1 s)). */
function perSecond(timesMs: readonly number[], t0Ms: number): number[] {
  const buckets: number[] = [];
  for (const time of timesMs) {
    const index = Math.max(0, Math.floor((time - t0Ms) / 1000));
    while (buckets.length <= index) buckets.push(0);
    buckets[index] = (buckets[index] ?? 0) + 1;
  }
  return buckets;
}

// ---------------------------------------------------------------------------------------------------------
// Baseline: bench:kafka's raw scenario, as its own process

interface Baseline {
  readonly endToEndPerSec: number;
  readonly producedPerSec: number;
  readonly consumedPerSec: number;
  readonly latencyMs: { p50: number; p99: number } | null;
  readonly noisyPhases: number;
  readonly file: string;
}

async function runBaseline(settings: Settings): Promise<Baseline> {
  const out = path.join(path.dirname(settings.out), 'kafka-baseline.json');
  const args = [
    '--conditions=@notifications/source',
    '-r',
    '@swc-node/register',
    'libs/messaging/bench/kafka-throughput.bench.ts',
    '--rounds',
    '1',
    '--scenarios',
    'raw',
    '--messages',
    String(settings.baselineMessages),
    '--partitions',
    String(settings.partitions),
    '--quiet-wait',
    String(settings.quietWaitSeconds),
    '--quiet-busy',
    String(settings.quietBusyPct),
    '--out',
    out,
  ];
  log(`baseline: node ${args.join(' ')}`);
  const child = spawn(process.execPath, args, {
    cwd: WORKSPACE_ROOT,
    env: { ...process.env, SWC_NODE_PROJECT: 'libs/messaging/tsconfig.spec.json' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const prefix = (chunk: Buffer): void => {
    for (const line of chunk.toString().split('\n')) if (line.trim() !== '') log(`  [kafka] ${line}`);
  };
  child.stdout.on('data', prefix);
  child.stderr.on('data', prefix);
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`bench:kafka exited with ${String(code)}`);
  const report = JSON.parse(readFileSync(out, 'utf8')) as {
    raw: {
      endToEndPerSec: number;
      producedPerSec: number;
      consumedPerSec: number;
      latencyMs: { p50: number; p99: number } | null;
      noisyPhases: number;
    } | null;
  };
  if (!report.raw) throw new Error(`${out} has no raw scenario`);
  return { ...report.raw, file: path.relative(WORKSPACE_ROOT, out) };
}

// ---------------------------------------------------------------------------------------------------------
// Phases

interface Usage {
  readonly processes: Record<
    string,
    GroupUsage & {
      cpuSecondsPer1000: number;
      /** Without what the process burns idle (polling loops) over the phase's duration. */
      marginalCpuSecondsPer1000: number;
    }
  >;
  readonly seconds: number | null;
  readonly machineBusyPct: number | null;
  readonly otherCpuSeconds: number | null;
  readonly noisy: boolean;
  readonly busyBeforePct: number | null;
}

/** CPU seconds per second of each process group while the pipeline is idle. */
type IdleRates = Record<string, number>;

function usageOf(
  result: Awaited<ReturnType<ProcessMeter['stop']>>,
  notifications: number,
  busyBefore: number | undefined,
  idle: IdleRates,
): Usage {
  const processes: Usage['processes'] = {};
  const seconds = result.machine?.seconds ?? 0;
  for (const [name, usage] of Object.entries(result.groups)) {
    const marginal = Math.max(0, usage.cpuSeconds - (idle[name] ?? 0) * seconds);
    processes[name] = {
      cpuSeconds: round(usage.cpuSeconds, 2),
      cpuSecondsPer1000: round((usage.cpuSeconds * 1000) / notifications, 3),
      marginalCpuSecondsPer1000: round((marginal * 1000) / notifications, 3),
      maxRssMb: round(usage.maxRssMb, 1),
      peakRssMb: round(usage.peakRssMb, 1),
    };
  }
  const machine = result.machine;
  return {
    processes,
    seconds: result.machine ? round(result.machine.seconds, 1) : null,
    machineBusyPct: machine ? round(machine.busyPct, 1) : null,
    otherCpuSeconds: machine ? round(machine.otherCpuSeconds, 1) : null,
    // A tenth of a core on average, as bench:kafka flags it.
    noisy: machine ? machine.otherCpuSeconds > 0.1 * machine.seconds : false,
    busyBeforePct: busyBefore ?? null,
  };
}

interface Sample {
  readonly second: number;
  readonly counts: Record<string, number>;
  readonly total: number;
  readonly final: number;
  readonly pastSending: number;
  readonly rssMb: Record<string, number>;
  readonly cpuSeconds: Record<string, number>;
}

/**
 * Samples the orders' notifications once a second until all `expected` are final; fails when none became
 * final for `stallSeconds` or an app crashed.
 */
async function sampleUntilFinal(
  pipeline: Pipeline,
  ledger: NotificationLedger,
  meter: ProcessMeter,
  orderIds: () => readonly string[],
  expected: number,
  t0: number,
  stallSeconds: number,
  label: string,
): Promise<Sample[]> {
  const samples: Sample[] = [];
  let lastFinal = -1;
  let loggedTens = -1;
  let lastProgressAt = Date.now();
  let nextAt = Date.now();
  for (;;) {
    nextAt += 1000;
    const counts = await ledger.countsByResult(orderIds());
    const processes = await meter.sample();
    const total = Object.values(counts).reduce((sum, count) => sum + count, 0);
    const final = Object.entries(counts)
      .filter(([result]) => isFinal(result))
      .reduce((sum, [, count]) => sum + count, 0);
    const pastSending = total - (counts['New'] ?? 0) - (counts['Sending'] ?? 0);
    const second = round((Date.now() - t0) / 1000, 1);
    samples.push({
      second,
      counts,
      total,
      final,
      pastSending,
      rssMb: Object.fromEntries(Object.entries(processes).map(([name, p]) => [name, round(p.rssMb, 1)])),
      cpuSeconds: Object.fromEntries(
        Object.entries(processes).map(([name, p]) => [name, round(p.cpuSeconds, 2)]),
      ),
    });
    // A progress line every 10 s (samples drift past whole seconds when the machine is busy).
    if (Math.floor(second / 10) > loggedTens || final === expected) {
      loggedTens = Math.floor(second / 10);
      log(`  [${label}] ${second.toFixed(0).padStart(4)} s  ${JSON.stringify(counts)}`);
    }
    if (total === expected && final === expected) return samples;
    if (pipeline.unexpectedExits.length > 0) {
      const exit = pipeline.unexpectedExits[0];
      throw new Error(
        `${exit?.app ?? '?'} exited (${String(exit?.code)}):\n${exit?.lastLines.join('\n') ?? ''}`,
      );
    }
    if (final !== lastFinal) {
      lastFinal = final;
      lastProgressAt = Date.now();
    } else if (Date.now() - lastProgressAt > stallSeconds * 1000) {
      throw new Error(
        `[${label}] no notification became final for ${stallSeconds} s: ${JSON.stringify(counts)}`,
      );
    }
    await sleep(Math.max(0, nextAt - Date.now()));
  }
}

interface BulkResult {
  readonly recipients: number;
  readonly orders: number;
  readonly postMs: number;
  readonly notificationsPerSecond: number;
  readonly seconds: {
    readonly lastOrderAccepted: number;
    readonly allCreated: number | null;
    readonly allAcceptedByAcs: number;
    readonly allSucceededOrBetter: number | null;
    readonly allFinal: number;
  };
  readonly peakAcceptedPerSecond: number;
  readonly peakFinalPerSecond: number;
  readonly results: Record<string, number>;
  readonly checks: {
    allFinal: boolean;
    messagesPerNotificationExactlyOne: boolean;
    lost: number;
    doubled: number;
    duplicateSends: number;
  };
  readonly usage: Usage;
  /** PostgreSQL work per notification during the phase (pg_stat_database of the run's database). */
  readonly databasePerNotification: DatabaseCounters;
  /** Where PostgreSQL read those rows: the indexes and tables with the most rows read per notification. */
  readonly scansPerNotification: {
    source: string;
    scansPerNotification: number;
    rowsPerNotification: number;
  }[];
  readonly series: { second: number; acceptedByAcs: number; final: number }[];
  readonly samples: Sample[];
}

async function runBulk(
  db: Pool,
  idle: IdleRates,
  pipeline: Pipeline,
  ledger: NotificationLedger,
  meter: ProcessMeter,
  settings: Settings,
  ownPids: () => number[],
): Promise<BulkResult> {
  const sizes = splitSizes(settings.recipients, settings.orderSize);
  log(
    `\nbulk: ${fmt(settings.recipients)} recipients in ${sizes.length} order(s) of ≤ ${fmt(settings.orderSize)}`,
  );
  const bodies = sizes.map((size, index) => recipientsOf(size, `bulk${index}`));
  const statsBefore = await pipeline.emulator.stats();
  const busyBefore = await waitForQuiet(settings.quietWaitSeconds, settings.quietBusyPct, ownPids, (line) =>
    log(`  ${line}`),
  );
  const countersBefore = await databaseCounters(db, pipeline.databaseName);
  const scansBefore = await scanCounters(db);
  await meter.start();
  const since = new Date();
  const t0 = Date.now();
  const acceptedAt: number[] = [];
  const orderIds = await Promise.all(
    bodies.map(async (recipients, index) => {
      const id = await pipeline.orders.postEmailOrder({
        recipients,
        subject: `Bench order ${index}`,
        body: 'Hello from the pipeline benchmark.',
        requestedSendTime: new Date().toISOString(),
      });
      acceptedAt.push(Date.now());
      return id;
    }),
  );
  const lastAccepted = Math.max(...acceptedAt);
  log(`  ${orderIds.length} order(s) accepted in ${fmt(lastAccepted - t0)} ms`);
  const samples = await sampleUntilFinal(
    pipeline,
    ledger,
    meter,
    () => orderIds,
    settings.recipients,
    t0,
    settings.stallSeconds,
    'bulk',
  );
  const usage = usageOf(await meter.stop(), settings.recipients, busyBefore, idle);

  // Exact times: the emulator's receivedAt per email, the database's result_time per final notification.
  const messages = await emulatorMessages(pipeline, since);
  const { rows } = await db.query<{ id: string; result: string; resultMs: string; createdMs: string }>(
    `SELECT id, result, extract(epoch FROM result_time) * 1000 AS "resultMs", extract(epoch FROM created) * 1000 AS "createdMs"
       FROM email_notifications WHERE order_id = ANY($1::uuid[])`,
    [orderIds],
  );
  const ours = new Set(rows.map((row) => row.id));
  const perNotification = new Map<string, number>();
  const acceptedTimes: number[] = [];
  for (const message of messages) {
    if (!ours.has(message.operationId)) continue;
    perNotification.set(message.operationId, (perNotification.get(message.operationId) ?? 0) + 1);
    acceptedTimes.push(message.receivedAtMs);
  }
  const finalTimes = rows.filter((row) => isFinal(row.result)).map((row) => Number(row.resultMs));
  const lost = rows.filter((row) => (perNotification.get(row.id) ?? 0) === 0).length;
  const doubled = [...perNotification.values()].filter((count) => count > 1).length;
  const statsAfter = await pipeline.emulator.stats();
  const countersAfter = await databaseCounters(db, pipeline.databaseName);
  const scansAfter = await scanCounters(db);
  const allFinalAt = maxOf(finalTimes);
  const accepted = perSecond(acceptedTimes, t0);
  const final = perSecond(finalTimes, t0);
  const series = Array.from({ length: Math.max(accepted.length, final.length) }, (_, second) => ({
    second,
    acceptedByAcs: accepted[second] ?? 0,
    final: final[second] ?? 0,
  }));
  const results: Record<string, number> = {};
  for (const row of rows) results[row.result] = (results[row.result] ?? 0) + 1;
  const firstSample = (test: (sample: Sample) => boolean): number | null =>
    samples.find(test)?.second ?? null;
  return {
    recipients: settings.recipients,
    orders: orderIds.length,
    postMs: lastAccepted - t0,
    notificationsPerSecond: round((settings.recipients * 1000) / (allFinalAt - lastAccepted)),
    seconds: {
      lastOrderAccepted: round((lastAccepted - t0) / 1000, 2),
      allCreated:
        rows.length === 0 ? null : round((maxOf(rows.map((row) => Number(row.createdMs))) - t0) / 1000, 2),
      allAcceptedByAcs: round((maxOf(acceptedTimes) - t0) / 1000, 2),
      allSucceededOrBetter: firstSample((sample) => sample.pastSending === settings.recipients),
      allFinal: round((allFinalAt - t0) / 1000, 2),
    },
    peakAcceptedPerSecond: maxOf(accepted),
    peakFinalPerSecond: maxOf(final),
    results,
    checks: {
      allFinal: rows.length === settings.recipients && finalTimes.length === settings.recipients,
      messagesPerNotificationExactlyOne: lost === 0 && doubled === 0 && rows.length === settings.recipients,
      lost,
      doubled,
      duplicateSends: statsAfter.duplicateSends - statsBefore.duplicateSends,
    },
    usage,
    databasePerNotification: countersPerNotification(countersBefore, countersAfter, settings.recipients),
    scansPerNotification: topScans(scansBefore, scansAfter, settings.recipients),
    series,
    samples,
  };
}

interface SteadyResult {
  readonly targetRate: number;
  readonly seconds: number;
  readonly orders: number;
  readonly notifications: number;
  readonly postErrors: number;
  readonly achievedAcceptedPerSecond: number;
  /** Fewer than 90 % of the offered notifications/s were accepted: the latency includes queueing. */
  readonly overloaded: boolean;
  readonly latencyMs: Percentiles;
  /** Where the latency goes, per stage (ms). */
  readonly stagesMs: Record<string, Percentiles>;
  readonly checks: {
    allFinal: boolean;
    messagesPerNotificationExactlyOne: boolean;
    lost: number;
    doubled: number;
  };
  readonly usage: Usage;
  readonly series: { second: number; acceptedByAcs: number }[];
}

async function runSteady(
  db: Pool,
  idle: IdleRates,
  pipeline: Pipeline,
  ledger: NotificationLedger,
  meter: ProcessMeter,
  settings: Settings,
  ownPids: () => number[],
): Promise<SteadyResult> {
  const intervalMs = (settings.steadyOrderSize * 1000) / settings.steadyRate;
  const count = Math.max(1, Math.round((settings.steadySeconds * 1000) / intervalMs));
  log(
    `\nsteady: ${count} orders × ${settings.steadyOrderSize} recipients, one every ${round(intervalMs, 1)} ms ` +
      `(${settings.steadyRate} notifications/s for ${settings.steadySeconds} s), requestedSendTime = now`,
  );
  const busyBefore = await waitForQuiet(settings.quietWaitSeconds, settings.quietBusyPct, ownPids, (line) =>
    log(`  ${line}`),
  );
  await meter.start();
  const since = new Date();
  const t0 = Date.now();
  const requested = new Map<string, number>();
  const orderIds: string[] = [];
  let postErrors = 0;
  const posts: Promise<void>[] = [];
  for (let index = 0; index < count; index += 1) {
    // A fixed schedule, not "post, then wait": a slow response must not lower the offered load.
    await sleep(Math.max(0, t0 + index * intervalMs - Date.now()));
    const requestedAt = Date.now();
    posts.push(
      pipeline.orders
        .postEmailOrder({
          recipients: recipientsOf(settings.steadyOrderSize, `steady${index}`),
          subject: `Steady order ${index}`,
          body: 'Hello from the pipeline benchmark.',
          requestedSendTime: new Date(requestedAt).toISOString(),
        })
        .then(
          (id) => {
            requested.set(id, requestedAt);
            orderIds.push(id);
          },
          (error: unknown) => {
            postErrors += 1;
            if (postErrors <= 3) log(`  POST failed: ${String(error)}`);
          },
        ),
    );
  }
  await Promise.all(posts);
  const expected = orderIds.length * settings.steadyOrderSize;
  await sampleUntilFinal(
    pipeline,
    ledger,
    meter,
    () => orderIds,
    expected,
    t0,
    settings.stallSeconds,
    'steady',
  );
  const usage = usageOf(await meter.stop(), expected, busyBefore, idle);

  const messages = await emulatorMessages(pipeline, since);
  const received = new Map<string, number[]>();
  for (const message of messages) {
    const list = received.get(message.operationId) ?? [];
    list.push(message.receivedAtMs);
    received.set(message.operationId, list);
  }
  // Stage timestamps: the orders.pastdue outbox row (the scheduler's claim) and its publish, the notification's
  // creation (the pastdue consumer), the email.queue outbox row (the email claim) and its publish.
  const { rows } = await db.query<{
    id: string;
    orderId: string;
    result: string;
    orderClaimed: string | null;
    orderPublished: string | null;
    created: string;
    emailClaimed: string | null;
    emailPublished: string | null;
  }>(
    `WITH pd AS (SELECT message_key, min(created_at) AS created_at, min(published_at) AS published_at
                   FROM outbox WHERE topic LIKE '%orders.pastdue%' AND created_at >= $2 GROUP BY message_key),
          eq AS (SELECT message_key, min(created_at) AS created_at, min(published_at) AS published_at
                   FROM outbox WHERE topic LIKE '%email.queue%' AND created_at >= $2 GROUP BY message_key)
     SELECT n.id, n.order_id AS "orderId", n.result,
            extract(epoch FROM pd.created_at) * 1000 AS "orderClaimed",
            extract(epoch FROM pd.published_at) * 1000 AS "orderPublished",
            extract(epoch FROM n.created) * 1000 AS created,
            extract(epoch FROM eq.created_at) * 1000 AS "emailClaimed",
            extract(epoch FROM eq.published_at) * 1000 AS "emailPublished"
       FROM email_notifications n
       LEFT JOIN pd ON pd.message_key = n.order_id::text
       LEFT JOIN eq ON eq.message_key = n.id::text
      WHERE n.order_id = ANY($1::uuid[])`,
    [orderIds, since],
  );
  const latencies: number[] = [];
  const stages: Record<string, number[]> = {
    'requested → order claimed (scheduler, ORDERS_PASTDUE_INTERVAL)': [],
    'order claimed → orders.pastdue published (relay)': [],
    'published → notifications created (pastdue consumer)': [],
    'created → email claimed (ORDERS_EMAIL_PUBLISH_INTERVAL)': [],
    'email claimed → email.queue published (relay)': [],
    'published → ACS accepted (Kafka + email-sender)': [],
  };
  const stageLists = Object.values(stages);
  let lost = 0;
  let doubled = 0;
  const acceptedTimes: number[] = [];
  for (const row of rows) {
    const times = received.get(row.id) ?? [];
    if (times.length === 0) lost += 1;
    if (times.length > 1) doubled += 1;
    const acceptedAt = times[0];
    const requestedAt = requested.get(row.orderId);
    if (acceptedAt === undefined || requestedAt === undefined) continue;
    acceptedTimes.push(acceptedAt);
    latencies.push(acceptedAt - requestedAt);
    const points = [
      requestedAt,
      row.orderClaimed,
      row.orderPublished,
      row.created,
      row.emailClaimed,
      row.emailPublished,
      acceptedAt,
    ].map((value) => (value === null ? NaN : Number(value)));
    points.slice(1).forEach((point, index) => {
      const previous = points[index] ?? NaN;
      if (!Number.isNaN(point) && !Number.isNaN(previous)) stageLists[index]?.push(point - previous);
    });
  }
  const accepted = perSecond(acceptedTimes, t0);
  // The offered load's window, without the ramp-up before the first email and the drain after the last order.
  const window = accepted.slice(3, Math.max(4, Math.floor(settings.steadySeconds)));
  const achieved = window.reduce((sum, value) => sum + value, 0) / Math.max(1, window.length);
  return {
    targetRate: settings.steadyRate,
    seconds: settings.steadySeconds,
    orders: orderIds.length,
    notifications: expected,
    postErrors,
    achievedAcceptedPerSecond: round(achieved),
    overloaded: achieved < 0.9 * settings.steadyRate,
    latencyMs: percentiles(latencies),
    stagesMs: Object.fromEntries(Object.entries(stages).map(([name, values]) => [name, percentiles(values)])),
    checks: {
      allFinal: rows.length === expected && rows.every((row) => isFinal(row.result)),
      messagesPerNotificationExactlyOne: lost === 0 && doubled === 0 && rows.length === expected,
      lost,
      doubled,
    },
    usage,
    series: accepted.map((value, second) => ({ second, acceptedByAcs: value })),
  };
}

/** What each process burns while nothing happens (polling loops, consumer fetches, the broker's own work). */
async function measureIdle(meter: ProcessMeter): Promise<IdleRates> {
  log(`\nidle: ${IDLE_SECONDS} s of the pipeline doing nothing`);
  await meter.start();
  await sleep(IDLE_SECONDS * 1000);
  const result = await meter.stop();
  const seconds = result.machine?.seconds ?? IDLE_SECONDS;
  const rates = Object.fromEntries(
    Object.entries(result.groups).map(([name, usage]) => [name, round(usage.cpuSeconds / seconds, 4)]),
  );
  log(`  CPU s per s: ${JSON.stringify(rates)}`);
  return rates;
}

async function warmUp(
  pipeline: Pipeline,
  ledger: NotificationLedger,
  meter: ProcessMeter,
  settings: Settings,
): Promise<void> {
  log(`\nwarm-up: one order of ${settings.warmup} recipients`);
  const t0 = Date.now();
  const id = await pipeline.orders.postEmailOrder({ recipients: recipientsOf(settings.warmup, 'warmup') });
  await sampleUntilFinal(
    pipeline,
    ledger,
    meter,
    () => [id],
    settings.warmup,
    t0,
    settings.stallSeconds,
    'warm-up',
  );
}

// ---------------------------------------------------------------------------------------------------------
// Report

function describeMachine(brokerPid: number | undefined): Record<string, unknown> {
  let cpuModel = os.cpus()[0]?.model ?? 'unknown';
  try {
    cpuModel = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpuModel;
  } catch {
    // not Linux
  }
  // scripts/infra.mjs records the version beside the broker's server.properties (its last argument).
  let kafka = process.env['KAFKA_VERSION'] ?? 'unknown';
  try {
    const props = readFileSync(`/proc/${brokerPid ?? 'none'}/cmdline`, 'utf8')
      .split('\0')
      .find((arg) => arg.endsWith('server.properties'));
    const state = props ? path.join(path.dirname(props), 'broker.json') : undefined;
    if (state && existsSync(state)) {
      kafka = (JSON.parse(readFileSync(state, 'utf8')) as { version?: string }).version ?? kafka;
    }
  } catch {
    // no local broker process: a remote broker's version is unknown here
  }
  return {
    cpus: os.availableParallelism(),
    cpuModel,
    memoryMiB: Math.round(os.totalmem() / 2 ** 20),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    kafka,
    brokerPid: brokerPid ?? null,
    loadAverageAtStart: os.loadavg().map((value) => round(value, 2)),
  };
}

function printReport(
  bulk: BulkResult,
  steady: SteadyResult | undefined,
  baseline: Baseline | undefined,
  profiles: Record<string, ProfileSummary[]>,
): void {
  const ratio = baseline ? bulk.notificationsPerSecond / baseline.endToEndPerSec : undefined;
  const okMark = (ok: boolean): string => (ok ? '✓' : '✗');
  const rows: string[][] = [
    ['measure', 'result'],
    [
      `end-to-end throughput (${fmt(bulk.recipients)} recipients, last order accepted → last final)`,
      `${fmt(bulk.notificationsPerSecond)} notifications/s`,
    ],
    ['orders accepted (POST → last 202)', `${fmt(bulk.seconds.lastOrderAccepted, 2)} s`],
    ['all notifications created', `${fmt(bulk.seconds.allCreated, 1)} s`],
    ['all accepted by ACS (emulator)', `${fmt(bulk.seconds.allAcceptedByAcs, 1)} s`],
    ['all Succeeded or better (1 s sampling)', `${fmt(bulk.seconds.allSucceededOrBetter, 1)} s`],
    ['all final', `${fmt(bulk.seconds.allFinal, 1)} s  ${JSON.stringify(bulk.results)}`],
    [
      'peak accepted by ACS / final (1 s)',
      `${fmt(bulk.peakAcceptedPerSecond)} / ${fmt(bulk.peakFinalPerSecond)} per s`,
    ],
    [
      'checks: all final; one ACS message per notification',
      `${okMark(bulk.checks.allFinal)} ${okMark(bulk.checks.messagesPerNotificationExactlyOne)} (lost ${bulk.checks.lost}, doubled ${bulk.checks.doubled}, repeated sends ${bulk.checks.duplicateSends})`,
    ],
  ];
  if (steady) {
    rows.push(
      [
        `steady load: ${fmt(steady.notifications)} notifications offered at ${steady.targetRate}/s`,
        `${fmt(steady.achievedAcceptedPerSecond)} accepted/s` +
          (steady.overloaded ? ' ⚠ overloaded: the latency includes queueing behind a backlog' : ''),
      ],
      [
        'requested send time → ACS accepted p50 / p95 / p99 / max',
        `${fmt(steady.latencyMs.p50)} / ${fmt(steady.latencyMs.p95)} / ${fmt(steady.latencyMs.p99)} / ${fmt(steady.latencyMs.max)} ms`,
      ],
      [
        'steady checks: all final; one ACS message per notification',
        `${okMark(steady.checks.allFinal)} ${okMark(steady.checks.messagesPerNotificationExactlyOne)} (lost ${steady.checks.lost}, doubled ${steady.checks.doubled})`,
      ],
    );
  }
  if (baseline) {
    rows.push(
      ['raw Kafka end-to-end (bench:kafka raw, this run)', `${fmt(baseline.endToEndPerSec)} msg/s`],
      ['pipeline / raw Kafka', `${fmt((ratio ?? 0) * 100, 1)} %`],
    );
  }
  log(`\n${table(rows)}`);

  const names = Object.keys(bulk.usage.processes);
  const processRows: string[][] = [
    [
      'process',
      'peak RSS MB',
      'bulk CPU s',
      'CPU s / 1 000',
      'marginal¹',
      ...(steady ? ['steady CPU s', 'CPU s / 1 000', 'marginal¹'] : []),
    ],
  ];
  for (const name of names) {
    const b = bulk.usage.processes[name];
    const s = steady?.usage.processes[name];
    const peak = Math.max(b?.peakRssMb ?? 0, s?.peakRssMb ?? 0);
    processRows.push([
      name,
      // Backends share PostgreSQL's buffers and the broker serves everyone: their RSS is not theirs alone.
      name.startsWith('postgres') || name === 'broker' ? `${fmt(b?.maxRssMb)} (shared)` : fmt(peak),
      fmt(b?.cpuSeconds, 1),
      fmt(b?.cpuSecondsPer1000, 3),
      fmt(b?.marginalCpuSecondsPer1000, 3),
      ...(steady
        ? [fmt(s?.cpuSeconds, 1), fmt(s?.cpuSecondsPer1000, 3), fmt(s?.marginalCpuSecondsPer1000, 3)]
        : []),
    ]);
  }
  // What the pipeline itself costs per notification (everything but the bench and its queries), and what that
  // allows on this machine's cores if nothing else ran.
  const pipelineGroups = names.filter((name) => name !== 'bench' && name !== 'postgres (bench)');
  const marginal = pipelineGroups.reduce(
    (sum, name) => sum + (bulk.usage.processes[name]?.marginalCpuSecondsPer1000 ?? 0),
    0,
  );
  const cores = os.availableParallelism();
  const phaseNote = (name: string, usage: Usage): string =>
    `${name}: machine ${fmt(usage.machineBusyPct, 1)} % busy, other load ${fmt(usage.otherCpuSeconds, 1)} CPU s${usage.noisy ? ' ⚠ noisy' : ''}`;
  log(`\n${table(processRows)}`);
  log(
    `¹ marginal: without the CPU each process burns idle (measured for ${IDLE_SECONDS} s before the bulk) over ` +
      `the phase's duration`,
  );
  log(`${phaseNote('bulk', bulk.usage)}${steady ? `; ${phaseNote('steady', steady.usage)}` : ''}`);
  log(`PostgreSQL per notification (bulk): ${JSON.stringify(bulk.databasePerNotification)}`);
  log(
    table([
      ['rows read by (bulk, incl. the bench’s 1 s counts)', 'scans / notification', 'rows / notification'],
      ...bulk.scansPerNotification.map((scan) => [
        scan.source,
        fmt(scan.scansPerNotification, 2),
        fmt(scan.rowsPerNotification, 1),
      ]),
    ]),
  );
  log(
    `pipeline CPU (apps, emulator, broker, PostgreSQL): ${fmt(marginal, 2)} CPU s per 1 000 notifications ` +
      `(marginal, bulk) → at most ${fmt(marginal > 0 ? (cores * 1000) / marginal : NaN)} notifications/s ` +
      `on ${cores} cores with nothing else running`,
  );

  if (steady) {
    const stageRows: string[][] = [['latency stage (steady load)', 'p50 ms', 'p99 ms', 'mean ms']];
    for (const [stage, value] of Object.entries(steady.stagesMs)) {
      stageRows.push([stage, fmt(value.p50), fmt(value.p99), fmt(value.mean)]);
    }
    log(`\n${table(stageRows)}`);
  }

  const productPeak = Math.max(
    ...PRODUCT_APPS.map((app) =>
      Math.max(bulk.usage.processes[app]?.peakRssMb ?? 0, steady?.usage.processes[app]?.peakRssMb ?? 0),
    ),
  );
  const goalRows: string[][] = [
    ['goal (2-core machine)', 'target', 'reached', ''],
    [
      'end-to-end throughput',
      `≥ ${fmt(GOALS.notificationsPerSecond)}/s`,
      `${fmt(bulk.notificationsPerSecond)}/s`,
      okMark(bulk.notificationsPerSecond >= GOALS.notificationsPerSecond),
    ],
    [
      '500 000-recipient order fully final',
      `≤ ${GOALS.fiveHundredThousandSeconds} s`,
      bulk.recipients >= 500_000
        ? `${fmt(bulk.seconds.allFinal, 1)} s`
        : `n/a (ran ${fmt(bulk.recipients)}; --recipients 500000)`,
      bulk.recipients >= 500_000 ? okMark(bulk.seconds.allFinal <= GOALS.fiveHundredThousandSeconds) : '',
    ],
    [
      'p99 requested send time → accepted, steady',
      `≤ ${fmt(GOALS.p99Ms)} ms`,
      steady ? `${fmt(steady.latencyMs.p99)} ms` : 'n/a',
      steady ? okMark(steady.latencyMs.p99 <= GOALS.p99Ms) : '',
    ],
    [
      'peak RSS per app (orders, email-sender, status-poller)',
      `≤ ${GOALS.rssMb} MB`,
      `${fmt(productPeak)} MB`,
      okMark(productPeak <= GOALS.rssMb),
    ],
  ];
  log(`\n${table(goalRows)}`);

  for (const [app, summaries] of Object.entries(profiles)) {
    for (const summary of summaries) {
      log(
        `\nCPU profile ${app} (${path.relative(process.cwd(), summary.file)}; busy ${fmt(summary.busyMs / 1000, 1)} s of ${fmt(summary.wallMs / 1000, 1)} s)`,
      );
      log(
        table([
          ['self time by package', '%'],
          ...summary.packages.slice(0, 8).map((entry) => [entry.name, fmt(entry.pct, 1)]),
        ]),
      );
      log(
        table([
          ['top functions (self time)', '%'],
          ...summary.functions.slice(0, 12).map((entry) => [entry.name, fmt(entry.pct, 1)]),
        ]),
      );
    }
  }
}

// ---------------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const settings = readSettings();
  const brokerPid = findBrokerPid(WORKSPACE_ROOT);
  const machine = describeMachine(brokerPid);
  log(
    `Pipeline benchmark: ${fmt(settings.recipients)} recipients, steady ${settings.steadyRate}/s for ${settings.steadySeconds} s, ` +
      `${settings.partitions} partitions\nmachine: ${String(machine['cpus'])} × ${String(machine['cpuModel'])}, ` +
      `${String(machine['memoryMiB'])} MiB, node ${process.version}, Kafka ${String(machine['kafka'])} (pid ${String(brokerPid ?? 'unknown')}), ` +
      `load ${JSON.stringify(machine['loadAverageAtStart'])}`,
  );
  const startedAt = new Date().toISOString();
  const baseline = settings.skipBaseline ? undefined : await runBaseline(settings);

  const nodeArgs: PipelineOptions['nodeArgs'] = Object.fromEntries(
    APP_NAMES.map((app) => [
      app,
      [
        ...(settings.cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', path.join(settings.cpuProfDir, app)] : []),
        ...(settings.nodeArgs[app] ?? []),
      ],
    ]),
  );
  const env: NonNullable<PipelineOptions['env']> = {
    ...settings.env,
    // The bulk and steady emails must fit the emulator's store, or the checks would count evicted ones as lost.
    'acs-emulator': {
      ACS_MAX_MESSAGES: String(Math.max(1_000_000, settings.recipients * 2)),
      ...(settings.env['acs-emulator'] ?? {}),
    },
  };
  log(`\nstarting the pipeline (settings over the defaults: ${JSON.stringify(env)})`);
  const pipeline = await Pipeline.start({
    label: 'bench',
    partitions: settings.partitions,
    env,
    nodeArgs,
  });
  const appPids = (): number[] => APP_NAMES.flatMap((app) => pipeline.pid(app) ?? []);
  const db = new Pool({
    connectionString: pipeline.databaseUrl,
    max: 2,
    application_name: BENCH_DB_APPLICATION,
  });
  const backends = async (bench: boolean): Promise<number[]> => {
    const { rows } = await db.query<{ pid: number }>(
      `SELECT pid FROM pg_stat_activity WHERE datname = $1 AND (application_name = $2) = $3`,
      [pipeline.databaseName, BENCH_DB_APPLICATION, bench],
    );
    return rows.map((row) => row.pid);
  };
  const meter = new ProcessMeter({
    ...Object.fromEntries(
      APP_NAMES.map((app) => [
        app,
        () => Promise.resolve(pipeline.pid(app) === undefined ? [] : [pipeline.pid(app) ?? 0]),
      ]),
    ),
    broker: () => Promise.resolve(brokerPid === undefined ? [] : [brokerPid]),
    // This run's backends: the apps' connections, and apart from them the benchmark's own queries.
    postgres: () => backends(false),
    'postgres (bench)': () => backends(true),
    bench: () => Promise.resolve([process.pid]),
  });
  // The benchmark's own connections (its application_name) so that their CPU is not counted as the apps'.
  const ledger = new NotificationLedger(
    async (sql, parameters) => (await db.query(sql, [...parameters])).rows,
  );
  let bulk: BulkResult;
  let steady: SteadyResult | undefined;
  let idle: IdleRates;
  try {
    log(`  logs: ${pipeline.logDir}`);
    await warmUp(pipeline, ledger, meter, settings);
    idle = await measureIdle(meter);
    bulk = await runBulk(db, idle, pipeline, ledger, meter, settings, appPids);
    if (settings.steadySeconds > 0) {
      steady = await runSteady(db, idle, pipeline, ledger, meter, settings, appPids);
    }
  } finally {
    log('\nstopping the pipeline');
    await db.end();
    await pipeline.stop();
  }

  const profiles: Record<string, ProfileSummary[]> = {};
  if (settings.cpuProfDir) {
    for (const app of APP_NAMES) profiles[app] = summarizeProfiles(path.join(settings.cpuProfDir, app));
  }
  printReport(bulk, steady, baseline, profiles);

  const report = {
    bulk: { ...bulk, samples: undefined },
    steady: steady ?? null,
    baseline: baseline ?? null,
    ratioToRawKafka: baseline ? round(bulk.notificationsPerSecond / baseline.endToEndPerSec, 3) : null,
    goals: GOALS,
    idleCpuSecondsPerSecond: idle,
    profiles,
    machine: { ...machine, loadAverageAtEnd: os.loadavg().map((value) => round(value, 2)) },
    settings: { ...settings, cpuProfiled: settings.cpuProfDir !== undefined },
    samples: bulk.samples,
    startedAt,
    timestamp: new Date().toISOString(),
  };
  mkdirSync(path.dirname(settings.out), { recursive: true });
  writeFileSync(settings.out, `${JSON.stringify(report, null, 2)}\n`);
  log(`\nwrote ${path.relative(process.cwd(), settings.out) || settings.out}`);

  // About 150 buckets whatever the run's length: 1 s buckets of a ten-minute run are mostly noise.
  const bucket = Math.max(1, Math.ceil(bulk.series.length / 150));
  const throughput: ThroughputPoint[] = [];
  for (let start = 0; start < bulk.series.length; start += bucket) {
    const slice = bulk.series.slice(start, start + bucket);
    const mean = (pick: (point: (typeof slice)[number]) => number): number =>
      round(slice.reduce((sum, point) => sum + pick(point), 0) / slice.length, 1);
    throughput.push(
      { second: start, series: 'accepted by ACS / s', perSecond: mean((point) => point.acceptedByAcs) },
      { second: start, series: 'final (Delivered) / s', perSecond: mean((point) => point.final) },
    );
  }
  const svg = await renderChart({
    title: `Pipeline benchmark: ${fmt(bulk.recipients)} recipients → ${fmt(bulk.notificationsPerSecond)} notifications/s end to end`,
    subtitle:
      `${String(machine['cpus'])} cores (${String(machine['cpuModel'])}), Node ${process.version}, Kafka ${String(machine['kafka'])}; ` +
      `all final after ${fmt(bulk.seconds.allFinal, 1)} s; ${new Date().toISOString().slice(0, 10)}`,
    throughput,
    bucketSeconds: bucket,
    latency: steady
      ? (['p50', 'p95', 'p99', 'max'] as const).map((key) => ({
          percentile: key,
          ms: steady?.latencyMs[key] ?? 0,
        }))
      : [],
    latencyTitle: steady ? `Latency at ${steady.targetRate} notifications/s` : 'Latency (no steady phase)',
    latencyGoalMs: GOALS.p99Ms,
  });
  const chart = settings.out.replace(/\.json$/, '') + '.svg';
  writeFileSync(chart, svg);
  log(`wrote ${path.relative(process.cwd(), chart)}`);
  if (settings.docsChart) {
    mkdirSync(path.dirname(settings.docsChart), { recursive: true });
    copyFileSync(chart, settings.docsChart);
    log(`copied to ${path.relative(process.cwd(), settings.docsChart)}`);
  }
  const failed =
    !bulk.checks.allFinal ||
    !bulk.checks.messagesPerNotificationExactlyOne ||
    (steady !== undefined && (!steady.checks.allFinal || !steady.checks.messagesPerNotificationExactlyOne));
  if (failed) throw new Error('checks failed: notifications lost, doubled or not final (see the table)');
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
