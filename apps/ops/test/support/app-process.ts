import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

export type AppName = 'orders' | 'email-sender';

const APPS = join(__dirname, '..', '..', '..');

function run(app: AppName, script: string, env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ['--enable-source-maps', join(APPS, app, 'dist', script)], {
    env: { PATH: process.env['PATH'] ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Applies the orders migrations to the database of `env.DATABASE_URL` (the built `migrate.js`). */
export async function migrateOrders(env: Record<string, string>): Promise<void> {
  const child = run('orders', 'migrate.js', env);
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`orders migrations failed (${String(code)}):\n${output}`);
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
  let output = '';
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const urls = await new Promise<{ baseUrl: string; managementUrl: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${app} did not start:\n${output}`)), timeoutMs);
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /Listening on (http:\/\/[^\s);"]+).*management on (http:\/\/[^\s);"]+)/.exec(output);
      if (match?.[1] !== undefined && match[2] !== undefined) {
        clearTimeout(timer);
        resolve({ baseUrl: match[1].replace('[::1]', '127.0.0.1'), managementUrl: match[2] });
      }
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`${app} exited before listening:\n${output}`));
    });
  });
  return {
    ...urls,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
