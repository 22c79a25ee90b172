/**
 * `npm run bench`: the headline benchmark — the whole pipeline (ACS emulator, orders, email-sender,
 * status-poller as their built processes, the local broker and PostgreSQL, all on this machine) from a large
 * order to every notification final. Prints tables (ending with the issue-12 goals, reached value next to each
 * target), writes bench/results/pipeline.json and a chart (bench/results/pipeline.svg).
 *
 *   node --conditions=@notifications/source -r @swc-node/register apps/pipeline-e2e/bench/pipeline.bench.ts \
 *     [--recipients 100000 | --scaling 10000,100000,500000] [--steady-rate 1000] [--steady-seconds 60] …
 *   (SWC_NODE_PROJECT=apps/pipeline-e2e/tsconfig.spec.json SWC_NODE_IGNORE_DYNAMIC=1, as the Nx target sets)
 *
 * Phases, on one pipeline started once with the apps' production defaults (plus any --set):
 *   baseline  `bench:kafka` (libs/messaging/bench) with --rounds 1 --scenarios raw, as its own process before the
 *             pipeline starts: plain kafkajs end-to-end msg/s on this machine now, the ceiling to compare with.
 *   warm-up   orders of --warmup recipients, one at a time, each until final (connections, consumer groups and the
 *             JIT): at least 5, then until one costs the pipeline within 5 % of the CPU per notification of the one
 *             before, at most --warmup-rounds of them. Two rounds alike early on are a plateau, not the end: two
 *             runs stopped after rounds costing 0.903 / 0.907 and 1.066 / 0.955 / 0.974 CPU-ms (their 100 000
 *             bulk then made 1 979 and 1 630/s), while runs that went on reached 0.644–0.784 in rounds 4 and 5
 *             (their 100 000 bulk 2 175–2 205/s). One small order does not warm it: after a 500-recipient
 *             warm-up three 10 000-recipient runs in a row cost 0.84, 0.70 and 0.62 CPU-ms per notification, the
 *             last one what a 100 000-recipient run costs (0.63) — the first runs paid what a fresh process pays
 *             once (V8's optimising compiles of the hot paths, heaps growing to their working size).
 *   bulk      --recipients recipients in orders of at most --order-size (orders' limit is 100 000), posted at
 *             once. Sampled every second from the database (notifications by result) until every notification
 *             is final; the emulator's messages are read as they arrive (paged with its `after` cursor, so the
 *             benchmark's memory stays bounded at 500 000 and the emulator may keep only a window). Then:
 *               throughput          recipients / (last order accepted (202) → last notification final)
 *               all accepted        → the last email recorded by the emulator
 *               all Succeeded+      → every notification past Sending (1 s sampling resolution)
 *               all final           → the last final result (the emulator's delivery reports make them Delivered)
 *             The checks: every notification final, exactly one emulator message per recipient (none lost, none
 *             doubled, none evicted unread), and the emulator's exact count of operation ids sent more than once
 *             unchanged. A run that fails them exits non-zero: a benchmark that lost mail is not a result.
 *   scaling   with --scaling SIZES instead of one bulk: a bulk run per size in turn (each until all final) on the
 *             same pipeline, and one table with a row per size — notifications/s, marginal CPU-ms per notification
 *             per process and for the pipeline (orders + email-sender + status-poller + broker + PostgreSQL, the
 *             emulator excluded), PostgreSQL transactions / inserted / updated / deleted rows per notification,
 *             peak RSS and GC time per app — and a table of rows read per notification for every index × size,
 *             then the flatness: pipeline CPU per notification at the largest size against the smallest.
 *   steady    orders of --steady-order-size recipients, requestedSendTime = now, posted on a fixed schedule for
 *             --steady-seconds so that --steady-rate notifications/s flow. Latency per notification = the
 *             emulator's receivedAt − the order's requestedSendTime, p50/p95/p99/max, split into stages from the
 *             database's timestamps (the scheduler's claim, the outbox relay, the pastdue consumer, the email
 *             claim, Kafka + email-sender).
 * Each phase records CPU seconds and peak RSS per process (/proc: the four apps, the broker JVM, this run's
 * PostgreSQL backends, this process; the apps' peak is reset at the start of each phase) and the machine's other
 * load; a phase during which other processes used more than a tenth of a core is flagged noisy (others share this
 * machine). GC time per app: prom-client's `nodejs_gc_duration_seconds_sum` from its management listener.
 * PostgreSQL counters are deltas of the run's database's `pg_stat_*` around each bulk run, read once the backends'
 * statistics are flushed, without the benchmark's own statements (see pg-stats.ts).
 *
 * SIGINT / SIGTERM / SIGHUP (Ctrl-C): every process the benchmark started is stopped (SIGTERM at once, SIGKILL for
 * what is left), the run's topics deleted and its database dropped; a second signal kills at once.
 *
 * Options (CLI flag, or environment variable):
 *   --recipients N          BENCH_RECIPIENTS          default 100000 (500000 = the reference's largest batches)
 *   --scaling N,N,…         BENCH_SCALING             bulk runs of these sizes instead of one of --recipients
 *   --order-size N          BENCH_ORDER_SIZE          default 100000 recipients per bulk order
 *   --warmup N              BENCH_WARMUP              default 10000 recipients per warm-up order
 *   --warmup-rounds N       BENCH_WARMUP_ROUNDS       default 8: at most this many warm-up orders (at least 5, or N
 *                                                     when smaller; 1 = one, as is)
 *   --steady-rate N         BENCH_STEADY_RATE         default 1000 notifications/s (the goal's rate)
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
 *   --subscribe http|kafka  BENCH_SUBSCRIBE           a status subscription covering every order (issue 14),
 *                                                     delivered to an HTTP endpoint or a Kafka topic inside this
 *                                                     process (see bench/subscription-sink.ts); each bulk waits
 *                                                     until every recorded event is delivered and reports it
 *   --subscribe-batch N     BENCH_SUBSCRIBE_BATCH     default 1: events per HTTP request (maxEventsPerRequest)
 *   --cpu-prof-dir DIR      BENCH_CPU_PROF_DIR        run the apps with `--cpu-prof` (one .cpuprofile per app,
 *                                                     written when the pipeline stops; whole process lifetime)
 *                                                     and summarise the top self-time functions per app;
 *                                                     profiling slows the apps, so such a run's numbers are not
 *                                                     the headline
 *   KAFKA_BROKERS, DATABASE_URL                       as for the end-to-end tests (local defaults)
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { consumerGroups, topicCatalog } from '@notifications/contracts';
import { Pool } from 'pg';
import { renderChart, type ThroughputPoint } from './bench-chart';
import { summarizeProfiles, type ProfileSummary } from './cpu-profile-summary';
import { EmulatorFeed } from './emulator-feed';
import { counterDelta, PgStats } from './pg-stats';
import { SubscriptionSink, type SubscribeMode, type SubscriptionRunResult } from './subscription-sink';
import { ProcessMeter, childPids, findBrokerPid, waitForQuiet, type GroupUsage } from './process-stats';
import { NotificationLedger, type RowQuery } from '../test/support/notification-ledger';
import { PENDING_RESULTS, isFinal } from '../test/support/orders-api';
import { APP_NAMES, Pipeline, type AppName, type PipelineOptions } from '../test/support/pipeline';

const WORKSPACE_ROOT = path.resolve(__dirname, '..', '..', '..');
/** orders refuses larger orders (its request limit). */
const MAX_ORDER_SIZE = 100_000;
const DOMAIN = 'bench.example.org';
/** The benchmark's own database connections, told apart from the apps' in pg_stat_activity. */
const BENCH_DB_APPLICATION = 'pipeline-bench';
/** Seconds of the idle pipeline measured after the warm-up (its polling loops' CPU, subtracted for "marginal"). */
const IDLE_SECONDS = 15;
/** Issue 12's targets (2-core machine, every part local). */
const GOALS = {
  notificationsPerSecond: 2_000,
  /** The order size the throughput target is stated for. */
  throughputRecipients: 100_000,
  pipelineCpuMsPerNotification: 1.0,
  indexRowsPerNotification: 50,
  flatnessPct: 10,
  fiveHundredThousandSeconds: 300,
  steadyRate: 1_000,
  steadySeconds: 60,
  p99Ms: 2_000,
  rssMb: 256,
} as const;
/** The product's apps (the emulator stands in for ACS and is reported, not judged). */
const PRODUCT_APPS: readonly AppName[] = ['orders', 'email-sender', 'status-poller'];
/** Apps whose peak RSS the scaling table shows (the emulator's too: it must stay bounded at 500 000). */
const RSS_APPS: readonly AppName[] = [...PRODUCT_APPS, 'acs-emulator'];
/** What "the pipeline" costs: everything but the emulator (a test double) and the benchmark itself. */
const PIPELINE_GROUPS = ['orders', 'email-sender', 'status-poller', 'broker', 'postgres'] as const;
/** The per-process columns of the scaling table. */
const CPU_GROUPS = [...PIPELINE_GROUPS, 'acs-emulator'] as const;

interface Settings {
  readonly recipients: number;
  /** Bulk sizes of a scaling run, in order; undefined for one bulk of `recipients`. */
  readonly scaling: readonly number[] | undefined;
  readonly orderSize: number;
  readonly warmup: number;
  readonly warmupRounds: number;
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
  readonly subscribe: SubscribeMode | undefined;
  readonly subscribeBatch: number;
}

// ---------------------------------------------------------------------------------------------------------
// Options

function readSettings(): Settings {
  const { values } = parseArgs({
    options: {
      recipients: { type: 'string' },
      scaling: { type: 'string' },
      'order-size': { type: 'string' },
      warmup: { type: 'string' },
      'warmup-rounds': { type: 'string' },
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
      subscribe: { type: 'string' },
      'subscribe-batch': { type: 'string' },
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
  const parseInt = (raw: string, what: string, minimum: number): number => {
    const value = Number(raw);
    if (!Number.isInteger(value) || value < minimum)
      throw new Error(`${what}=${raw}: expected an integer ≥ ${minimum}`);
    return value;
  };
  const int = (flag: string | undefined, env: string, fallback: number, minimum = 1): number => {
    const raw = flag ?? process.env[env];
    return raw === undefined || raw === '' ? fallback : parseInt(raw, env, minimum);
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
  const scalingRaw = values.scaling ?? process.env['BENCH_SCALING'];
  const scaling =
    scalingRaw === undefined || scalingRaw === ''
      ? undefined
      : scalingRaw.split(',').map((size) => parseInt(size.trim().replace(/_/g, ''), 'BENCH_SCALING', 1));
  const dir = values['cpu-prof-dir'] ?? process.env['BENCH_CPU_PROF_DIR'];
  const subscribe = values.subscribe ?? process.env['BENCH_SUBSCRIBE'];
  if (subscribe !== undefined && subscribe !== '' && subscribe !== 'http' && subscribe !== 'kafka') {
    throw new Error(`--subscribe ${subscribe}: expected http or kafka`);
  }
  const docsChart = values['docs-chart'] ?? process.env['BENCH_DOCS_CHART'];
  return {
    recipients: int(values.recipients, 'BENCH_RECIPIENTS', 100_000),
    scaling,
    orderSize,
    warmup: int(values.warmup, 'BENCH_WARMUP', 10_000),
    warmupRounds: int(values['warmup-rounds'], 'BENCH_WARMUP_ROUNDS', 8),
    steadyRate: int(values['steady-rate'], 'BENCH_STEADY_RATE', GOALS.steadyRate),
    steadySeconds: int(values['steady-seconds'], 'BENCH_STEADY_SECONDS', GOALS.steadySeconds, 0),
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
    subscribe: subscribe === '' ? undefined : subscribe,
    subscribeBatch: int(values['subscribe-batch'], 'BENCH_SUBSCRIBE_BATCH', 1),
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

/** Adds one to `buckets[index]`, growing the array with zeros (per-second series). */
function bump(buckets: number[], index: number): void {
  while (buckets.length <= index) buckets.push(0);
  buckets[index] = (buckets[index] ?? 0) + 1;
}

/**
 * Seconds each product app has spent in garbage collection since it started: prom-client's default metric
 * `nodejs_gc_duration_seconds` (a histogram per GC kind; its `_sum` lines added up), read from the app's management
 * listener with an operator's token. Undefined for an app that does not answer.
 */
async function gcSeconds(pipeline: Pipeline): Promise<Record<string, number | undefined>> {
  const token = await pipeline.operatorToken();
  const out: Record<string, number | undefined> = {};
  for (const app of PRODUCT_APPS) {
    const response = await fetch(`${pipeline.managementUrl(app)}/metrics`, {
      headers: { authorization: `Bearer ${token}` },
    }).catch(() => undefined);
    if (response?.ok !== true) {
      out[app] = undefined;
      continue;
    }
    let sum = 0;
    let found = false;
    for (const match of (await response.text()).matchAll(
      /^nodejs_gc_duration_seconds_sum(?:\{[^}]*\})? (\S+)$/gm,
    )) {
      sum += Number(match[1]);
      found = true;
    }
    out[app] = found ? sum : undefined;
  }
  return out;
}

/** status-poller's own counters (its `/stats`, summed over its replicas), as deltas over a run. */
interface PollerCounters {
  /** Messages of the accepted topic, its retry topic and the delay tiers handed to polling. */
  readonly messages: number;
  /** Status checks made with ACS. */
  readonly checks: number;
  /** Checks skipped because the replica had already published the operation's final delivery report. */
  readonly skippedReported: number;
  /** Records the consumer runner finished (handled, counted by the runner rather than by polling). */
  readonly handled: number;
}

/** Undefined when a replica does not answer (then nothing can be said about what it consumed). */
async function pollerCounters(pipeline: Pipeline): Promise<PollerCounters | undefined> {
  const token = await pipeline.operatorToken();
  const sum = { messages: 0, checks: 0, skippedReported: 0, handled: 0 };
  for (let replica = 0; replica < pipeline.replicaCount('status-poller'); replica += 1) {
    const response = await fetch(`${pipeline.managementUrl('status-poller', replica)}/stats`, {
      headers: { authorization: `Bearer ${token}` },
    }).catch(() => undefined);
    if (response?.ok !== true) return undefined;
    const stats = (await response.json()) as {
      polling?: { messages?: number; checks?: number; skippedReported?: number };
      consumer?: { handled?: number };
    };
    sum.messages += stats.polling?.messages ?? 0;
    sum.checks += stats.polling?.checks ?? 0;
    sum.skippedReported += stats.polling?.skippedReported ?? 0;
    sum.handled += stats.consumer?.handled ?? 0;
  }
  return sum;
}

/**
 * status-poller's consumer-group lag on `email.sending.accepted` and its retry topic (high watermark − committed
 * offset, summed over partitions), polled until it is 0 or `waitSeconds` have passed: the runner commits what it
 * resolved about once a second, so the last batch's commit trails "all final" a little. Not 0 then: records the
 * poller never finished, so the run cannot claim it consumed everything.
 */
async function pollerAcceptedLag(pipeline: Pipeline, waitSeconds: number): Promise<number> {
  const topics = topicCatalog(pipeline.suffix);
  const names = [topics.emailSendingAccepted.name, topics.emailSendingAcceptedRetry.name];
  const groupId = consumerGroups(pipeline.suffix).statusPoller;
  return pipeline.withKafka(async ({ admin }) => {
    const deadline = Date.now() + waitSeconds * 1000;
    for (;;) {
      let lag = 0;
      for (const topic of names) {
        const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
        for (const { partition, high, low } of await admin.fetchTopicOffsets(topic)) {
          const offset = Number(committed?.partitions.find((p) => p.partition === partition)?.offset ?? -1);
          lag += Math.max(0, Number(high) - (offset >= 0 ? offset : Number(low)));
        }
      }
      if (lag === 0 || Date.now() >= deadline) return lag;
      await sleep(500);
    }
  });
}

/** Everything a phase needs from the running pipeline. */
interface Run {
  readonly pipeline: Pipeline;
  readonly stats: PgStats;
  readonly ledger: NotificationLedger;
  readonly meter: ProcessMeter;
  readonly settings: Settings;
  /** The apps' pids (their peak RSS is reset per phase; the quiet-machine check leaves them out). */
  readonly appPids: () => number[];
  /** `--subscribe`: the subscriber every order's status changes are pushed to. */
  readonly sink: SubscriptionSink | undefined;
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
  run: Run,
  orderIds: () => readonly string[],
  expected: number,
  t0: number,
  label: string,
  onTick: () => Promise<void> = () => Promise.resolve(),
): Promise<Sample[]> {
  const samples: Sample[] = [];
  let lastFinal = -1;
  let loggedTens = -1;
  let lastProgressAt = Date.now();
  let nextAt = Date.now();
  for (;;) {
    nextAt += 1000;
    const counts = await run.ledger.countsByResult(orderIds());
    const processes = await run.meter.sample();
    await onTick();
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
    if (run.pipeline.unexpectedExits.length > 0) {
      const exit = run.pipeline.unexpectedExits[0];
      throw new Error(
        `${exit?.app ?? '?'} exited (${String(exit?.code)}):\n${exit?.lastLines.join('\n') ?? ''}`,
      );
    }
    if (final !== lastFinal) {
      lastFinal = final;
      lastProgressAt = Date.now();
    } else if (Date.now() - lastProgressAt > run.settings.stallSeconds * 1000) {
      throw new Error(
        `[${label}] no notification became final for ${run.settings.stallSeconds} s: ${JSON.stringify(counts)}`,
      );
    }
    await sleep(Math.max(0, nextAt - Date.now()));
  }
}

/** PostgreSQL's work per notification during a bulk run (deltas of the run database's pg_stat_*). */
interface DatabasePerNotification {
  readonly transactions: number;
  readonly inserted: number;
  readonly updated: number;
  readonly deleted: number;
  /** Index entries read per notification (idx_tup_read), every index with a non-zero value. */
  readonly indexRowsRead: Record<string, number>;
  readonly indexScans: Record<string, number>;
  /** Rows read by sequential scans per notification, every table with a non-zero value. */
  readonly seqRowsRead: Record<string, number>;
  /** Seconds waited for the backends to flush their statistics before the reading. */
  readonly settleSeconds: number;
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
  /**
   * The longest run of seconds in which ACS accepted emails but none became final: how long status updates were
   * held back somewhere (orders' single consumer held them for the whole of a large order's intake).
   */
  readonly longestFinalStallSeconds: number;
  /** `machineProbeMs` right before the run and right after it: how fast this machine was meanwhile. */
  readonly machineProbeMs: { readonly before: number; readonly after: number };
  readonly results: Record<string, number>;
  readonly checks: {
    allFinal: boolean;
    messagesPerNotificationExactlyOne: boolean;
    lost: number;
    doubled: number;
    /** Messages that left the emulator's window before the benchmark read them (then nothing can be checked). */
    evictedUnread: number;
    /** The emulator's exact count of operation ids with more than one message, during the run. */
    sentMoreThanOnce: number;
    /** Operation ids POSTed again (an SDK retry, a redelivery); ACS keeps one operation per id. */
    duplicateSends: number;
    /** status-poller's lag on the accepted topic (and its retry topic) at the end: 0 = it consumed everything. */
    pollerAcceptedLag: number;
  };
  /** status-poller's counters during the run (null: a replica's `/stats` did not answer). */
  readonly poller: PollerCounters | null;
  readonly usage: Usage;
  /** Marginal CPU-ms per notification of orders + email-sender + status-poller + broker + PostgreSQL. */
  readonly pipelineCpuMsPerNotification: number;
  /** Seconds each product app spent in GC during the run (undefined: its /metrics did not answer). */
  readonly gcSeconds: Record<string, number | null>;
  readonly database: DatabasePerNotification;
  readonly series: { second: number; acceptedByAcs: number; final: number }[];
  readonly samples: Sample[];
  /** `--subscribe`: what the subscriber received, and how long after "all final" the last event was delivered. */
  readonly subscription: SubscriptionRunResult | null;
}

const perNotification = (values: Record<string, number>, notifications: number): Record<string, number> =>
  Object.fromEntries(
    Object.entries(values)
      .filter(([, value]) => value > 0)
      .sort(([, a], [, b]) => b - a)
      .map(([name, value]) => [name, round(value / notifications, 2)]),
  );

const pipelineCpuMs = (usage: Usage): number =>
  round(
    PIPELINE_GROUPS.reduce((sum, name) => sum + (usage.processes[name]?.marginalCpuSecondsPer1000 ?? 0), 0),
    3,
  );

/** The longest run of consecutive seconds with emails accepted by ACS and none final (see BulkResult). */
function longestFinalStall(series: readonly { acceptedByAcs: number; final: number }[]): number {
  let longest = 0;
  let current = 0;
  for (const { acceptedByAcs, final } of series) {
    current = acceptedByAcs > 0 && final === 0 ? current + 1 : 0;
    longest = Math.max(longest, current);
  }
  return longest;
}

const PROBE_BYTES = Buffer.alloc(32 * 1024 * 1024, 0x5a);

/**
 * A fixed piece of work (SHA-256 of 32 MiB, best of three) timed in this process: how fast one core of the machine
 * is right now. Runs of one build differed by up to a third here while nothing else ran inside the machine (the
 * same 10 000-recipient warm-up order cost 0.73 CPU-ms per notification in one run, 1.01 in another): the host's
 * other tenants and its clock are invisible to the "noisy" check, so each bulk run records this before and after.
 */
function machineProbeMs(): number {
  let best = Number.POSITIVE_INFINITY;
  for (let trial = 0; trial < 3; trial += 1) {
    const started = performance.now();
    createHash('sha256').update(PROBE_BYTES).digest();
    best = Math.min(best, performance.now() - started);
  }
  return round(best, 1);
}

/** The bulk run's machine probe: the mean of the times before and after it. */
const probeMeanMs = (bulk: Pick<BulkResult, 'machineProbeMs'>): number =>
  (bulk.machineProbeMs.before + bulk.machineProbeMs.after) / 2;

/**
 * One bulk run of `recipients` (bulk run number `index`, which names its recipients' addresses so that each
 * emulator message maps to its recipient without keeping a list of them).
 */
async function runBulk(run: Run, idle: IdleRates, recipients: number, index: number): Promise<BulkResult> {
  const { pipeline, stats, meter, settings } = run;
  const sizes = splitSizes(recipients, settings.orderSize);
  const label = settings.scaling ? `bulk ${fmt(recipients)}` : 'bulk';
  log(
    `\n${label}: ${fmt(recipients)} recipients in ${sizes.length} order(s) of ≤ ${fmt(settings.orderSize)}`,
  );
  const prefix = `b${index}o`;
  const addressPattern = new RegExp(`^b${index}o(\\d+)-(\\d+)@`);
  const bodies = sizes.map((size, order) => recipientsOf(size, `${prefix}${order}`));
  const busyBefore = await waitForQuiet(
    settings.quietWaitSeconds,
    settings.quietBusyPct,
    run.appPids,
    (line) => log(`  ${line}`),
  );
  await stats.settle((line) => log(`  ${line}`));
  const countersBefore = await stats.read();
  const statsBefore = await pipeline.emulator.stats();
  const gcBefore = await gcSeconds(pipeline);
  const pollerBefore = await pollerCounters(pipeline);
  // Messages per recipient (saturating at 255): exact loss and duplicate checks in one byte per notification.
  const messagesPerRecipient = new Uint8Array(recipients);
  const accepted: number[] = [];
  let lastAcceptedMs = -Infinity;
  const feed = new EmulatorFeed(pipeline.url('acs-emulator'), statsBefore.messages);
  const eventsBefore = run.sink?.eventsReceived ?? 0;
  const deliveriesBefore = run.sink?.deliveriesReceived ?? 0;
  const probeBefore = machineProbeMs();
  await meter.start(run.appPids());
  const t0 = Date.now();
  const acceptedAt: number[] = [];
  const orderIds = await Promise.all(
    bodies.map(async (body, order) => {
      const id = await pipeline.orders.postEmailOrder({
        recipients: body,
        subject: `Bench order ${index}.${order}`,
        body: 'Hello from the pipeline benchmark.',
        requestedSendTime: new Date().toISOString(),
      });
      acceptedAt.push(Date.now());
      return id;
    }),
  );
  bodies.length = 0;
  const lastAccepted = maxOf(acceptedAt);
  log(`  ${orderIds.length} order(s) accepted in ${fmt(lastAccepted - t0)} ms`);
  const readMessages = (): Promise<void> =>
    feed.poll((message) => {
      const match = addressPattern.exec(message.address);
      if (!match) return;
      const recipient = Number(match[1]) * settings.orderSize + Number(match[2]);
      if (recipient >= recipients) return;
      const count = messagesPerRecipient[recipient] ?? 0;
      if (count < 255) messagesPerRecipient[recipient] = count + 1;
      bump(accepted, Math.max(0, Math.floor((message.receivedAtMs - t0) / 1000)));
      lastAcceptedMs = Math.max(lastAcceptedMs, message.receivedAtMs);
    });
  const samples = await sampleUntilFinal(run, () => orderIds, recipients, t0, label, readMessages);
  const subscriptionDrainedAt = await waitForSubscriptionDrain(run, label);
  const usage = usageOf(await meter.stop(), recipients, busyBefore, idle);
  const machineProbe = { before: probeBefore, after: machineProbeMs() };
  log(`  machine probe: ${fmt(machineProbe.before, 1)} ms before, ${fmt(machineProbe.after, 1)} ms after`);
  const gcAfter = await gcSeconds(pipeline);
  // Delivery reports may still be on their way for messages read above; the last ones arrived before "final".
  await readMessages();
  const statsAfter = await pipeline.emulator.stats();
  const settleSeconds = await stats.settle((line) => log(`  ${line}`));
  const counters = counterDelta(countersBefore, await stats.read());
  const acceptedLag = await pollerAcceptedLag(pipeline, 30);
  if (acceptedLag > 0) log(`  ⚠ status-poller's lag on the accepted topic is ${fmt(acceptedLag)} after 30 s`);
  const pollerAfter = await pollerCounters(pipeline);

  // Exact times of the final results from the database, aggregated there (no row per notification here).
  const [summary] = await stats.tracked<{
    total: string;
    final: string;
    lastFinalMs: string | null;
    lastCreatedMs: string | null;
  }>(
    `SELECT count(*) AS total, count(*) FILTER (WHERE result <> ALL($2::text[])) AS final,
            extract(epoch FROM max(result_time) FILTER (WHERE result <> ALL($2::text[]))) * 1000 AS "lastFinalMs",
            extract(epoch FROM max(created)) * 1000 AS "lastCreatedMs"
       FROM email_notifications WHERE order_id = ANY($1::uuid[])`,
    [orderIds, PENDING_RESULTS],
  );
  const finalPerSecond = await stats.tracked<{ second: number; count: string }>(
    `SELECT floor((extract(epoch FROM result_time) * 1000 - $3) / 1000)::int AS second, count(*) AS count
       FROM email_notifications WHERE order_id = ANY($1::uuid[]) AND result <> ALL($2::text[])
      GROUP BY 1 ORDER BY 1`,
    [orderIds, PENDING_RESULTS, t0],
  );
  const results = await run.ledger.countsByResult(orderIds);
  const final: number[] = [];
  for (const row of finalPerSecond) {
    const second = Math.max(0, row.second);
    while (final.length <= second) final.push(0);
    final[second] = (final[second] ?? 0) + Number(row.count);
  }
  let lost = 0;
  let doubled = 0;
  for (const count of messagesPerRecipient) {
    if (count === 0) lost += 1;
    else if (count > 1) doubled += 1;
  }
  const total = Number(summary?.total ?? 0);
  const finalCount = Number(summary?.final ?? 0);
  const allFinalAt = Number(summary?.lastFinalMs ?? NaN);
  const sentMoreThanOnce =
    statsAfter.notificationsSentMoreThanOnce - statsBefore.notificationsSentMoreThanOnce;
  if (sentMoreThanOnce > 0) {
    const response = await fetch(`${pipeline.url('acs-emulator')}/admin/duplicates`);
    const listed =
      ((await response.json()) as { sentMoreThanOnce?: { id: string }[] }).sentMoreThanOnce ?? [];
    log(
      `  ⚠ the emulator recorded more than one message for: ${listed
        .slice(0, 5)
        .map((entry) => entry.id)
        .join(', ')} …`,
    );
  }
  const series = Array.from({ length: Math.max(accepted.length, final.length) }, (_, second) => ({
    second,
    acceptedByAcs: accepted[second] ?? 0,
    final: final[second] ?? 0,
  }));
  const firstSample = (test: (sample: Sample) => boolean): number | null =>
    samples.find(test)?.second ?? null;
  const gc: Record<string, number | null> = {};
  for (const app of PRODUCT_APPS) {
    const before = gcBefore[app];
    const after = gcAfter[app];
    gc[app] = before === undefined || after === undefined ? null : round(after - before, 2);
  }
  return {
    recipients,
    orders: orderIds.length,
    postMs: lastAccepted - t0,
    notificationsPerSecond: round((recipients * 1000) / (allFinalAt - lastAccepted)),
    seconds: {
      lastOrderAccepted: round((lastAccepted - t0) / 1000, 2),
      allCreated:
        summary?.lastCreatedMs == null ? null : round((Number(summary.lastCreatedMs) - t0) / 1000, 2),
      allAcceptedByAcs: round((lastAcceptedMs - t0) / 1000, 2),
      allSucceededOrBetter: firstSample((sample) => sample.pastSending === recipients),
      allFinal: round((allFinalAt - t0) / 1000, 2),
    },
    peakAcceptedPerSecond: maxOf(accepted),
    peakFinalPerSecond: maxOf(final),
    longestFinalStallSeconds: longestFinalStall(series),
    results,
    checks: {
      allFinal: total === recipients && finalCount === recipients,
      messagesPerNotificationExactlyOne:
        lost === 0 && doubled === 0 && feed.missed === 0 && sentMoreThanOnce === 0 && total === recipients,
      lost,
      doubled,
      evictedUnread: feed.missed,
      sentMoreThanOnce,
      duplicateSends: statsAfter.duplicateSends - statsBefore.duplicateSends,
      pollerAcceptedLag: acceptedLag,
    },
    poller:
      pollerBefore === undefined || pollerAfter === undefined
        ? null
        : {
            messages: pollerAfter.messages - pollerBefore.messages,
            checks: pollerAfter.checks - pollerBefore.checks,
            skippedReported: pollerAfter.skippedReported - pollerBefore.skippedReported,
            handled: pollerAfter.handled - pollerBefore.handled,
          },
    usage,
    machineProbeMs: machineProbe,
    pipelineCpuMsPerNotification: pipelineCpuMs(usage),
    gcSeconds: gc,
    database: {
      transactions: round(counters.transactions / recipients, 2),
      inserted: round(counters.inserted / recipients, 2),
      updated: round(counters.updated / recipients, 2),
      deleted: round(counters.deleted / recipients, 2),
      indexRowsRead: perNotification(counters.indexRowsRead, recipients),
      indexScans: perNotification(counters.indexScans, recipients),
      seqRowsRead: perNotification(counters.seqRowsRead, recipients),
      settleSeconds: round(settleSeconds, 1),
    },
    series,
    samples,
    subscription:
      run.sink === undefined
        ? null
        : {
            mode: run.sink.mode,
            events: run.sink.eventsReceived - eventsBefore,
            eventsPerNotification: round((run.sink.eventsReceived - eventsBefore) / recipients, 2),
            requests: run.sink.deliveriesReceived - deliveriesBefore,
            drainedAfterFinalSeconds:
              subscriptionDrainedAt === undefined
                ? null
                : round((subscriptionDrainedAt - allFinalAt) / 1000, 2),
          },
  };
}

/**
 * `--subscribe`: waits until orders has delivered every event it recorded (the subscription's pending count is 0),
 * so the phase's CPU includes the delivery; returns when, or undefined after the stall limit.
 */
async function waitForSubscriptionDrain(run: Run, label: string): Promise<number | undefined> {
  const sink = run.sink;
  if (sink === undefined) return undefined;
  const deadline = Date.now() + run.settings.stallSeconds * 1000;
  let lastLog = 0;
  while (Date.now() < deadline) {
    const pending = await sink.pending(async (id) => {
      const [row] = await run.stats.tracked<{ pending: string }>(
        'SELECT count(*) AS pending FROM subscription_events WHERE subscription_id = $1',
        [id],
      );
      return Number(row?.pending ?? 0);
    });
    if (pending === 0) return Date.now();
    if (Date.now() - lastLog >= 10_000) {
      lastLog = Date.now();
      log(`  [${label}] subscription: ${fmt(pending)} events pending, ${fmt(sink.eventsReceived)} received`);
    }
    await sleep(500);
  }
  log(`  [${label}] ⚠ subscription not drained within ${run.settings.stallSeconds} s`);
  return undefined;
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
    evictedUnread: number;
    sentMoreThanOnce: number;
  };
  readonly usage: Usage;
  readonly series: { second: number; acceptedByAcs: number }[];
}

async function runSteady(run: Run, idle: IdleRates): Promise<SteadyResult> {
  const { pipeline, stats, meter, settings } = run;
  const intervalMs = (settings.steadyOrderSize * 1000) / settings.steadyRate;
  const count = Math.max(1, Math.round((settings.steadySeconds * 1000) / intervalMs));
  log(
    `\nsteady: ${count} orders × ${settings.steadyOrderSize} recipients, one every ${round(intervalMs, 1)} ms ` +
      `(${settings.steadyRate} notifications/s for ${settings.steadySeconds} s), requestedSendTime = now`,
  );
  const busyBefore = await waitForQuiet(
    settings.quietWaitSeconds,
    settings.quietBusyPct,
    run.appPids,
    (line) => log(`  ${line}`),
  );
  const statsBefore = await pipeline.emulator.stats();
  const feed = new EmulatorFeed(pipeline.url('acs-emulator'), statsBefore.messages);
  // First receipt and message count per notification id: bounded by the steady phase's size (rate × seconds).
  const received = new Map<string, { firstMs: number; count: number }>();
  const readMessages = (): Promise<void> =>
    feed.poll((message) => {
      if (!message.address.startsWith('steady')) return;
      const entry = received.get(message.operationId);
      if (entry) entry.count += 1;
      else received.set(message.operationId, { firstMs: message.receivedAtMs, count: 1 });
    });
  await meter.start(run.appPids());
  const since = new Date();
  const t0 = Date.now();
  const requested = new Map<string, number>();
  const orderIds: string[] = [];
  let postErrors = 0;
  const posts: Promise<void>[] = [];
  let nextRead = Date.now() + 1000;
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
    // Read the emulator's messages while posting too: it may keep only a window of them.
    if (Date.now() >= nextRead) {
      nextRead = Date.now() + 1000;
      posts.push(readMessages());
    }
  }
  await Promise.all(posts);
  const expected = orderIds.length * settings.steadyOrderSize;
  await sampleUntilFinal(run, () => orderIds, expected, t0, 'steady', readMessages);
  const usage = usageOf(await meter.stop(), expected, busyBefore, idle);
  await readMessages();
  const statsAfter = await pipeline.emulator.stats();

  // Stage timestamps: the orders.pastdue outbox row (the scheduler's claim) and its publish, the notification's
  // creation (the pastdue consumer), the email.queue outbox row (the email claim) and its publish.
  const rows = await stats.tracked<{
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
  const accepted: number[] = [];
  for (const row of rows) {
    const entry = received.get(row.id);
    if (entry === undefined) lost += 1;
    else if (entry.count > 1) doubled += 1;
    const acceptedAt = entry?.firstMs;
    const requestedAt = requested.get(row.orderId);
    if (acceptedAt === undefined || requestedAt === undefined) continue;
    bump(accepted, Math.max(0, Math.floor((acceptedAt - t0) / 1000)));
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
  // The offered load's window, without the ramp-up before the first email and the drain after the last order.
  const window = accepted.slice(3, Math.max(4, Math.floor(settings.steadySeconds)));
  const achieved = window.reduce((sum, value) => sum + value, 0) / Math.max(1, window.length);
  const sentMoreThanOnce =
    statsAfter.notificationsSentMoreThanOnce - statsBefore.notificationsSentMoreThanOnce;
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
      messagesPerNotificationExactlyOne:
        lost === 0 &&
        doubled === 0 &&
        feed.missed === 0 &&
        sentMoreThanOnce === 0 &&
        rows.length === expected,
      lost,
      doubled,
      evictedUnread: feed.missed,
      sentMoreThanOnce,
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

/** One warm-up order: its size, how long it took to be final, and what it cost the pipeline (idle included). */
interface WarmUpRound {
  readonly recipients: number;
  readonly seconds: number;
  readonly pipelineCpuMsPerNotification: number;
}

// A round within this fraction of the one before is warm: settled rounds differed by up to ~5 % here (noise).
const WARM_WITHIN = 0.05;
// Rounds run before that test counts: the cost can rest on a plateau for two rounds and fall again (see the header).
const WARM_MIN_ROUNDS = 5;

/**
 * Orders of `--warmup` recipients, one after the other: WARM_MIN_ROUNDS of them, then until the pipeline's CPU per
 * notification stops falling (within WARM_WITHIN of the round before), at most `--warmup-rounds`. Idle is not
 * known yet, so the cost compared is the raw one; rounds of one size last about as long, so their idle share is
 * alike.
 */
async function warmUp(run: Run): Promise<WarmUpRound[]> {
  const { warmup, warmupRounds } = run.settings;
  log(
    `\nwarm-up: orders of ${fmt(warmup)} recipients until the CPU per notification settles ` +
      `(${Math.min(WARM_MIN_ROUNDS, warmupRounds)}–${warmupRounds})`,
  );
  const rounds: WarmUpRound[] = [];
  for (let round = 1; round <= warmupRounds; round += 1) {
    await run.meter.start(run.appPids());
    const t0 = Date.now();
    const id = await run.pipeline.orders.postEmailOrder({
      recipients: recipientsOf(warmup, `warmup${round}`),
    });
    await sampleUntilFinal(run, () => [id], warmup, t0, `warm-up ${round}`);
    await waitForSubscriptionDrain(run, `warm-up ${round}`);
    const usage = usageOf(await run.meter.stop(), warmup, undefined, {});
    const cost = pipelineCpuMs(usage);
    rounds.push({ recipients: warmup, seconds: usage.seconds ?? 0, pipelineCpuMsPerNotification: cost });
    const before = rounds.at(-2)?.pipelineCpuMsPerNotification;
    const settled =
      round >= WARM_MIN_ROUNDS && before !== undefined && Math.abs(cost - before) <= WARM_WITHIN * before;
    log(
      `  → pipeline ${fmt(cost, 3)} CPU-ms per notification (idle included)` +
        (before === undefined
          ? ''
          : `, ${fmt(((cost - before) / before) * 100, 1)} % against the one before`),
    );
    if (settled) break;
  }
  return rounds;
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
  // libs/dev-infra records the version beside the broker's server.properties (its last argument).
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

type GoalStatus = 'met' | 'not met' | 'not measured';

interface GoalRow {
  readonly goal: string;
  readonly target: string;
  readonly reached: string;
  readonly status: GoalStatus;
}

const judged = (ok: boolean): GoalStatus => (ok ? 'met' : 'not met');

/** Issue 12's targets next to what this run reached; a target the run did not exercise is "not measured". */
function goalsOf(
  bulks: readonly BulkResult[],
  steady: SteadyResult | undefined,
  scaling: boolean,
): GoalRow[] {
  const goals: GoalRow[] = [];
  const largest = bulks.reduce<BulkResult | undefined>(
    (best, bulk) => (best === undefined || bulk.recipients > best.recipients ? bulk : best),
    undefined,
  );
  const atTarget = bulks.find((bulk) => bulk.recipients === GOALS.throughputRecipients);
  goals.push({
    goal: `end to end, a ${fmt(GOALS.throughputRecipients)}-recipient order`,
    target: `≥ ${fmt(GOALS.notificationsPerSecond)} notifications/s`,
    reached: atTarget
      ? `${fmt(atTarget.notificationsPerSecond)}/s`
      : largest
        ? `${fmt(largest.notificationsPerSecond)}/s at ${fmt(largest.recipients)} recipients`
        : 'n/a',
    status: atTarget
      ? judged(atTarget.notificationsPerSecond >= GOALS.notificationsPerSecond)
      : 'not measured',
  });
  // Per notification: judged at the 100 000 run where there is one, else at the largest.
  const cpuRun = atTarget ?? largest;
  goals.push({
    goal: 'pipeline CPU per notification (marginal, emulator excluded)',
    target: `≤ ${fmt(GOALS.pipelineCpuMsPerNotification, 1)} CPU-ms`,
    reached: cpuRun
      ? `${fmt(cpuRun.pipelineCpuMsPerNotification, 2)} ms at ${fmt(cpuRun.recipients)} recipients`
      : 'n/a',
    status: cpuRun
      ? judged(cpuRun.pipelineCpuMsPerNotification <= GOALS.pipelineCpuMsPerNotification)
      : 'not measured',
  });
  let worst: { index: string; rows: number; recipients: number } | undefined;
  for (const bulk of bulks) {
    for (const [index, rows] of Object.entries(bulk.database.indexRowsRead)) {
      if (worst === undefined || rows > worst.rows) worst = { index, rows, recipients: bulk.recipients };
    }
  }
  goals.push({
    goal: 'rows read per notification, every index',
    target: `≤ ${fmt(GOALS.indexRowsPerNotification)}`,
    reached: worst ? `${fmt(worst.rows, 1)} (${worst.index}, ${fmt(worst.recipients)} recipients)` : 'n/a',
    status: bulks.length > 0 ? judged((worst?.rows ?? 0) <= GOALS.indexRowsPerNotification) : 'not measured',
  });
  const flatness = scaling ? flatnessOf(bulks) : undefined;
  goals.push({
    goal: 'pipeline CPU per notification, largest size vs smallest',
    target: `within ${GOALS.flatnessPct} %`,
    reached: flatness
      ? `${flatness.pct >= 0 ? '+' : ''}${fmt(flatness.pct, 1)} % (${fmt(flatness.largest)} vs ${fmt(flatness.smallest)})`
      : 'n/a (--scaling)',
    status: flatness ? judged(Math.abs(flatness.pct) <= GOALS.flatnessPct) : 'not measured',
  });
  const big = bulks.find((bulk) => bulk.recipients >= 500_000);
  goals.push({
    goal: '500 000 recipients fully final (from the first POST)',
    target: `≤ ${GOALS.fiveHundredThousandSeconds} s`,
    reached: big ? `${fmt(big.seconds.allFinal, 1)} s` : 'n/a (--recipients 500000)',
    status: big ? judged(big.seconds.allFinal <= GOALS.fiveHundredThousandSeconds) : 'not measured',
  });
  const steadyAtTarget =
    steady !== undefined && steady.targetRate >= GOALS.steadyRate && steady.seconds >= GOALS.steadySeconds;
  goals.push({
    goal: `steady ${fmt(GOALS.steadyRate)}/s for ${GOALS.steadySeconds} s: p99 requested → ACS accepted`,
    target: `≤ ${fmt(GOALS.p99Ms)} ms`,
    reached: steady
      ? `${fmt(steady.latencyMs.p99)} ms` +
        (steadyAtTarget ? '' : ` at ${fmt(steady.targetRate)}/s for ${steady.seconds} s`) +
        (steady.overloaded ? ` (overloaded: ${fmt(steady.achievedAcceptedPerSecond)}/s accepted)` : '')
      : 'n/a (no steady phase)',
    status: steadyAtTarget ? judged(steady.latencyMs.p99 <= GOALS.p99Ms) : 'not measured',
  });
  for (const app of PRODUCT_APPS) {
    const peaks = [...bulks.map((bulk) => bulk.usage), ...(steady ? [steady.usage] : [])].map(
      (usage) => usage.processes[app]?.peakRssMb ?? 0,
    );
    const peak = peaks.length > 0 ? Math.max(...peaks) : undefined;
    goals.push({
      goal: `peak RSS ${app}`,
      target: `≤ ${GOALS.rssMb} MB`,
      reached: peak === undefined ? 'n/a' : `${fmt(peak)} MB`,
      status: peak === undefined ? 'not measured' : judged(peak <= GOALS.rssMb),
    });
  }
  return goals;
}

/** Pipeline CPU per notification at the largest size against the smallest, in % (scaling runs). */
function flatnessOf(
  bulks: readonly BulkResult[],
):
  | { pct: number; smallest: number; largest: number; probeSmallest: number; probeLargest: number }
  | undefined {
  if (bulks.length < 2) return undefined;
  const sorted = [...bulks].sort((a, b) => a.recipients - b.recipients);
  const small = sorted[0];
  const large = sorted[sorted.length - 1];
  if (!small || !large || small.pipelineCpuMsPerNotification <= 0) return undefined;
  return {
    pct: round((large.pipelineCpuMsPerNotification / small.pipelineCpuMsPerNotification - 1) * 100, 1),
    smallest: small.recipients,
    largest: large.recipients,
    // The same machine at both ends? A slower probe inflates that run's CPU per notification by about as much.
    probeSmallest: probeMeanMs(small),
    probeLargest: probeMeanMs(large),
  };
}

const okMark = (ok: boolean): string => (ok ? '✓' : '✗');

/** The scaling run's tables: one row per size, then rows read per notification of every index × size. */
function printScaling(bulks: readonly BulkResult[]): void {
  const short: Record<string, string> = {
    orders: 'orders',
    'email-sender': 'sender',
    'status-poller': 'poller',
    broker: 'broker',
    postgres: 'pg',
    'acs-emulator': 'emul.',
  };
  const rows: string[][] = [
    [
      'recipients',
      'notif./s',
      'all final s',
      'final stall s',
      ...CPU_GROUPS.map((name) => `${short[name] ?? name} ms`),
      'pipeline ms',
      'probe ms',
      'pg xact',
      'ins',
      'upd',
      'del',
      ...RSS_APPS.map((app) => `RSS ${short[app] ?? app} MB`),
      ...PRODUCT_APPS.map((app) => `GC ${short[app] ?? app} s`),
      'poller msgs',
      'ACS checks',
      'skipped',
      'accepted lag',
      'checks',
    ],
  ];
  for (const bulk of bulks) {
    rows.push([
      fmt(bulk.recipients),
      fmt(bulk.notificationsPerSecond),
      fmt(bulk.seconds.allFinal, 1),
      fmt(bulk.longestFinalStallSeconds),
      ...CPU_GROUPS.map((name) => fmt(bulk.usage.processes[name]?.marginalCpuSecondsPer1000, 3)),
      fmt(bulk.pipelineCpuMsPerNotification, 3),
      fmt(probeMeanMs(bulk), 1),
      fmt(bulk.database.transactions, 2),
      fmt(bulk.database.inserted, 2),
      fmt(bulk.database.updated, 2),
      fmt(bulk.database.deleted, 2),
      ...RSS_APPS.map((app) => fmt(bulk.usage.processes[app]?.peakRssMb)),
      ...PRODUCT_APPS.map((app) => fmt(bulk.gcSeconds[app], 2)),
      fmt(bulk.poller?.handled),
      fmt(bulk.poller?.checks),
      fmt(bulk.poller?.skippedReported),
      fmt(bulk.checks.pollerAcceptedLag),
      `${okMark(bulk.checks.allFinal && bulk.checks.messagesPerNotificationExactlyOne && bulk.checks.pollerAcceptedLag === 0)}${bulk.usage.noisy ? ' noisy' : ''}`,
    ]);
  }
  log(
    `\nScaling: one pipeline, bulk runs in turn (ms = marginal CPU-ms per notification; pg = per notification)`,
  );
  log(table(rows));
  const indexes = [...new Set(bulks.flatMap((bulk) => Object.keys(bulk.database.indexRowsRead)))].sort(
    (a, b) =>
      Math.max(...bulks.map((bulk) => bulk.database.indexRowsRead[b] ?? 0)) -
      Math.max(...bulks.map((bulk) => bulk.database.indexRowsRead[a] ?? 0)),
  );
  const seqTables = [...new Set(bulks.flatMap((bulk) => Object.keys(bulk.database.seqRowsRead)))];
  log(
    `\n${table([
      ['rows read per notification', ...bulks.map((bulk) => fmt(bulk.recipients))],
      ...indexes.map((index) => [
        `index ${index}`,
        ...bulks.map((bulk) => fmt(bulk.database.indexRowsRead[index] ?? 0, 2)),
      ]),
      ...seqTables.map((name) => [
        `seq scan ${name}`,
        ...bulks.map((bulk) => fmt(bulk.database.seqRowsRead[name] ?? 0, 2)),
      ]),
    ])}`,
  );
  printSubscriptions(bulks);
  const flatness = flatnessOf(bulks);
  log(
    flatness
      ? `flatness: pipeline CPU per notification at ${fmt(flatness.largest)} vs ${fmt(flatness.smallest)}: ` +
          `${flatness.pct >= 0 ? '+' : ''}${fmt(flatness.pct, 1)} % (goal: within ${GOALS.flatnessPct} %); ` +
          `machine probe ${fmt(flatness.probeSmallest, 1)} → ${fmt(flatness.probeLargest, 1)} ms`
      : 'flatness: needs at least two sizes',
  );
  const noisy = bulks.filter((bulk) => bulk.usage.noisy);
  if (noisy.length > 0) {
    log(
      `⚠ noisy (other load > 0.1 core): ${noisy.map((bulk) => `${fmt(bulk.recipients)} (${fmt(bulk.usage.otherCpuSeconds, 1)} CPU s)`).join(', ')}`,
    );
  }
}

/** `--subscribe`: per bulk, what the subscriber received and how long after "all final" it had everything. */
function printSubscriptions(bulks: readonly BulkResult[]): void {
  const runs = bulks.filter((bulk) => bulk.subscription !== null);
  if (runs.length === 0) return;
  log(
    `\n${table([
      [
        'status subscription',
        'recipients',
        'events',
        'per notification',
        'deliveries',
        'drained after final s',
      ],
      ...runs.map((bulk) => [
        bulk.subscription?.mode ?? '',
        fmt(bulk.recipients),
        fmt(bulk.subscription?.events),
        fmt(bulk.subscription?.eventsPerNotification, 2),
        fmt(bulk.subscription?.requests),
        fmt(bulk.subscription?.drainedAfterFinalSeconds, 2),
      ]),
    ])}`,
  );
}

/** The detailed report of a single bulk run (default mode). */
function printBulk(bulk: BulkResult, steady: SteadyResult | undefined, baseline: Baseline | undefined): void {
  const ratio = baseline ? bulk.notificationsPerSecond / baseline.endToEndPerSec : undefined;
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
    ['longest stretch with emails accepted by ACS and none final', `${fmt(bulk.longestFinalStallSeconds)} s`],
    [
      'checks: all final; one ACS message per notification',
      `${okMark(bulk.checks.allFinal)} ${okMark(bulk.checks.messagesPerNotificationExactlyOne)} (lost ${bulk.checks.lost}, doubled ${bulk.checks.doubled}, sent more than once ${bulk.checks.sentMoreThanOnce}, evicted unread ${bulk.checks.evictedUnread}, repeated sends ${bulk.checks.duplicateSends})`,
    ],
    [
      'status-poller: records handled; ACS checks; skipped (report already published); accepted-topic lag',
      `${fmt(bulk.poller?.handled)}; ${fmt(bulk.poller?.checks)}; ${fmt(bulk.poller?.skippedReported)}; ` +
        `${okMark(bulk.checks.pollerAcceptedLag === 0)} ${fmt(bulk.checks.pollerAcceptedLag)}`,
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
        `${okMark(steady.checks.allFinal)} ${okMark(steady.checks.messagesPerNotificationExactlyOne)} (lost ${steady.checks.lost}, doubled ${steady.checks.doubled}, sent more than once ${steady.checks.sentMoreThanOnce}, evicted unread ${steady.checks.evictedUnread})`,
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
      'CPU-ms / notif.',
      'marginal¹',
      'GC s',
      ...(steady ? ['steady CPU s', 'CPU-ms / notif.', 'marginal¹'] : []),
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
      name in bulk.gcSeconds ? fmt(bulk.gcSeconds[name], 2) : '',
      ...(steady
        ? [fmt(s?.cpuSeconds, 1), fmt(s?.cpuSecondsPer1000, 3), fmt(s?.marginalCpuSecondsPer1000, 3)]
        : []),
    ]);
  }
  const cores = os.availableParallelism();
  const phaseNote = (name: string, usage: Usage): string =>
    `${name}: machine ${fmt(usage.machineBusyPct, 1)} % busy, other load ${fmt(usage.otherCpuSeconds, 1)} CPU s${usage.noisy ? ' ⚠ noisy' : ''}`;
  log(`\n${table(processRows)}`);
  log(
    `¹ marginal: without the CPU each process burns idle (measured for ${IDLE_SECONDS} s before the bulk) over ` +
      `the phase's duration`,
  );
  log(`${phaseNote('bulk', bulk.usage)}${steady ? `; ${phaseNote('steady', steady.usage)}` : ''}`);
  const db = bulk.database;
  log(
    `PostgreSQL per notification (bulk): ${fmt(db.transactions, 2)} transactions, ${fmt(db.inserted, 2)} inserted, ` +
      `${fmt(db.updated, 2)} updated, ${fmt(db.deleted, 2)} deleted`,
  );
  log(
    table([
      ['rows read (bulk)', 'scans / notification', 'rows / notification'],
      ...Object.entries(db.indexRowsRead).map(([index, rows]) => [
        `index ${index}`,
        fmt(db.indexScans[index] ?? 0, 2),
        fmt(rows, 2),
      ]),
      ...Object.entries(db.seqRowsRead).map(([name, rows]) => [`seq scan ${name}`, '', fmt(rows, 2)]),
    ]),
  );
  log(
    `pipeline CPU (orders, email-sender, status-poller, broker, PostgreSQL): ${fmt(bulk.pipelineCpuMsPerNotification, 3)} ` +
      `CPU-ms per notification (marginal, bulk) → at most ${fmt(bulk.pipelineCpuMsPerNotification > 0 ? (cores * 1000) / bulk.pipelineCpuMsPerNotification : NaN)} ` +
      `notifications/s on ${cores} cores with nothing else running (the emulator excluded)`,
  );
}

function printReport(
  bulks: readonly BulkResult[],
  scaling: boolean,
  steady: SteadyResult | undefined,
  baseline: Baseline | undefined,
  goals: readonly GoalRow[],
  profiles: Record<string, ProfileSummary[]>,
): void {
  const [bulk] = bulks;
  if (scaling) printScaling(bulks);
  else if (bulk) {
    printBulk(bulk, steady, baseline);
    printSubscriptions(bulks);
  }
  if (scaling && steady) {
    log(
      `\nsteady: ${fmt(steady.achievedAcceptedPerSecond)} accepted/s of ${fmt(steady.targetRate)}/s offered; ` +
        `p50 / p99 ${fmt(steady.latencyMs.p50)} / ${fmt(steady.latencyMs.p99)} ms`,
    );
  }
  if (steady) {
    const stageRows: string[][] = [['latency stage (steady load)', 'p50 ms', 'p99 ms', 'mean ms']];
    for (const [stage, value] of Object.entries(steady.stagesMs)) {
      stageRows.push([stage, fmt(value.p50), fmt(value.p99), fmt(value.mean)]);
    }
    log(`\n${table(stageRows)}`);
  }
  log(
    `\nGOALS (issue 12; 2-core machine, every part local)\n${table([
      ['goal', 'target', 'reached', 'status'],
      ...goals.map((goal) => [goal.goal, goal.target, goal.reached, goal.status]),
    ])}`,
  );

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
// Signals: stop what the benchmark started

/** Set once a signal asked the benchmark to stop: the main flow's failures are then expected, not reported. */
let interrupted = false;
/** The pipeline being started or running, for the signal handler. */
const active: { starting?: Promise<Pipeline | undefined>; stop?: () => Promise<void> } = {};

function killChildren(signal: NodeJS.Signals): void {
  for (const pid of childPids()) {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

function installSignalHandlers(): void {
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      const code = 128 + (os.constants.signals[signal] ?? 0);
      if (interrupted) {
        log(`${signal} again: killing what is left`);
        killChildren('SIGKILL');
        process.exit(code);
      }
      interrupted = true;
      log(`\n${signal}: stopping every process this benchmark started (again to kill them at once)`);
      // At once, before anything that could take long or fail: the apps, the baseline, a migration — whatever
      // runs now is this process's child. The apps shut down gracefully on SIGTERM.
      killChildren('SIGTERM');
      void (async () => {
        const stopped = (async () => {
          // A pipeline still starting stops itself when an app exits during its start; one that made it is
          // stopped here (which also deletes the run's topics and drops its database).
          if (active.stop === undefined) await active.starting?.catch(() => undefined);
          await active.stop?.();
        })();
        await Promise.race([stopped.catch(() => undefined), sleep(45_000)]);
        killChildren('SIGKILL');
        process.exit(code);
      })();
    });
  }
  // Last resort on any exit: no app may outlive the benchmark.
  process.on('exit', () => killChildren('SIGKILL'));
}

// ---------------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  installSignalHandlers();
  const settings = readSettings();
  const brokerPid = findBrokerPid(WORKSPACE_ROOT);
  const machine = describeMachine(brokerPid);
  const sizes = settings.scaling ?? [settings.recipients];
  log(
    `Pipeline benchmark: ${settings.scaling ? `scaling ${sizes.map((size) => fmt(size)).join(' / ')}` : fmt(settings.recipients)} recipients, ` +
      `steady ${settings.steadyRate}/s for ${settings.steadySeconds} s, ${settings.partitions} partitions\n` +
      `machine: ${String(machine['cpus'])} × ${String(machine['cpuModel'])}, ` +
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
  log(`\nstarting the pipeline (settings over the defaults: ${JSON.stringify(settings.env)})`);
  const starting = Pipeline.start({
    label: 'bench',
    partitions: settings.partitions,
    env: settings.env,
    nodeArgs,
  });
  active.starting = starting;
  const pipeline = await starting;
  let stopping: Promise<void> | undefined;
  const pool = new Pool({
    connectionString: pipeline.databaseUrl,
    // One connection: the benchmark's statements run one at a time, and its backend is easy to leave out.
    max: 1,
    application_name: BENCH_DB_APPLICATION,
  });
  const stopPipeline = (): Promise<void> =>
    (stopping ??= (async () => {
      log('\nstopping the pipeline');
      await pool.end().catch(() => undefined);
      await pipeline.stop();
    })());
  active.stop = stopPipeline;
  const stats = new PgStats(pool, pipeline.databaseName);
  const appPids = (): number[] => APP_NAMES.flatMap((app) => pipeline.pid(app) ?? []);
  const backends = async (bench: boolean): Promise<number[]> => {
    const rows = await stats.query<{ pid: number }>(
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
  // The benchmark's reads of the pipeline's tables, kept out of the pipeline's rows read.
  const rowQuery: RowQuery = (sql, parameters) => stats.tracked(sql, parameters);
  const run: Run = {
    pipeline,
    stats,
    ledger: new NotificationLedger(rowQuery),
    meter,
    settings,
    appPids,
    sink:
      settings.subscribe === undefined
        ? undefined
        : new SubscriptionSink(pipeline, settings.subscribe, settings.subscribeBatch),
  };
  const bulks: BulkResult[] = [];
  let steady: SteadyResult | undefined;
  let idle: IdleRates;
  let warmUpRounds: WarmUpRound[];
  try {
    log(`  logs: ${pipeline.logDir}`);
    if (run.sink !== undefined) {
      await run.sink.start();
      log(`  status subscription → ${run.sink.mode} (every order, both event types)`);
    }
    warmUpRounds = await warmUp(run);
    idle = await measureIdle(meter);
    for (const [index, size] of sizes.entries()) {
      const bulk = await runBulk(run, idle, size, index);
      bulks.push(bulk);
      if (settings.scaling) {
        log(
          `  → ${fmt(bulk.notificationsPerSecond)}/s, pipeline ${fmt(bulk.pipelineCpuMsPerNotification, 3)} CPU-ms per notification, ` +
            `checks ${okMark(bulk.checks.allFinal && bulk.checks.messagesPerNotificationExactlyOne)}`,
        );
      }
    }
    if (settings.steadySeconds > 0) steady = await runSteady(run, idle);
  } catch (error) {
    if (interrupted) await new Promise(() => undefined); // the signal handler exits
    throw error;
  } finally {
    await run.sink?.stop();
    if (!interrupted) await stopPipeline();
  }

  const profiles: Record<string, ProfileSummary[]> = {};
  if (settings.cpuProfDir) {
    for (const app of APP_NAMES) profiles[app] = summarizeProfiles(path.join(settings.cpuProfDir, app));
  }
  const scaling = settings.scaling !== undefined;
  const goals = goalsOf(bulks, steady, scaling);
  printReport(bulks, scaling, steady, baseline, goals, profiles);

  // The chart shows the default run's bulk, or the largest size of a scaling run.
  const charted = bulks.reduce((best, bulk) => (bulk.recipients > best.recipients ? bulk : best));
  const flatness = scaling ? flatnessOf(bulks) : undefined;
  const report = {
    mode: scaling ? 'scaling' : 'default',
    bulk: scaling ? null : { ...charted, samples: undefined },
    scaling: scaling
      ? {
          sizes,
          runs: bulks.map((bulk) => ({ ...bulk, samples: undefined })),
          flatnessPct: flatness?.pct ?? null,
        }
      : null,
    steady: steady ?? null,
    baseline: baseline ?? null,
    ratioToRawKafka: baseline ? round(charted.notificationsPerSecond / baseline.endToEndPerSec, 3) : null,
    goals,
    goalTargets: GOALS,
    warmUp: warmUpRounds,
    idleCpuSecondsPerSecond: idle,
    profiles,
    machine: { ...machine, loadAverageAtEnd: os.loadavg().map((value) => round(value, 2)) },
    settings: { ...settings, cpuProfiled: settings.cpuProfDir !== undefined },
    samples: charted.samples,
    startedAt,
    timestamp: new Date().toISOString(),
  };
  mkdirSync(path.dirname(settings.out), { recursive: true });
  writeFileSync(settings.out, `${JSON.stringify(report, null, 2)}\n`);
  log(`\nwrote ${path.relative(process.cwd(), settings.out) || settings.out}`);

  // About 150 buckets whatever the run's length: 1 s buckets of a ten-minute run are mostly noise.
  const bucket = Math.max(1, Math.ceil(charted.series.length / 150));
  const throughput: ThroughputPoint[] = [];
  for (let start = 0; start < charted.series.length; start += bucket) {
    const slice = charted.series.slice(start, start + bucket);
    const mean = (pick: (point: (typeof slice)[number]) => number): number =>
      round(slice.reduce((sum, point) => sum + pick(point), 0) / slice.length, 1);
    throughput.push(
      { second: start, series: 'accepted by ACS / s', perSecond: mean((point) => point.acceptedByAcs) },
      { second: start, series: 'final (Delivered) / s', perSecond: mean((point) => point.final) },
    );
  }
  const svg = await renderChart({
    title: `Pipeline benchmark: ${fmt(charted.recipients)} recipients → ${fmt(charted.notificationsPerSecond)} notifications/s end to end`,
    subtitle:
      `${String(machine['cpus'])} cores (${String(machine['cpuModel'])}), Node ${process.version}, Kafka ${String(machine['kafka'])}; ` +
      `all final after ${fmt(charted.seconds.allFinal, 1)} s; ${new Date().toISOString().slice(0, 10)}`,
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
    bulks.some(
      (bulk) =>
        !bulk.checks.allFinal ||
        !bulk.checks.messagesPerNotificationExactlyOne ||
        bulk.checks.pollerAcceptedLag > 0,
    ) ||
    (steady !== undefined && (!steady.checks.allFinal || !steady.checks.messagesPerNotificationExactlyOne));
  if (failed) {
    throw new Error(
      'checks failed: notifications lost, doubled or not final, or status-poller left accepted records unconsumed (see the tables)',
    );
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    if (interrupted) return;
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
