import { spawnSync } from 'node:child_process';
import path from 'node:path';

const WORKSPACE_ROOT = path.resolve(__dirname, '..', '..', '..');

/** scripts/with-infra.mjs (the benchmarks' npm scripts) as package.json runs it. */
function withInfra(args: readonly string[], env: Record<string, string>) {
  return spawnSync(
    process.execPath,
    ['--conditions=@notifications/source', '-r', '@swc-node/register', 'scripts/with-infra.mjs', ...args],
    { cwd: WORKSPACE_ROOT, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 },
  );
}

// Whether it stops only what it started is startedByUp's decision (src/lib/infra.spec.ts): starting a broker on
// the shared port is not something a test on a shared machine may do.
describe('scripts/with-infra.mjs', () => {
  it('fails with one line, and without running the command, when the broker it needs does not answer', () => {
    const run = withInfra(['--no-postgres', process.execPath, '-e', 'console.log("ran")'], {
      KAFKA_BROKERS: '127.0.0.1:1',
      npm_lifecycle_event: 'bench:kafka',
    });

    expect(run.status).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr.trimEnd().split('\n')).toEqual([
      expect.stringMatching(
        /^npm run bench:kafka: cannot start the infrastructure it needs: KAFKA_BROKERS=127\.0\.0\.1:1 does not answer: .*ECONNREFUSED/,
      ),
    ]);
  });

  it('runs the command against the broker that answers, with KAFKA_BROKERS set, and passes its exit code on', () => {
    const brokers = process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092';
    const run = withInfra(
      ['--no-postgres', process.execPath, '-e', 'console.log(process.env.KAFKA_BROKERS); process.exit(3)'],
      { KAFKA_BROKERS: brokers },
    );

    expect(run.status).toBe(3);
    expect(run.stdout.trimEnd().split('\n').at(-1)).toBe(brokers);
  });
});
