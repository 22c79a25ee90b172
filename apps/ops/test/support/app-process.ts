import { join } from 'node:path';
import { type AppProcess as StartedApp, startAppProcess } from '@notifications/testing';

export type AppName = 'orders' | 'email-sender';

const APPS = join(__dirname, '..', '..', '..');

function run(app: AppName, script: string, env: Record<string, string>): StartedApp {
  return startAppProcess({
    nodeArgs: ['--enable-source-maps'],
    args: [join(APPS, app, 'dist', script)],
    env: { PATH: process.env['PATH'] ?? '', ...env },
    inheritEnv: false,
    name: `${app} ${script}`,
  });
}

/** Applies the orders migrations to the database of `env.DATABASE_URL` (the built `migrate.js`). */
export async function migrateOrders(env: Record<string, string>): Promise<void> {
  const child = run('orders', 'migrate.js', env);
  const { code } = await child.exited;
  if (code !== 0) throw new Error(`orders migrations failed (${String(code)}):\n${child.output()}`);
}

export interface AppProcess {
  readonly baseUrl: string;
  /** The management listener (operator endpoints). */
  readonly managementUrl: string;
  stop(): Promise<void>;
}

/** A built app (`apps/<app>/dist/main.js`, as deployed) in a child process, listening on a free port. */
export async function startApp(
  app: AppName,
  env: Record<string, string>,
  timeoutMs = 60_000,
): Promise<AppProcess> {
  // PORT=0: the management listener takes a free port too.
  const child = run(app, 'main.js', { PORT: '0', HOST: '127.0.0.1', ...env });
  const match = await child.waitForMatch(
    /Listening on (http:\/\/[^\s);"]+).*management on (http:\/\/[^\s);"]+)/,
    timeoutMs,
  );
  const urls = { baseUrl: (match[1] ?? '').replace('[::1]', '127.0.0.1'), managementUrl: match[2] ?? '' };
  return {
    ...urls,
    async stop() {
      // SIGTERM and wait, however long draining takes (no SIGKILL: the tests check a clean shutdown).
      await child.stop({ timeoutMs: 2 ** 31 - 1 });
    },
  };
}
