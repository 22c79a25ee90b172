#!/usr/bin/env node
// `npm start`: the whole system on its embedded defaults. Starts the infrastructure (or uses what KAFKA_BROKERS /
// DATABASE_URL point at), builds and starts every app under apps/ with prefixed, interleaved logs, waits until
// every app answers its readiness probe, prints where everything is and how to send a first order, and on Ctrl-C
// stops the apps and then whatever infrastructure it started itself (a broker or database it found running is
// left alone).
//
// An app takes part by declaring in its package.json:
//   "notifications": { "start": "dist/main.js", "port": 5090, "managementPort": 5190,
//                      "links": { "API docs": "/docs" }, "migrate": true,
//                      "env": { "NAME": "embedded default, used unless NAME is set in the environment" },
//                      "nodeArgs": ["--max-old-space-size=160"] }   (node flags, e.g. the app's heap cap)
// `managementPort` is the app's management listener (operator endpoints, /metrics, /status; 127.0.0.1 only);
// `managementLinks` are printed under it like `links` (orders: the operator console).
// Readiness is `GET /health/ready` (libs/health) on that port; START_READY_TIMEOUT_MS (default 90 s) bounds the
// wait, after which the apps that are not ready are named with their last probe answer and log lines, and
// everything is stopped.
import { createRequire } from 'node:module';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

// libs/dev-infra is TypeScript: package.json runs this script with `--conditions=@notifications/source -r
// @swc-node/register`, whose require hook compiles it (Node's own type stripping cannot load the workspace libs'
// extensionless CommonJS imports).
const { down, startedByUp, up } = createRequire(import.meta.url)('@notifications/dev-infra');

const root = join(import.meta.dirname, '..');
const colours = [36, 35, 33, 32, 34, 31];
const READY_PATH = '/health/ready';
const READY_TIMEOUT_MS = positiveInt(process.env.START_READY_TIMEOUT_MS, 90_000);
const PROBE_INTERVAL_MS = 500;
const PROBE_TIMEOUT_MS = 4_000;
const TAIL_LINES = 15;
const startedAt = performance.now();

function positiveInt(raw, fallback) {
  const value = Number(raw);
  return raw !== undefined && raw !== '' && Number.isSafeInteger(value) && value > 0 ? value : fallback;
}

function discoverApps() {
  const appsDir = join(root, 'apps');
  if (!existsSync(appsDir)) return [];
  return readdirSync(appsDir)
    .map((name) => ({ name, dir: join(appsDir, name), manifest: join(appsDir, name, 'package.json') }))
    .filter(({ manifest }) => existsSync(manifest))
    .map((app) => ({ ...app, settings: JSON.parse(readFileSync(app.manifest, 'utf8')).notifications }))
    .filter(({ settings }) => settings?.start)
    .map((app) => ({
      ...app,
      url: `http://127.0.0.1:${app.settings.port}`,
      managementUrl: app.settings.managementPort
        ? `http://127.0.0.1:${app.settings.managementPort}`
        : undefined,
      tail: [],
    }));
}

function run(command, args, env) {
  const result = spawnSync(command, args, { stdio: 'inherit', cwd: root, env });
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed (${result.signal ?? `exit ${result.status}`})`);
  }
}

// Strips colours so the tail printed on failure is readable in a log file too.
const plain = (line) => line.replace(/\x1b\[[0-9;]*m/g, '');

function prefixLines(stream, prefix, out, tail) {
  let buffered = '';
  stream.on('data', (chunk) => {
    buffered += chunk.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) {
      out.write(`${prefix} ${line}\n`);
      tail.push(plain(line));
      if (tail.length > TAIL_LINES) tail.shift();
    }
  });
}

/** Whether something already accepts connections on the port (another `npm start`, a stray app). */
function portAnswers(port) {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, timeout: 1_000 });
    const done = (answer) => {
      socket.destroy();
      resolve(answer);
    };
    socket.once('connect', () => done(true));
    socket.once('timeout', () => done(false));
    socket.once('error', () => done(false));
  });
}

/** One readiness probe: `undefined` when ready, else why not (the failing checks, or the network error). */
async function probe(app) {
  try {
    const response = await fetch(`${app.url}${READY_PATH}`, {
      signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
    });
    if (response.ok) return undefined;
    const body = await response.text();
    try {
      const failing = Object.entries(JSON.parse(body).error ?? {}).map(
        ([name, detail]) => `${name}: ${detail?.message ?? detail?.status ?? 'down'}`,
      );
      if (failing.length > 0) return `${READY_PATH} answers ${response.status} (${failing.join('; ')})`;
    } catch {
      // not terminus JSON: show the body as it is
    }
    return `${READY_PATH} answers ${response.status}: ${body.slice(0, 300)}`;
  } catch (error) {
    if (error?.name === 'TimeoutError') return `${READY_PATH} gave no answer within ${PROBE_TIMEOUT_MS} ms`;
    return `nothing answers on ${app.url} yet (${error?.cause?.code ?? error?.message})`;
  }
}

const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;

const infra = await up();
const { kafka: startedKafka, postgres: startedPostgres } = startedByUp(infra);
const env = {
  ...process.env,
  KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? infra.kafka?.brokers,
  DATABASE_URL: process.env.DATABASE_URL ?? infra.postgres?.url,
  // People read these interleaved logs: one line per event instead of the JSON a log collector wants
  // (LOG_FORMAT=json to see exactly what production writes).
  LOG_FORMAT: process.env.LOG_FORMAT ?? 'text',
  NX_DAEMON: 'false',
};

const apps = discoverApps();
const width = Math.max(13, ...apps.map((app) => app.name.length));
const children = [];
let stopping = false;

async function stop(exitCode) {
  if (stopping) return;
  stopping = true;
  console.log('\nStopping…');
  await Promise.all(
    children.map(
      ({ child }) =>
        new Promise((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('exit', resolve);
          child.kill('SIGTERM');
          setTimeout(() => child.kill('SIGKILL'), 30_000).unref();
        }),
    ),
  );
  if (startedKafka || startedPostgres) await down({ kafka: startedKafka, postgres: startedPostgres });
  else console.log('The broker and database were already running and are left running.');
  process.exit(exitCode);
}
process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));

/** Names the app, why, and the last lines it logged; then stops everything. */
function fail(problems) {
  console.error('\nnpm start failed:');
  for (const { app, reason } of problems) {
    console.error(`  ${app.name}: ${reason}`);
    if (app.tail.length > 0) {
      console.error(`  last ${app.tail.length} log lines of ${app.name}:`);
      for (const line of app.tail) console.error(`    | ${line}`);
    }
  }
  return stop(1);
}

async function startApps() {
  const busy = [];
  for (const app of apps) {
    for (const port of [app.settings.port, app.settings.managementPort].filter(Boolean)) {
      if (await portAnswers(port)) busy.push({ app, port });
    }
  }
  if (busy.length > 0) {
    return fail(
      busy.map(({ app, port }) => ({
        app,
        reason:
          `port ${port} is already in use (another npm start, or a stray app: ` +
          `\`ss -ltnp | grep ${port}\`)`,
      })),
    );
  }
  try {
    run('nx', ['run-many', '-t', 'build', '-p', ...apps.map((app) => app.name), '--outputStyle=static'], env);
    for (const app of apps.filter(({ settings }) => settings.migrate))
      run('nx', ['run', `${app.name}:migrate`], env);
  } catch (error) {
    console.error(`\n${error.message}`);
    return stop(1);
  }
  if (stopping) return;
  apps.forEach((app, index) => {
    const prefix = `\x1b[${colours[index % colours.length]}m${app.name.padEnd(width)} |\x1b[0m`;
    const nodeArgs = ['--enable-source-maps', ...(app.settings.nodeArgs ?? [])];
    const child = spawn(process.execPath, [...nodeArgs, join(app.dir, app.settings.start)], {
      cwd: root,
      // The ports are the manifest's, whatever PORT the shell has: the probes and the welcome rely on them. The
      // management listener stays on 127.0.0.1 (the apps' default).
      env: {
        ...app.settings.env,
        ...env,
        PORT: String(app.settings.port),
        ...(app.settings.managementPort ? { MANAGEMENT_PORT: String(app.settings.managementPort) } : {}),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    prefixLines(child.stdout, prefix, process.stdout, app.tail);
    prefixLines(child.stderr, prefix, process.stderr, app.tail);
    child.on('exit', (code, signal) => {
      if (stopping) return;
      // Give the pipes a moment to deliver the last lines the app wrote before it died.
      setTimeout(() => {
        if (!stopping) void fail([{ app, reason: `exited (${signal ?? `code ${code}`})` }]);
      }, 100);
    });
    children.push({ app, child });
  });
  return waitUntilReady();
}

async function waitUntilReady() {
  const deadline = performance.now() + READY_TIMEOUT_MS;
  const waiting = new Map(apps.map((app) => [app, 'not probed yet']));
  while (waiting.size > 0 && !stopping) {
    await Promise.all(
      [...waiting.keys()].map(async (app) => {
        const reason = await probe(app);
        if (reason !== undefined) return waiting.set(app, reason);
        waiting.delete(app);
        console.log(
          `\x1b[1m${app.name} is ready\x1b[0m (${seconds(performance.now() - startedAt)} after npm start)`,
        );
      }),
    );
    if (waiting.size === 0 || stopping) break;
    if (performance.now() >= deadline) {
      return fail(
        [...waiting].map(([app, reason]) => ({
          app,
          reason: `not ready within ${seconds(READY_TIMEOUT_MS)} (START_READY_TIMEOUT_MS); last probe: ${reason}`,
        })),
      );
    }
    await sleep(PROBE_INTERVAL_MS);
  }
  if (!stopping) welcome();
}

function welcome() {
  const bold = (text) => `\x1b[1m${text}\x1b[0m`;
  const kafkaNote = startedKafka
    ? 'started here; stopped on Ctrl-C'
    : `${infra.kafka?.action ?? 'external'}; left running`;
  const postgresNote = startedPostgres
    ? 'started here; stopped on Ctrl-C'
    : `${infra.postgres?.action ?? 'external'}; left running`;
  const lines = [
    '',
    bold(`The notification pipeline is ready (${seconds(performance.now() - startedAt)} after npm start):`),
    `  ${'Kafka'.padEnd(width)}  ${env.KAFKA_BROKERS} (${kafkaNote})`,
    `  ${'PostgreSQL'.padEnd(width)}  ${env.DATABASE_URL} (${postgresNote})`,
  ];
  for (const { name, url, managementUrl, settings } of apps) {
    lines.push(`  ${name.padEnd(width)}  ${url}  (readiness ${url}${READY_PATH})`);
    for (const [label, path] of Object.entries(settings.links ?? {}))
      lines.push(`  ${''.padEnd(width)}    ${label}: ${url}${path}`);
    if (managementUrl) {
      lines.push(
        `  ${''.padEnd(width)}    management (operator token; 127.0.0.1 only): ${managementUrl}  ` +
          `(metrics ${managementUrl}/metrics, status ${managementUrl}/status)`,
      );
      for (const [label, path] of Object.entries(settings.managementLinks ?? {}))
        lines.push(`  ${''.padEnd(width)}    ${label}: ${managementUrl}${path}`);
    }
  }
  if (apps.some((app) => app.managementUrl)) {
    lines.push(
      '',
      bold('Operate') + ' (the CLI mints an operator token with the development key):',
      '  npm run ops -- rate-limit show      # also: outbox show, dlq list, lag, topics check',
      `  OPS_TOKEN=$(npm run -s token -- --operator)   # a token for curl against the management URLs`,
    );
  }
  if (apps.length === 0) lines.push('  (no apps yet: only the infrastructure runs)');

  const orders = apps.find((app) => app.name === 'orders');
  if (orders) {
    const api = `${orders.url}/notifications/api/v1`;
    const emulator = apps.find((app) => app.name === 'acs-emulator');
    const order = JSON.stringify({
      subject: 'Hello $recipientName$',
      body: 'Your document is ready.',
      recipients: [{ emailAddress: 'ola@example.com' }, { emailAddress: 'kari@bounce.test' }],
    });
    lines.push(
      '',
      bold('Send a first order') + ' (in another terminal, in this directory):',
      '  npm run demo     # posts an order to six recipients (delivered, bounced, suppressed, throttled)',
      '                   # and prints every status change until the order is Completed',
      '',
      '  # or by hand: a development token (trusted by this development configuration only), then the order',
      `  TOKEN=$(npm run -s token -- --org ttd)`,
      `  curl -s -X POST ${api}/orders/email \\`,
      `    -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \\`,
      `    -d '${order}'`,
      `  # → {"orderId":"…"}; then, with that id:`,
      `  curl -s ${api}/orders/<orderId>/status -H "Authorization: Bearer $TOKEN"`,
      `  curl -s ${api}/orders/<orderId>/notifications/email -H "Authorization: Bearer $TOKEN"`,
      ...(emulator ? [`  curl -s ${emulator.url}/admin/messages   # the emails the emulator "sent"`] : []),
    );
  }
  lines.push('', 'Ctrl-C stops the apps (and only the infrastructure this command started).', '');
  console.log(lines.join('\n'));
}

if (apps.length > 0) await startApps();
else welcome();
// Keep the process alive until a signal arrives.
setInterval(() => undefined, 1 << 30);
