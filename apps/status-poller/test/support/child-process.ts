import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

export const WORKSPACE_ROOT = join(__dirname, '..', '..', '..', '..');

export interface RunningChild {
  readonly process: ChildProcess;
  /** Everything the child wrote so far (stdout and stderr), for failure messages. */
  output(): string;
  /** Resolves with the first capture group of `pattern` once a line matches (rejects if the child exits). */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** SIGTERM (or the given signal), then waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts `node <script>` from the workspace root with extra environment variables. */
export function startNode(script: string, env: Record<string, string>): RunningChild {
  const child = spawn(process.execPath, [join(WORKSPACE_ROOT, script)], {
    cwd: WORKSPACE_ROOT,
    env: { ...process.env, ...env, NO_COLOR: '1', FORCE_COLOR: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer): void => {
    output += chunk.toString();
    // Keep the tail only: a long run must not grow the test's memory without bound.
    if (output.length > 200_000) output = output.slice(-100_000);
    for (const listener of listeners) listener();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  return {
    process: child,
    output: () => output,
    waitForLine(pattern, timeoutMs = 30_000) {
      return new Promise<string>((resolve, reject) => {
        const check = (): void => {
          const match = pattern.exec(output);
          if (match) {
            cleanup();
            resolve(match[1] ?? match[0]);
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(
            new Error(`No line matching ${pattern} within ${timeoutMs} ms. Output:\n${output.slice(-4000)}`),
          );
        }, timeoutMs);
        const onExit = (): void => {
          cleanup();
          reject(new Error(`${script} exited before printing ${pattern}. Output:\n${output.slice(-4000)}`));
        };
        const cleanup = (): void => {
          clearTimeout(timer);
          listeners.delete(check);
          child.off('exit', onExit);
        };
        listeners.add(check);
        child.once('exit', onExit);
        check();
      });
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}
