import { type AppProcess, startAppProcess, WORKSPACE_ROOT } from '@notifications/testing';

export { WORKSPACE_ROOT };

export interface RunningChild {
  readonly process: AppProcess['process'];
  /** Everything the child wrote so far (stdout and stderr), for failure messages. */
  output(): string;
  /** Resolves with the first capture group of `pattern` once a line matches (rejects if the child exits). */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** SIGTERM (or the given signal), then waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts `node <script>` from the workspace root with extra environment variables. */
export function startNode(script: string, env: Record<string, string>): RunningChild {
  const app = startAppProcess({
    args: [script],
    env: { ...env, NO_COLOR: '1', FORCE_COLOR: '0' },
  });
  return {
    process: app.process,
    output: () => app.output(),
    waitForLine: (pattern, timeoutMs) => app.waitForLine(pattern, timeoutMs),
    async stop(signal = 'SIGTERM') {
      // No SIGKILL fallback here: crash tests stop with the signal they mean and wait for the exit it causes.
      await app.stop({ signal, timeoutMs: 2 ** 31 - 1 });
    },
  };
}
