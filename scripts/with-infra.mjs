#!/usr/bin/env node
// The benchmarks' wrapper: `with-infra.mjs [--no-postgres] <command> [args…]` starts the infrastructure the
// command needs as `npm start` and `npm test` do (libs/dev-infra `up`: the local broker, PostgreSQL; or only checks
// the ones KAFKA_BROKERS / DATABASE_URL name), runs the command with KAFKA_BROKERS and DATABASE_URL pointing there,
// and afterwards stops what it started itself (a broker or database that was already running is left alone). When
// the infrastructure cannot start, it says why in one line and exits 1. The command's exit code is its own.
import { createRequire } from 'node:module';
import { spawn } from 'node:child_process';

// libs/dev-infra is TypeScript: package.json runs this script with `--conditions=@notifications/source -r
// @swc-node/register`, whose require hook compiles it.
const { down, startedByUp, up } = createRequire(import.meta.url)('@notifications/dev-infra');

// kafkajs 2.2.4 schedules setTimeout(-1 - Date.now()) in its request queue; Node >= 24 warns about it
// (TimeoutNegativeWarning). Harmless (as libs/dev-infra's CLI says); keep the output clean.
process.removeAllListeners('warning');
process.on('warning', (warning) => {
  if (warning.name !== 'TimeoutNegativeWarning') console.warn(`${warning.name}: ${warning.message}`);
});

const args = process.argv.slice(2);
const postgres = args[0] !== '--no-postgres';
const [command, ...commandArgs] = postgres ? args : args.slice(1);
const script = process.env.npm_lifecycle_event ? `npm run ${process.env.npm_lifecycle_event}` : command;
if (command === undefined) {
  console.error('usage: with-infra.mjs [--no-postgres] <command> [args…]');
  process.exit(2);
}

let infra;
try {
  infra = await up({ postgres });
} catch (error) {
  const message = error instanceof Error ? error.message : String(error);
  // The first line says what failed (dev-infra's messages name the log file to read for the rest).
  console.error(`${script}: cannot start the infrastructure it needs: ${message.split('\n')[0]}`);
  process.exit(1);
}
const started = startedByUp(infra);

const child = spawn(command, commandArgs, {
  stdio: 'inherit',
  env: {
    ...process.env,
    KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? infra.kafka?.brokers,
    ...(postgres ? { DATABASE_URL: process.env.DATABASE_URL ?? infra.postgres?.url } : {}),
    NX_DAEMON: 'false',
  },
});
// Ctrl-C (and a closed terminal) signal the whole foreground process group, so the command has its SIGINT/SIGHUP
// already: passing it on would be a second one, which makes `npm run bench` kill its apps at once instead of
// stopping them and cleaning up. This process only waits for the command and then stops the infrastructure.
// SIGTERM is usually sent to one process (a supervisor, `kill`): that one is passed on.
for (const signal of ['SIGINT', 'SIGHUP']) process.on(signal, () => undefined);
process.on('SIGTERM', () => child.kill('SIGTERM'));
const exitCode = await new Promise((resolve) => {
  child.on('error', (error) => {
    console.error(`${script}: ${command} did not start: ${error.message}`);
    resolve(1);
  });
  child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
});

if (started.kafka || started.postgres) await down(started);
process.exit(exitCode);
