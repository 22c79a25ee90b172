/**
 * The orders app's memory under a campaign: `--orders` orders of `--recipients` recipients posted at once (the
 * pipeline benchmark's 500 000 bulk, orders alone), until every notification is created, claimed and published to
 * `email.queue`. The app runs as a real process from a build (`--dist`, default apps/orders/dist) with its
 * package.json `nodeArgs` (the heap caps), against the real broker and PostgreSQL, on its own database and topics.
 * Reports its peak RSS (VmHWM), GC seconds (prom-client's `nodejs_gc_duration_seconds`) and time; prints a table and
 * writes bench/results/orders-memory[-LABEL].json. `--rounds 2` posts the same campaign again once the first is
 * published (new order ids, the same addresses), as the pipeline benchmark's 500 000 bulk follows its smaller runs:
 * a round's peak then starts from the heap and malloc arenas that the rounds before it left behind.
 *
 *   node --conditions=@notifications/source -r @swc-node/register apps/orders/bench/orders-memory.bench.ts \
 *     [--dist DIR] [--label NAME] [--orders 5] [--recipients 100000] [--rounds 1]
 *   (SWC_NODE_PROJECT=apps/orders/tsconfig.spec.json; build first: npx nx run orders:build)
 *
 * Compare a build of main with a build of a branch in one session, one after the other, nothing else running.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { processMemory, resetPeakRss, type ProcessMemory } from '@notifications/testing';
import { API, createTestResources, emailOrder } from '../test/support/orders-test-app';

process.env['KAFKAJS_NO_PARTITIONER_WARNING'] ??= '1';

const WORKSPACE_ROOT = path.resolve(__dirname, '..', '..', '..');
const APP_ROOT = path.resolve(__dirname, '..');

function settings() {
  const { values } = parseArgs({
    options: {
      dist: { type: 'string' },
      label: { type: 'string' },
      orders: { type: 'string' },
      recipients: { type: 'string' },
      rounds: { type: 'string' },
    },
    strict: true,
  });
  const label = values.label ?? 'current';
  return {
    dist: path.resolve(WORKSPACE_ROOT, values.dist ?? 'apps/orders/dist'),
    label,
    orders: Number(values.orders ?? 5),
    recipients: Number(values.recipients ?? 100_000),
    rounds: Number(values.rounds ?? 1),
    out: path.join(WORKSPACE_ROOT, 'bench', 'results', `orders-memory-${label}.json`),
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address !== null ? resolve(address.port) : reject(),
      );
    });
  });
}

function memoryOf(pid: number): ProcessMemory {
  const memory = processMemory(pid);
  if (memory === undefined) throw new Error(`The orders process (pid ${pid}) is gone`);
  return memory;
}

async function poll<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function main(): Promise<void> {
  const run = settings();
  const resources = await createTestResources(
    'bench_memory',
    { LOG_LEVEL: 'warn', ORDERS_PASTDUE_INTERVAL: '250ms', ORDERS_EMAIL_PUBLISH_INTERVAL: '250ms' },
    6,
  );
  const [port, managementPort] = [await freePort(), await freePort()];
  const packageJson = JSON.parse(readFileSync(path.join(APP_ROOT, 'package.json'), 'utf8')) as {
    notifications: { nodeArgs: string[] };
  };
  const child = spawn(
    process.execPath,
    [...packageJson.notifications.nodeArgs, path.join(run.dist, 'main.js')],
    {
      env: { ...process.env, ...resources.env, PORT: String(port), MANAGEMENT_PORT: String(managementPort) },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  const pid = child.pid ?? 0;
  const base = `http://127.0.0.1:${port}`;
  const operator = resources.auth.operatorToken();
  const metrics = async (): Promise<{ gcSeconds: number; heapTotalMb: number; heapUsedMb: number }> => {
    const text = await (
      await fetch(`http://127.0.0.1:${managementPort}/metrics`, {
        headers: { authorization: `Bearer ${operator}` },
      })
    ).text();
    const sumOf = (name: string): number => {
      let sum = 0;
      for (const match of text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm')))
        sum += Number(match[1]);
      return sum;
    };
    return {
      gcSeconds: sumOf('nodejs_gc_duration_seconds_sum'),
      heapTotalMb: sumOf('nodejs_heap_size_total_bytes') / 2 ** 20,
      heapUsedMb: sumOf('nodejs_heap_size_used_bytes') / 2 ** 20,
    };
  };
  try {
    await poll(
      'the app to be ready',
      async () => ((await fetch(`${base}/health/ready`)).ok ? true : undefined),
      60_000,
    );
    const token = resources.auth.token('ttd');
    const bodies = Array.from({ length: run.orders }, (_, order) =>
      JSON.stringify(
        emailOrder({
          subject: `Memory bench ${order}`,
          body: 'Hello from the memory benchmark.',
          recipients: Array.from({ length: run.recipients }, (_, index) => ({
            emailAddress: `m${order}-${index}@example.com`,
          })),
        }),
      ),
    );
    const results = [];
    for (let round = 1; round <= run.rounds; round += 1) {
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      const idle = memoryOf(pid);
      if (!resetPeakRss(pid))
        throw new Error(`Cannot reset the peak RSS of pid ${pid} (/proc/PID/clear_refs)`);
      const before = await metrics();
      const t0 = Date.now();
      const answers = await Promise.all(
        bodies.map(async (body) => {
          const response = await fetch(`${base}${API}/orders/email`, {
            method: 'POST',
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
            body,
          });
          return { status: response.status, ms: Date.now() - t0 };
        }),
      );
      const acceptedMs = Math.max(...answers.map((answer) => answer.ms));
      const total = round * run.orders * run.recipients;
      await poll(
        'every notification published',
        async () => {
          const [row] = (await resources.db.dataSource.query(
            `SELECT (SELECT count(*)::int FROM email_notifications) AS created,
                    (SELECT count(*)::int FROM email_notifications WHERE result = 'New') AS unclaimed,
                    (SELECT count(*)::int FROM outbox WHERE published_at IS NULL) AS unpublished`,
          )) as { created: number; unclaimed: number; unpublished: number }[];
          return row !== undefined && row.created === total && row.unclaimed === 0 && row.unpublished === 0
            ? row
            : undefined;
        },
        20 * 60_000,
      );
      const doneMs = Date.now() - t0;
      const memory = memoryOf(pid);
      const after = await metrics();
      results.push({
        label: run.label,
        round,
        orders: run.orders,
        recipientsPerOrder: run.recipients,
        statuses: answers.map((answer) => answer.status).join(' '),
        acceptedMs,
        allPublishedMs: doneMs,
        idleRssMb: Math.round(idle.rssMb),
        idleAnonMb: Math.round(idle.anonMb),
        peakRssMb: Math.round(memory.peakRssMb),
        endRssMb: Math.round(memory.rssMb),
        idleHeapMb: `${Math.round(before.heapUsedMb)} of ${Math.round(before.heapTotalMb)}`,
        endHeapMb: `${Math.round(after.heapUsedMb)} of ${Math.round(after.heapTotalMb)}`,
        gcSeconds: Number((after.gcSeconds - before.gcSeconds).toFixed(2)),
      });
    }
    console.table(results);
    mkdirSync(path.dirname(run.out), { recursive: true });
    writeFileSync(
      run.out,
      `${JSON.stringify({ dist: path.relative(WORKSPACE_ROOT, run.dist), rounds: results }, null, 2)}\n`,
    );
    console.log(`written ${path.relative(WORKSPACE_ROOT, run.out)}`);
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
    await resources.cleanup();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
