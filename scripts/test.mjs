#!/usr/bin/env node
// `npm test`: every project's tests, against a real Kafka broker and a real PostgreSQL.
// `npm run test:faults` (`--faults`): the fault-injection suite of apps/pipeline-e2e instead.
// Starts whatever infrastructure is not running yet (see libs/dev-infra) and afterwards stops only what it
// started, so a developer's running broker is left alone. Extra arguments go to `nx run-many -t test`
// (e.g. `npm test -- -p messaging`). Projects run one at a time: their integration suites share one broker, one
// PostgreSQL and two cores, and timing-sensitive tests (heartbeats, due times) should not compete.
import { createRequire } from 'node:module';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// libs/dev-infra is TypeScript: package.json runs this script with `--conditions=@notifications/source -r
// @swc-node/register`, whose require hook compiles it (Node's own type stripping cannot load the workspace libs'
// extensionless CommonJS imports).
const { down, startedByUp, up } = createRequire(import.meta.url)('@notifications/dev-infra');

const infra = await up();
const { kafka: startedKafka, postgres: startedPostgres } = startedByUp(infra);

const faults = process.argv.includes('--faults');
const nxArgs = faults
  ? ['run', 'pipeline-e2e:faults', '--outputStyle=stream', '--skip-nx-cache']
  : ['run-many', '-t', 'test', '--outputStyle=stream', '--skip-nx-cache', '--parallel=1'];
const extraArgs = process.argv.slice(2).filter((arg) => arg !== '--faults');

const summaryDir = mkdtempSync(join(tmpdir(), 'notifications-tests-'));
const child = spawn('nx', [...nxArgs, ...extraArgs], {
  stdio: 'inherit',
  env: {
    ...process.env,
    KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? infra.kafka?.brokers,
    DATABASE_URL: process.env.DATABASE_URL ?? infra.postgres?.url,
    NOTIFICATIONS_TEST_SUMMARY_DIR: summaryDir,
    NX_DAEMON: 'false',
  },
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
const exitCode = await new Promise((resolve) =>
  child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))),
);

const totals = { passed: 0, failed: 0, skipped: 0, projects: 0 };
for (const file of readdirSync(summaryDir)) {
  const result = JSON.parse(readFileSync(join(summaryDir, file), 'utf8'));
  totals.passed += result.passed;
  totals.failed += result.failed;
  totals.skipped += result.skipped;
  totals.projects += 1;
}
rmSync(summaryDir, { recursive: true, force: true });

if (startedKafka || startedPostgres) await down({ kafka: startedKafka, postgres: startedPostgres });

console.log(`\n${totals.projects} projects tested`);
console.log(
  `tests: ${totals.passed} passed, ${totals.failed} failed${totals.skipped ? `, ${totals.skipped} skipped` : ''}`,
);
process.exit(exitCode !== 0 ? exitCode : totals.failed > 0 || totals.passed === 0 ? 1 : 0);
