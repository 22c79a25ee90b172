import { join } from 'node:path';
import { type AppProcess as StartedApp, startAppProcess, WORKSPACE_ROOT } from '@notifications/testing';

export { WORKSPACE_ROOT };

export type AppName = 'acs-emulator' | 'orders' | 'email-sender' | 'status-poller';

const TAIL_LINES = 80;

/** Only PATH-like basics from the test runner: the apps must not pick up the runner's own Kafka settings. */
export function baseEnv(): Record<string, string> {
  const inherited: Record<string, string> = {};
  for (const key of ['PATH', 'HOME', 'TMPDIR', 'LANG', 'TZ']) {
    const value = process.env[key];
    if (value !== undefined) inherited[key] = value;
  }
  return { ...inherited, KAFKAJS_NO_PARTITIONER_WARNING: '1' };
}

/** A built app (`apps/<name>/dist/<script>`) as a child process, with the tail of its output for failures. */
export class AppProcess {
  private readonly app: StartedApp;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(
    readonly name: AppName,
    env: Record<string, string>,
    script = 'main.js',
  ) {
    // Only `env`: the apps must not pick up the runner's own Kafka settings (see baseEnv).
    this.app = startAppProcess({
      nodeArgs: ['--enable-source-maps'],
      args: [join(WORKSPACE_ROOT, 'apps', name, 'dist', script)],
      env,
      inheritEnv: false,
      name,
    });
    this.exited = this.app.exited;
  }

  get output(): string {
    return this.app
      .output()
      .split('\n')
      .filter((line) => line.trim() !== '')
      .slice(-TAIL_LINES)
      .join('\n');
  }

  get running(): boolean {
    return this.app.running();
  }

  /** Waits until `url` answers 2xx; fails early (with the app's last lines) when the process exits. */
  async waitUntilAnswering(url: string, timeoutMs = 90_000): Promise<void> {
    await this.app.waitForHttp(url, timeoutMs);
  }

  /** SIGTERM, SIGKILL after 15 s. */
  async stop(): Promise<void> {
    await this.app.stop({ timeoutMs: 15_000 });
  }
}

/** Runs a one-shot script of an app (e.g. orders' migrations) to completion. */
export async function runAppScript(
  name: AppName,
  script: string,
  env: Record<string, string>,
): Promise<void> {
  const child = new AppProcess(name, env, script);
  const { code } = await child.exited;
  if (code !== 0) throw new Error(`${name} ${script} failed (exit ${String(code)}):\n${child.output}`);
}
