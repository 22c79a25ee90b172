import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

/** Ports for apps a test starts (and may restart on the same port); see libs/dev-infra for how they are picked. */
export { freePort, freePorts } from '@notifications/dev-infra';

/** The workspace root (libs/testing/{src,dist}/lib → four levels up). */
export const WORKSPACE_ROOT = join(__dirname, '..', '..', '..', '..');

/**
 * Node arguments that run TypeScript sources of the workspace directly (the libs resolve to their sources; SWC
 * compiles on require). Pass the project's tsconfig in `SWC_NODE_PROJECT` when decorators matter.
 */
export const TYPESCRIPT_SOURCE_NODE_ARGS: readonly string[] = Object.freeze([
  '--conditions=@notifications/source',
  '-r',
  '@swc-node/register',
]);

export interface AppProcessOptions {
  /** The script (absolute, or relative to `cwd`) and its arguments. */
  readonly args: readonly string[];
  /** Node's own arguments before the script (e.g. `TYPESCRIPT_SOURCE_NODE_ARGS`, a heap cap). */
  readonly nodeArgs?: readonly string[];
  /** Default the workspace root. */
  readonly cwd?: string;
  /** Added to this process's environment (or, with `inheritEnv: false`, the whole environment). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly inheritEnv?: boolean;
  /** For messages; default the script's name. */
  readonly name?: string;
  /** How much output is kept (the tail); default 200 000 characters. */
  readonly maxOutput?: number;
  /** Called with every chunk the process writes (stdout and stderr), e.g. to echo it. */
  readonly onOutput?: (chunk: string) => void;
}

export interface AppExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface AppProcess {
  readonly name: string;
  readonly process: ChildProcess;
  readonly pid: number;
  /** Resolves once the process has exited. */
  readonly exited: Promise<AppExit>;
  /** True until the process exits. */
  running(): boolean;
  /** What it wrote so far (stdout and stderr interleaved; the tail when long). */
  output(): string;
  /** Resolves with the first capture group (or the whole match) once the output matches; rejects on exit. */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Resolves with the match (every capture group) once the output matches; rejects on exit. */
  waitForMatch(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  /** Polls `probe` until it resolves true; rejects when the process exits or the time is up. */
  waitUntil(probe: () => Promise<boolean>, what: string, timeoutMs?: number): Promise<void>;
  /** Resolves once `url` answers 2xx (a readiness endpoint). */
  waitForHttp(url: string, timeoutMs?: number): Promise<void>;
  /** `signal` (default SIGTERM), then SIGKILL after `timeoutMs` (default 30 s); resolves with how it ended. */
  stop(options?: { signal?: NodeJS.Signals; timeoutMs?: number }): Promise<AppExit>;
}

/** Starts a Node process (a built app, a fixture, the emulator) with its output captured. */
export function startAppProcess(options: AppProcessOptions): AppProcess {
  const cwd = options.cwd ?? WORKSPACE_ROOT;
  const script = options.args[0] ?? '';
  const name = options.name ?? script.split('/').slice(-2).join('/');
  const maxOutput = options.maxOutput ?? 200_000;
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), ...options.args], {
    cwd,
    env: { ...(options.inheritEnv === false ? {} : process.env), ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error(`${name} could not be started`);
  let output = '';
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer): void => {
    const text = chunk.toString();
    options.onOutput?.(text);
    output += text;
    // Keep the tail only: a long run must not grow the test's memory without bound.
    if (output.length > maxOutput) output = output.slice(-Math.floor(maxOutput / 2));
    for (const listener of listeners) listener();
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  let exit: AppExit | undefined;
  const exited = new Promise<AppExit>((resolve) =>
    child.once('exit', (code, signal) => {
      exit = { code, signal };
      resolve(exit);
    }),
  );
  const tail = (): string => output.slice(-4000);
  const exitError = (waitingFor: string): Error =>
    new Error(`${name} exited (${exit?.code ?? exit?.signal}) before ${waitingFor}. Output:\n${tail()}`);

  const app: AppProcess = {
    name,
    process: child,
    pid: child.pid,
    exited,
    running: () => exit === undefined,
    output: () => output,
    async waitForLine(pattern, timeoutMs) {
      const match = await app.waitForMatch(pattern, timeoutMs);
      return match[1] ?? match[0];
    },
    waitForMatch(pattern, timeoutMs = 30_000) {
      return new Promise<RegExpExecArray>((resolve, reject) => {
        const check = (): void => {
          const match = pattern.exec(output);
          if (match) {
            cleanup();
            resolve(match);
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(
            new Error(`${name}: no line matching ${pattern} within ${timeoutMs} ms. Output:\n${tail()}`),
          );
        }, timeoutMs);
        const onExit = (): void => {
          cleanup();
          reject(exitError(`printing ${pattern}`));
        };
        const cleanup = (): void => {
          clearTimeout(timer);
          listeners.delete(check);
          child.off('exit', onExit);
        };
        listeners.add(check);
        if (exit !== undefined) return onExit();
        child.once('exit', onExit);
        check();
      });
    },
    async waitUntil(probe, what, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (exit !== undefined) throw exitError(what);
        if (await probe().catch(() => false)) return;
        if (Date.now() > deadline) {
          throw new Error(`${name}: not ${what} within ${timeoutMs} ms. Output:\n${tail()}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    },
    waitForHttp(url, timeoutMs = 60_000) {
      return app.waitUntil(
        async () => (await fetch(url, { signal: AbortSignal.timeout(2_000) })).ok,
        `answering ${url}`,
        timeoutMs,
      );
    },
    async stop(stopOptions = {}) {
      const { signal = 'SIGTERM', timeoutMs = 30_000 } = stopOptions;
      if (exit !== undefined) return exit;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
  return app;
}
