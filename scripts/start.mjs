#!/usr/bin/env node
// `npm start`: the whole system on its embedded defaults. Starts the infrastructure (or uses what KAFKA_BROKERS /
// DATABASE_URL point at), builds and starts every app under apps/ with prefixed, interleaved logs, and on Ctrl-C
// stops the apps and then whatever infrastructure it started itself.
//
// An app takes part by declaring in its package.json:
//   "notifications": { "start": "dist/main.js", "port": 5090, "links": { "API docs": "/docs" }, "migrate": true,
//                      "env": { "NAME": "embedded default, used unless NAME is set in the environment" } }
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { down, up } from './infra.mjs';

const root = join(import.meta.dirname, '..');
const colours = [36, 35, 33, 32, 34, 31];

function discoverApps() {
  const appsDir = join(root, 'apps');
  if (!existsSync(appsDir)) return [];
  return readdirSync(appsDir)
    .map((name) => ({ name, dir: join(appsDir, name), manifest: join(appsDir, name, 'package.json') }))
    .filter(({ manifest }) => existsSync(manifest))
    .map((app) => ({ ...app, settings: JSON.parse(readFileSync(app.manifest, 'utf8')).notifications }))
    .filter(({ settings }) => settings?.start);
}

function run(command, args, env) {
  const result = spawnSync(command, args, { stdio: 'inherit', cwd: root, env });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (exit ${result.status})`);
}

function prefixLines(stream, prefix, out) {
  let buffered = '';
  stream.on('data', (chunk) => {
    buffered += chunk.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) out.write(`${prefix} ${line}\n`);
  });
}

const infra = await up();
const startedKafka = infra.kafka?.managed === true && String(infra.kafka.action).startsWith('started');
const startedPostgres =
  infra.postgres?.embedded === true && String(infra.postgres.action).startsWith('started');
const env = {
  ...process.env,
  KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? infra.kafka?.brokers,
  DATABASE_URL: process.env.DATABASE_URL ?? infra.postgres?.url,
  NX_DAEMON: 'false',
};

const apps = discoverApps();
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
  process.exit(exitCode);
}
process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));

if (apps.length > 0) {
  run('nx', ['run-many', '-t', 'build', '-p', ...apps.map((app) => app.name), '--outputStyle=static'], env);
  for (const app of apps.filter(({ settings }) => settings.migrate))
    run('nx', ['run', `${app.name}:migrate`], env);
  apps.forEach((app, index) => {
    const width = Math.max(...apps.map((a) => a.name.length));
    const prefix = `\x1b[${colours[index % colours.length]}m${app.name.padEnd(width)} |\x1b[0m`;
    const child = spawn(process.execPath, ['--enable-source-maps', join(app.dir, app.settings.start)], {
      cwd: root,
      env: { ...app.settings.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    prefixLines(child.stdout, prefix, process.stdout);
    prefixLines(child.stderr, prefix, process.stderr);
    child.on('exit', (code, signal) => {
      if (stopping) return;
      console.error(`${prefix} exited (${signal ?? `code ${code}`}); stopping everything`);
      void stop(1);
    });
    children.push({ app, child });
  });
}

console.log('\nThe notification pipeline is running:');
console.log(`  Kafka       ${env.KAFKA_BROKERS}`);
console.log(`  PostgreSQL  ${env.DATABASE_URL}`);
for (const { name, settings } of apps) {
  const base = `http://127.0.0.1:${settings.port}`;
  console.log(`  ${name.padEnd(11)} ${base}`);
  for (const [label, path] of Object.entries(settings.links ?? {}))
    console.log(`  ${''.padEnd(11)} ${label}: ${base}${path}`);
}
if (apps.length === 0) console.log('  (no apps yet: only the infrastructure runs)');
console.log('\nCtrl-C stops everything this command started.');
// Keep the process alive until a signal arrives.
setInterval(() => undefined, 1 << 30);
