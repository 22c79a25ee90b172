import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { decodeJwt } from 'jose';

const WORKSPACE_ROOT = join(__dirname, '..', '..', '..');

// The README's `TOKEN=$(npm run -s token -- --org ttd)` captures stdout: it must hold the token and nothing else
// (the build that precedes it writes to stderr).
describe('npm run -s token', () => {
  it('prints exactly one line on stdout: a JWT for the org asked for', () => {
    const run = spawnSync('npm', ['run', '-s', 'token', '--', '--org', 'ttd'], {
      cwd: WORKSPACE_ROOT,
      encoding: 'utf8',
      env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false' },
      timeout: 170_000,
    });

    expect({ status: run.status, stderr: run.status === 0 ? '' : run.stderr }).toEqual({
      status: 0,
      stderr: '',
    });
    expect(run.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    expect(decodeJwt(run.stdout.trim())).toMatchObject({ org: 'ttd' });
  }, 180_000);
});
