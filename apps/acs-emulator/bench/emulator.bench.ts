/**
 * `npm run bench:emulator`: what the ACS emulator itself costs per email, so that the pipeline benchmark measures
 * the pipeline and not its test double. Prints a table and writes bench/results/acs-emulator.json.
 *
 *   node --conditions=@notifications/source -r @swc-node/register apps/acs-emulator/bench/emulator.bench.ts \
 *     [--emails 100000,500000] [--concurrency 48] [--html-bytes 1024]
 *
 * Per size, everything fresh: the built emulator as its own process (`node apps/acs-emulator/dist/main.js` with
 * the node arguments of its package.json, as the pipeline benchmark starts it), a local webhook that answers 200
 * to every Event Grid delivery (the status-poller's part), and a load driver in this process that sends N emails
 * as email-sender does: one recipient, a subject and an HTML body, a fresh `Operation-Id` and the Repeatable
 * Requests headers per send, HMAC-signed with the repository's signer (`@notifications/acs`), with `concurrency`
 * sends in flight over keep-alive connections. Meanwhile it reads `/admin/messages` pages once a second from a
 * sequence cursor, as the pipeline benchmark's feed does, and counts messages that left the window unread.
 *
 *   CPU-ms/email   the emulator's utime + stime (/proc) from the first send until every delivery report was
 *                  acknowledged by the webhook, divided by N (the driver's CPU is not counted)
 *   peak RSS       the emulator's VmHWM at the end (the peak over the whole process life: start-up included)
 *   GC             the emulator's pauses as reported by `--trace-gc` (summed from its output)
 *
 * Options (CLI flag or environment variable):
 *   --emails N,…       BENCH_EMAILS        default 100000 (sizes, one fresh emulator each)
 *   --concurrency N    BENCH_CONCURRENCY   default 48 sends in flight
 *   --html-bytes N     BENCH_HTML_BYTES    default 1024 (the pipeline benchmark's own orders send 34 characters)
 *   --node-arg ARG     (repeatable) extra node arguments for the emulator, after its package.json ones
 *   --env NAME=VALUE   (repeatable) extra settings for the emulator (e.g. ACS_MAX_MESSAGES=50000)
 *   --cpu-prof DIR     write the emulator's CPU profile (`--cpu-prof`) into DIR
 *   --emulator PATH    another build's dist/main.js, e.g. an earlier one copied with its package.json beside
 *                      dist/ (whose node arguments it then runs with), to compare
 *   --heap-snapshot DIR  write a heap snapshot of the emulator into DIR once every report was delivered
 *   --out PATH         BENCH_OUT           default bench/results/acs-emulator.json
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ACS_EMAIL_API_VERSION, acsSigningKey, signAcsRequest } from '@notifications/acs';
import { processMemory, type ProcessMemory } from '@notifications/testing';
import {
  EMULATOR_ACCESS_KEY,
  startAppProcess,
  WORKSPACE_ROOT,
  type AppProcess,
} from '../test/support/emulator-process';

const EMULATOR_MAIN = path.join(WORKSPACE_ROOT, 'apps', 'acs-emulator', 'dist', 'main.js');
const LISTENING = /ACS emulator listening on (http:\/\/\S+)/;
const SENDER = 'noreply@altinn.cloud';
const PAGE_SIZE = 5_000;
/** Fail instead of hanging when nothing progresses for this long. */
const STALL_MS = 60_000;

interface Settings {
  readonly sizes: readonly number[];
  readonly concurrency: number;
  readonly htmlBytes: number;
  readonly nodeArgs: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly cpuProfDir: string | undefined;
  readonly heapSnapshotDir: string | undefined;
  readonly emulatorMain: string;
  readonly out: string;
}

function readSettings(): Settings {
  const { values } = parseArgs({
    options: {
      emails: { type: 'string' },
      concurrency: { type: 'string' },
      'html-bytes': { type: 'string' },
      'node-arg': { type: 'string', multiple: true },
      env: { type: 'string', multiple: true },
      'cpu-prof': { type: 'string' },
      'heap-snapshot': { type: 'string' },
      emulator: { type: 'string' },
      out: { type: 'string' },
    },
  });
  const env = process.env;
  const positive = (text: string, what: string): number => {
    const value = Number(text.replaceAll('_', ''));
    if (!Number.isInteger(value) || value < 1) throw new Error(`${what} must be a positive integer`);
    return value;
  };
  const sizes = (values.emails ?? env['BENCH_EMAILS'] ?? '100000')
    .split(',')
    .map((size) => positive(size, '--emails'));
  return {
    sizes,
    concurrency: positive(values.concurrency ?? env['BENCH_CONCURRENCY'] ?? '48', '--concurrency'),
    htmlBytes: positive(values['html-bytes'] ?? env['BENCH_HTML_BYTES'] ?? '1024', '--html-bytes'),
    nodeArgs: values['node-arg'] ?? [],
    env: Object.fromEntries(
      (values.env ?? []).map((setting) => {
        const equals = setting.indexOf('=');
        if (equals < 1) throw new Error(`--env takes NAME=VALUE, got ${setting}`);
        return [setting.slice(0, equals), setting.slice(equals + 1)];
      }),
    ),
    cpuProfDir: values['cpu-prof'],
    heapSnapshotDir: values['heap-snapshot'],
    emulatorMain: path.resolve(WORKSPACE_ROOT, values.emulator ?? EMULATOR_MAIN),
    out: path.resolve(
      WORKSPACE_ROOT,
      values.out ?? env['BENCH_OUT'] ?? path.join('bench', 'results', 'acs-emulator.json'),
    ),
  };
}

const log = (line: string): void => {
  process.stdout.write(`${line}\n`);
};
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const round = (value: number, digits = 0): number => Number(value.toFixed(digits));

// ---------------------------------------------------------------------------------------------------------
// The emulator's process, from /proc (Linux only, like the pipeline benchmark's process meter)

const TICK_MS = 10; // USER_HZ is 100 on every Linux this runs on (sysconf(_SC_CLK_TCK)).

function cpuMsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the parenthesised command name: utime is field 14, stime 15 (proc(5)).
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
}

function memoryMbOf(pid: number): ProcessMemory {
  const memory = processMemory(pid);
  if (memory === undefined) throw new Error(`The emulator (pid ${pid}) is gone`);
  return memory;
}

/** Sums the pause times `--trace-gc` prints (`…, 1.23 / 0.00 ms …`: the pause, then the external time). */
class GcTrace {
  pauses = 0;
  pauseMs = 0;
  markCompacts = 0;
  private partial = '';

  onOutput(chunk: string): void {
    const lines = (this.partial + chunk).split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) {
      const pause = / (\d+(?:\.\d+)?) \/ \d+(?:\.\d+)? ms/.exec(line);
      if (!pause || !/ms: (Scavenge|Mark-Compact|Minor Mark-Sweep)/.test(line)) continue;
      this.pauses += 1;
      this.pauseMs += Number(pause[1]);
      if (line.includes('Mark-Compact')) this.markCompacts += 1;
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// The webhook (Event Grid deliveries) and the feed (/admin/messages pages)

const EVENT_MARKER = '"eventType"';

class WebhookSink {
  events = 0;
  deliveries = 0;
  private server: http.Server | undefined;

  async start(): Promise<string> {
    // Counts the events of each batch without parsing it: every Event Grid event carries exactly one eventType.
    this.server = http.createServer((request, response) => {
      let tail = '';
      request.setEncoding('utf8');
      request.on('data', (chunk: string) => {
        const text = tail + chunk;
        this.events += text.split(EVENT_MARKER).length - 1;
        // Short of one whole marker: a marker cut by the chunk boundary is found once, none is counted twice.
        tail = text.slice(-(EVENT_MARKER.length - 1));
      });
      request.on('end', () => {
        this.deliveries += 1;
        response.writeHead(200).end();
      });
    });
    this.server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${port}/reports`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
}

/** Reads every message once from a sequence cursor, as apps/pipeline-e2e/bench/emulator-feed.ts does. */
class MessageFeed {
  after = 0;
  read = 0;
  missed = 0;
  pages = 0;

  constructor(private readonly baseUrl: string) {}

  async poll(): Promise<void> {
    for (;;) {
      const response = await fetch(`${this.baseUrl}/admin/messages?limit=${PAGE_SIZE}&after=${this.after}`);
      if (!response.ok) throw new Error(`GET /admin/messages → ${response.status}`);
      const page = (await response.json()) as { messages: { seq: number }[]; nextAfter?: number };
      this.pages += 1;
      for (const { seq } of page.messages) {
        if (seq > this.after + 1) this.missed += seq - this.after - 1;
        this.after = seq;
        this.read += 1;
      }
      if (page.nextAfter === undefined) return;
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// The load driver: sends as email-sender's SDK pipeline does

class SendDriver {
  private readonly key = acsSigningKey(EMULATOR_ACCESS_KEY);
  private readonly agent: http.Agent;
  private readonly url: URL;
  private readonly html: string;
  accepted = 0;
  failed = 0;
  lastError: string | undefined;

  constructor(baseUrl: string, concurrency: number, htmlBytes: number) {
    this.agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
    this.url = new URL(`${baseUrl}/emails:send?api-version=${ACS_EMAIL_API_VERSION}`);
    const paragraph = '<p>Hello from the emulator benchmark: your order has been received.</p>';
    this.html =
      `<html><body>${paragraph.repeat(Math.ceil(htmlBytes / paragraph.length))}</body></html>`.slice(
        0,
        htmlBytes,
      );
  }

  /** Sends emails `first`…`first + count - 1` with `concurrency` in flight. */
  async send(first: number, count: number, concurrency: number): Promise<void> {
    let next = first;
    const end = first + count;
    const worker = async (): Promise<void> => {
      while (next < end) {
        const index = next;
        next += 1;
        await this.sendOne(index);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
  }

  close(): void {
    this.agent.destroy();
  }

  private sendOne(index: number): Promise<void> {
    const body = JSON.stringify({
      senderAddress: SENDER,
      content: { subject: `Bench order ${Math.floor(index / 1000)}`, html: this.html },
      recipients: { to: [{ address: `r${index}@example.com` }] },
    });
    const now = new Date();
    const signed = signAcsRequest(this.key, 'POST', this.url, body, now);
    const headers: http.OutgoingHttpHeaders = {
      host: signed.host,
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      accept: 'application/json',
      'x-ms-client-request-id': randomUUID(),
      'Operation-Id': randomUUID(),
      'Repeatability-Request-Id': randomUUID(),
      'Repeatability-First-Sent': now.toUTCString(),
      'x-ms-date': signed['x-ms-date'],
      'x-ms-content-sha256': signed['x-ms-content-sha256'],
      authorization: signed.authorization,
    };
    return new Promise<void>((resolve) => {
      const request = http.request(this.url, { method: 'POST', agent: this.agent, headers }, (response) => {
        response.resume();
        response.on('end', () => {
          if (response.statusCode === 202) this.accepted += 1;
          else {
            this.failed += 1;
            this.lastError = `HTTP ${String(response.statusCode)}`;
          }
          resolve();
        });
      });
      request.on('error', (error) => {
        this.failed += 1;
        this.lastError = error.message;
        resolve();
      });
      request.end(body);
    });
  }
}

// ---------------------------------------------------------------------------------------------------------

interface SizeResult {
  readonly emails: number;
  readonly seconds: number;
  readonly emailsPerSecond: number;
  readonly cpuMsPerEmail: number;
  readonly cpuSeconds: number;
  readonly idleRssMb: number;
  readonly peakRssMb: number;
  readonly endRssMb: number;
  readonly gc: { pauses: number; pauseMs: number; markCompacts: number; pauseMsPerEmail: number };
  readonly accepted: number;
  readonly sendFailures: number;
  readonly reportsDelivered: number;
  readonly webhookRequests: number;
  readonly messagesRead: number;
  readonly evictedUnread: number;
  readonly emulatorStats: unknown;
}

/** The node arguments of the package.json beside the emulator's dist/ (the app's own, or a copied build's). */
function emulatorNodeArgs(settings: Settings, size: number): string[] {
  const manifestPath = path.join(path.dirname(settings.emulatorMain), '..', 'package.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as {
    notifications?: { nodeArgs?: unknown };
  };
  const declared = manifest.notifications?.nodeArgs;
  // What apps/pipeline-e2e/test/support/pipeline.ts starts it with.
  return [
    '--enable-source-maps',
    ...(Array.isArray(declared) ? declared.filter((arg): arg is string => typeof arg === 'string') : []),
    '--trace-gc',
    ...(settings.cpuProfDir
      ? [
          '--cpu-prof',
          '--cpu-prof-dir',
          settings.cpuProfDir,
          '--cpu-prof-name',
          `emulator-${size}.cpuprofile`,
        ]
      : []),
    ...(settings.heapSnapshotDir
      ? ['--heapsnapshot-signal=SIGUSR2', '--diagnostic-dir', settings.heapSnapshotDir]
      : []),
    ...settings.nodeArgs,
  ];
}

async function runSize(settings: Settings, size: number): Promise<SizeResult> {
  const sink = new WebhookSink();
  const webhook = await sink.start();
  const gc = new GcTrace();
  const nodeArgs = emulatorNodeArgs(settings, size);
  log(
    `\n${size.toLocaleString('en')} emails: ${Object.entries(settings.env)
      .map(([name, value]) => `${name}=${value} `)
      .join('')}node ${nodeArgs.join(' ')} ${path.relative(WORKSPACE_ROOT, settings.emulatorMain)}`,
  );
  const emulator: AppProcess = startAppProcess({
    args: [settings.emulatorMain],
    nodeArgs,
    env: {
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      // As the pipeline benchmark runs it (apps/pipeline-e2e/test/support/pipeline.ts).
      ACS_DEDUPLICATE_OPERATION_ID: 'false',
      ACS_DELIVERY_REPORT_WEBHOOK: webhook,
      ACS_DELIVERY_REPORT_ACCESS_KEY: 'status-poller-dev-delivery-report-key',
      ...settings.env,
    },
    inheritEnv: false,
    name: 'acs-emulator',
    onOutput: (chunk) => gc.onOutput(chunk),
  });
  try {
    const url = (await emulator.waitForLine(LISTENING, 30_000)).replace(/\/$/, '');
    const driver = new SendDriver(url, settings.concurrency, settings.htmlBytes);
    const feed = new MessageFeed(url);
    // Warm-up (JIT, connections), then a reset so that the measured run starts from empty tables.
    const warmup = Math.min(2_000, size);
    await driver.send(0, warmup, settings.concurrency);
    await waitFor(() => sink.events >= warmup, 'warm-up delivery reports');
    await fetch(`${url}/admin/reset`, { method: 'POST' });
    driver.accepted = 0;
    sink.events = 0;
    sink.deliveries = 0;
    const gcBefore = { pauses: gc.pauses, pauseMs: gc.pauseMs, markCompacts: gc.markCompacts };
    const idleRssMb = memoryMbOf(emulator.pid).rssMb;
    const cpuBefore = cpuMsOf(emulator.pid);
    const t0 = Date.now();

    let sending = true;
    const feeding = (async () => {
      let lastLog = Date.now();
      while (sending) {
        await feed.poll();
        if (Date.now() - lastLog >= 10_000) {
          lastLog = Date.now();
          const memory = memoryMbOf(emulator.pid);
          log(
            `  ${round((Date.now() - t0) / 1000)} s: ${driver.accepted.toLocaleString('en')} accepted, ` +
              `${sink.events.toLocaleString('en')} reports, RSS ${round(memory.rssMb)} MB`,
          );
        }
        await sleep(1_000);
      }
    })();
    await driver.send(warmup, size, settings.concurrency);
    await waitFor(() => sink.events >= driver.accepted, 'delivery reports of every accepted send');
    const seconds = (Date.now() - t0) / 1000;
    const cpuMs = cpuMsOf(emulator.pid) - cpuBefore;
    sending = false;
    await feeding;
    await feed.poll();
    const memory = memoryMbOf(emulator.pid);
    const stats = await (await fetch(`${url}/admin/stats`)).json();
    if (settings.heapSnapshotDir) await heapSnapshot(emulator, settings.heapSnapshotDir);
    driver.close();
    const pauseMs = gc.pauseMs - gcBefore.pauseMs;
    return {
      emails: size,
      seconds: round(seconds, 1),
      emailsPerSecond: round(size / seconds),
      cpuMsPerEmail: round(cpuMs / size, 3),
      cpuSeconds: round(cpuMs / 1000, 1),
      idleRssMb: round(idleRssMb),
      peakRssMb: round(memory.peakRssMb),
      endRssMb: round(memory.rssMb),
      gc: {
        pauses: gc.pauses - gcBefore.pauses,
        pauseMs: round(pauseMs),
        markCompacts: gc.markCompacts - gcBefore.markCompacts,
        pauseMsPerEmail: round(pauseMs / size, 4),
      },
      accepted: driver.accepted,
      sendFailures: driver.failed,
      reportsDelivered: sink.events,
      webhookRequests: sink.deliveries,
      messagesRead: feed.read,
      evictedUnread: feed.missed,
      emulatorStats: stats,
    };
  } catch (error) {
    log(`emulator output (tail):\n${emulator.output().slice(-3000)}`);
    throw error;
  } finally {
    await emulator.stop({ timeoutMs: 10_000 });
    await sink.stop();
  }
}

/** Signals the emulator to write a heap snapshot and waits until the file is complete (its size settles). */
async function heapSnapshot(emulator: AppProcess, dir: string): Promise<void> {
  const before = new Set(readdirSync(dir));
  emulator.process.kill('SIGUSR2');
  let size = -1;
  for (;;) {
    await sleep(2_000);
    const file = readdirSync(dir).find((name) => name.endsWith('.heapsnapshot') && !before.has(name));
    if (file === undefined) continue;
    const current = statSync(path.join(dir, file)).size;
    if (current > 0 && current === size) {
      log(`  heap snapshot: ${path.join(dir, file)}`);
      return;
    }
    size = current;
  }
}

/** Polls `done` every 100 ms; fails when it has not become true within STALL_MS. */
async function waitFor(done: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + STALL_MS;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

function printTable(results: readonly SizeResult[]): void {
  const rows: [string, (result: SizeResult) => string][] = [
    ['emails/s', (r) => r.emailsPerSecond.toLocaleString('en')],
    ['emulator CPU-ms per email', (r) => r.cpuMsPerEmail.toFixed(3)],
    ['emulator peak RSS (MB)', (r) => String(r.peakRssMb)],
    ['emulator RSS idle → end (MB)', (r) => `${r.idleRssMb} → ${r.endRssMb}`],
    [
      'heap used / total, array buffers at end (MB)',
      (r) => {
        const memory = (r.emulatorStats as { memory?: Record<string, number | undefined> }).memory ?? {};
        const value = (name: string): string => String(memory[name] ?? '?');
        return `${value('heapUsedMb')} / ${value('heapTotalMb')}, ${value('arrayBuffersMb')}`;
      },
    ],
    ['GC pauses (ms, count, mark-compacts)', (r) => `${r.gc.pauseMs}, ${r.gc.pauses}, ${r.gc.markCompacts}`],
    ['GC ms per email', (r) => r.gc.pauseMsPerEmail.toFixed(4)],
    ['accepted / send failures', (r) => `${r.accepted} / ${r.sendFailures}`],
    ['delivery reports (events / POSTs)', (r) => `${r.reportsDelivered} / ${r.webhookRequests}`],
    ['messages read / evicted unread', (r) => `${r.messagesRead} / ${r.evictedUnread}`],
  ];
  const header = ['', ...results.map((r) => r.emails.toLocaleString('en'))];
  const table = [header, ...rows.map(([label, cell]) => [label, ...results.map(cell)])];
  const widths = header.map((_, column) => Math.max(...table.map((row) => (row[column] ?? '').length)));
  log('');
  for (const row of table) log(row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join(' │ '));
}

async function main(): Promise<void> {
  const settings = readSettings();
  log(
    `ACS emulator benchmark: ${settings.sizes.join(', ')} emails, ${settings.concurrency} in flight, ` +
      `${settings.htmlBytes}-byte HTML; ${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}, node ${process.version}`,
  );
  for (const dir of [settings.cpuProfDir, settings.heapSnapshotDir])
    if (dir !== undefined) mkdirSync(dir, { recursive: true });
  const results: SizeResult[] = [];
  for (const size of settings.sizes) results.push(await runSize(settings, size));
  printTable(results);
  mkdirSync(path.dirname(settings.out), { recursive: true });
  writeFileSync(
    settings.out,
    `${JSON.stringify(
      {
        startedAt: new Date().toISOString(),
        machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version },
        settings,
        results,
      },
      null,
      2,
    )}\n`,
  );
  log(`\nwrote ${path.relative(WORKSPACE_ROOT, settings.out)}`);
  const failed = results.filter(
    (r) => r.sendFailures > 0 || r.reportsDelivered < r.accepted || r.evictedUnread > 0,
  );
  if (failed.length > 0) {
    log(`✗ failures in ${failed.map((r) => r.emails).join(', ')}`);
    process.exitCode = 1;
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
