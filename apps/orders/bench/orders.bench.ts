/**
 * `npm run bench:orders`: the orders app in this process, against the real broker and PostgreSQL, on its own
 * database and topics. Prints a table and writes bench/results/orders.json.
 *
 *   1. API: order creation rate through `POST /orders/email` (one email recipient per order, scheduler off):
 *      requests per second and latency percentiles at a fixed number of concurrent clients.
 *   2. A 100 000-recipient order through the pipeline with the default settings (scheduler every 1 s, email
 *      batches of 1 000, two outbox relays): creation through the API, claim → `orders.pastdue` → 100 000 email
 *      notifications, claim (`New → Sending`) into the outbox, and the relay's publishes to `email.queue`.
 *
 * Options (CLI flag or environment variable):
 *   --requests N       BENCH_REQUESTS      default 5000   orders created in phase 1
 *   --concurrency N    BENCH_CONCURRENCY   default 16     concurrent API clients
 *   --recipients N     BENCH_RECIPIENTS    default 100000 recipients of the phase 2 order
 *   --partitions N     BENCH_PARTITIONS    default 6      partitions of the bench topics
 *   --out PATH         BENCH_OUT           default bench/results/orders.json
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { OrdersScheduler } from '../src/scheduler/orders.scheduler';
import {
  API,
  ApiClient,
  createTestResources,
  emailOrder,
  startOrdersApp,
  type OrdersTestResources,
} from '../test/support/orders-test-app';

process.env['KAFKAJS_NO_PARTITIONER_WARNING'] ??= '1';

const WORKSPACE_ROOT = path.resolve(__dirname, '..', '..', '..');

interface Settings {
  readonly requests: number;
  readonly concurrency: number;
  readonly recipients: number;
  readonly partitions: number;
  readonly out: string;
}

function readSettings(): Settings {
  const { values } = parseArgs({
    options: {
      requests: { type: 'string' },
      concurrency: { type: 'string' },
      recipients: { type: 'string' },
      partitions: { type: 'string' },
      out: { type: 'string' },
    },
    strict: true,
  });
  const int = (flag: string | undefined, env: string, fallback: number): number => {
    const raw = flag ?? process.env[env];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 1) throw new Error(`${env}=${raw}: expected a positive integer`);
    return value;
  };
  return {
    requests: int(values.requests, 'BENCH_REQUESTS', 5_000),
    concurrency: int(values.concurrency, 'BENCH_CONCURRENCY', 16),
    recipients: int(values.recipients, 'BENCH_RECIPIENTS', 100_000),
    partitions: int(values.partitions, 'BENCH_PARTITIONS', 6),
    out: path.resolve(WORKSPACE_ROOT, values.out ?? process.env['BENCH_OUT'] ?? 'bench/results/orders.json'),
  };
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}

const round = (value: number, digits = 1): number => Number(value.toFixed(digits));

async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 600_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

// ---------------------------------------------------------------------------------------------------------
// Phase 1: the API

async function apiPhase(settings: Settings) {
  const resources = await createTestResources(
    'bench_api',
    { ORDERS_SCHEDULER_ENABLED: 'false', LOG_LEVEL: 'error' },
    settings.partitions,
  );
  const server = await startOrdersApp(resources);
  try {
    const api = new ApiClient(server.baseUrl, resources.auth.token('ttd'));
    const body = emailOrder({ sendersReference: 'bench' });
    for (let i = 0; i < 200; i += 1) await api.post(`${API}/orders/email`, body); // warm-up
    const latencies: number[] = [];
    let next = 0;
    let failures = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: settings.concurrency }, async () => {
        while (next < settings.requests) {
          next += 1;
          const t0 = performance.now();
          const response = await api.post(`${API}/orders/email`, body);
          latencies.push(performance.now() - t0);
          if (response.status !== 202) failures += 1;
        }
      }),
    );
    const elapsedMs = performance.now() - started;
    latencies.sort((a, b) => a - b);
    return {
      requests: latencies.length,
      concurrency: settings.concurrency,
      failures,
      elapsedMs: round(elapsedMs),
      requestsPerSecond: round((latencies.length / elapsedMs) * 1000),
      latencyMs: {
        p50: round(percentile(latencies, 50), 2),
        p90: round(percentile(latencies, 90), 2),
        p99: round(percentile(latencies, 99), 2),
        max: round(latencies.at(-1) ?? 0, 2),
      },
    };
  } finally {
    await server.close();
    await resources.cleanup();
  }
}

// ---------------------------------------------------------------------------------------------------------
// Phase 2: one large order through claim → outbox → Kafka

interface Progress {
  status: string;
  notifications: number;
  claimed: number;
  published: number;
}

async function counts(
  resources: OrdersTestResources,
  orderId: string,
  emailTopic: string,
): Promise<Progress> {
  const [row] = (await resources.db.dataSource.query(
    `SELECT (SELECT processing_status FROM orders WHERE id = $1) AS status,
            (SELECT count(*)::int FROM email_notifications WHERE order_id = $1) AS notifications,
            (SELECT count(*)::int FROM email_notifications WHERE order_id = $1 AND result <> 'New') AS claimed,
            (SELECT count(*)::int FROM outbox WHERE topic = $2 AND published_at IS NOT NULL) AS published`,
    [orderId, emailTopic],
  )) as Progress[];
  if (row === undefined) throw new Error('progress query returned no row');
  return row;
}

async function largeOrderPhase(settings: Settings) {
  const resources = await createTestResources(
    'bench_large',
    {
      LOG_LEVEL: 'error',
      // Production defaults, not the fast test settings.
      ORDERS_PASTDUE_INTERVAL: '1s',
      ORDERS_EMAIL_PUBLISH_INTERVAL: '1s',
      ORDERS_OUTBOX_RELAY_INTERVAL: '200ms',
      ORDERS_SWEEP_INTERVAL: '10s',
      DATABASE_POOL_SIZE: '10',
    },
    settings.partitions,
  );
  const server = await startOrdersApp(resources);
  try {
    const api = new ApiClient(server.baseUrl, resources.auth.token('ttd'));
    const recipients = Array.from({ length: settings.recipients }, (_, i) => ({
      emailAddress: `recipient-${String(i).padStart(6, '0')}@example.com`,
    }));
    const payload = emailOrder({
      subject: 'Notification for $recipientName$',
      body: '<p>Dear recipient, a new message about your case is waiting for you. Please log in to read it.</p>',
      contentType: 'Html',
      recipients,
    });
    const requestBytes = Buffer.byteLength(JSON.stringify(payload));
    const t0 = performance.now();
    const created = await api.post<{ orderId: string }>(`${API}/orders/email`, payload);
    if (created.status !== 202)
      throw new Error(`order creation failed: ${created.status} ${JSON.stringify(created.body)}`);
    const tCreated = performance.now();
    const { orderId } = created.body;
    const emailTopic = resources.topics.emailQueue.name;

    const marks: Record<string, number> = {};
    let firstPublished: number | undefined;
    let firstClaimed: number | undefined;
    await waitFor('every email on Kafka', async () => {
      const c = await counts(resources, orderId, emailTopic);
      const now = performance.now();
      if (marks['processing'] === undefined && c.status !== 'Registered') marks['processing'] = now;
      if (
        marks['processed'] === undefined &&
        c.notifications === settings.recipients &&
        c.status !== 'Processing'
      ) {
        marks['processed'] = now;
      }
      if (firstClaimed === undefined && c.claimed > 0) firstClaimed = now;
      if (marks['claimed'] === undefined && c.claimed === settings.recipients) marks['claimed'] = now;
      if (firstPublished === undefined && c.published > 0) firstPublished = now;
      if (c.published === settings.recipients) {
        marks['published'] = now;
        return true;
      }
      return undefined;
    });
    const onTopic = await resources.kafka.messageCount(emailTopic);
    const scheduler = server.app.get(OrdersScheduler).statistics();
    const at = (name: string) => marks[name] ?? Number.NaN;
    const rate = (count: number, fromMs: number, toMs: number) => round((count / (toMs - fromMs)) * 1000);
    return {
      recipients: settings.recipients,
      requestBytes,
      messagesOnTopic: onTopic,
      createMs: round(tCreated - t0),
      claimWaitMs: round(at('processing') - tCreated),
      notificationsCreatedMs: round(at('processed') - at('processing')),
      notificationsPerSecond: rate(settings.recipients, at('processing'), at('processed')),
      emailClaimMs: round(at('claimed') - (firstClaimed ?? Number.NaN)),
      claimedPerSecond: rate(settings.recipients, firstClaimed ?? Number.NaN, at('claimed')),
      publishMs: round(at('published') - (firstPublished ?? Number.NaN)),
      publishedPerSecond: rate(settings.recipients, firstPublished ?? Number.NaN, at('published')),
      claimToKafkaPerSecond: rate(settings.recipients, firstClaimed ?? Number.NaN, at('published')),
      endToEndMs: round(at('published') - t0),
      schedulerFailures: Object.values(scheduler.tasks).reduce((sum, task) => sum + task.failures, 0),
    };
  } finally {
    await server.close();
    await resources.cleanup();
  }
}

async function main(): Promise<void> {
  const settings = readSettings();
  process.stdout.write(`orders benchmark: ${JSON.stringify(settings)}\n`);
  const api = await apiPhase(settings);
  const large = await largeOrderPhase(settings);

  const rows: [string, string][] = [
    [
      'API: orders created',
      `${api.requests} (${api.failures} failed), ${api.concurrency} concurrent clients`,
    ],
    ['API: requests/s', `${api.requestsPerSecond}`],
    [
      'API: latency p50 / p90 / p99 / max',
      `${api.latencyMs.p50} / ${api.latencyMs.p90} / ${api.latencyMs.p99} / ${api.latencyMs.max} ms`,
    ],
    [
      `Large order: POST of ${large.recipients} recipients`,
      `${large.createMs} ms (${(large.requestBytes / 1e6).toFixed(1)} MB body)`,
    ],
    ['Large order: created → claimed', `${large.claimWaitMs} ms (scheduler tick)`],
    [
      'Large order: claim → notifications created',
      `${large.notificationsCreatedMs} ms (${large.notificationsPerSecond}/s)`,
    ],
    ['Emails: claimed New → Sending + outbox', `${large.emailClaimMs} ms (${large.claimedPerSecond}/s)`],
    ['Emails: outbox → email.queue (relay)', `${large.publishMs} ms (${large.publishedPerSecond}/s)`],
    ['Emails: first claim → last publish', `${large.claimToKafkaPerSecond}/s`],
    ['End to end: POST → all on Kafka', `${large.endToEndMs} ms`],
    ['Messages on email.queue', `${large.messagesOnTopic}`],
  ];
  const width = Math.max(...rows.map(([name]) => name.length));
  process.stdout.write(`\n${'Measure'.padEnd(width)}  Result\n${'-'.repeat(width)}  ${'-'.repeat(40)}\n`);
  for (const [name, value] of rows) process.stdout.write(`${name.padEnd(width)}  ${value}\n`);

  const result = {
    benchmark: 'orders',
    at: new Date().toISOString(),
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model,
      memoryGb: round(os.totalmem() / 2 ** 30),
      node: process.version,
    },
    settings,
    api,
    largeOrder: large,
  };
  mkdirSync(path.dirname(settings.out), { recursive: true });
  writeFileSync(settings.out, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`\nWrote ${path.relative(WORKSPACE_ROOT, settings.out)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
