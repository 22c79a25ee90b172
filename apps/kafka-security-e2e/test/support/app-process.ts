import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';

export const WORKSPACE_ROOT = join(__dirname, '..', '..', '..', '..');

export type AppName = 'acs-emulator' | 'orders' | 'email-sender' | 'status-poller';

const TAIL_LINES = 80;

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

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
  private readonly lines: string[] = [];
  private readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(
    readonly name: AppName,
    env: Record<string, string>,
    script = 'main.js',
  ) {
    this.child = spawn(
      process.execPath,
      ['--enable-source-maps', join(WORKSPACE_ROOT, 'apps', name, 'dist', script)],
      { cwd: WORKSPACE_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const collect = (chunk: Buffer): void => {
      for (const line of chunk.toString().split('\n')) {
        if (line.trim() === '') continue;
        this.lines.push(line);
        if (this.lines.length > TAIL_LINES) this.lines.shift();
      }
    };
    this.child.stdout?.on('data', collect);
    this.child.stderr?.on('data', collect);
    this.exited = new Promise((resolve) =>
      this.child.once('exit', (code, signal) => resolve({ code, signal })),
    );
  }

  get output(): string {
    return this.lines.join('\n');
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Waits until `url` answers 2xx; fails early (with the app's last lines) when the process exits. */
  async waitUntilAnswering(url: string, timeoutMs = 90_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.running) throw new Error(`${this.name} exited during start:\n${this.output}`);
      const ok = await fetch(url).then(
        (response) => response.ok,
        () => false,
      );
      if (ok) return;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    throw new Error(`${this.name}: ${url} did not answer within ${timeoutMs} ms:\n${this.output}`);
  }

  /** SIGTERM, SIGKILL after 15 s. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
    await this.exited;
    clearTimeout(timer);
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
