import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { runCli } from '../../src/cli/program';

export interface OpsRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

class Capture extends Writable {
  text = '';

  override _write(chunk: Buffer | string, _encoding: BufferEncoding, callback: () => void): void {
    this.text += chunk.toString();
    callback();
  }
}

/** Runs one command line in this process, as `main.ts` does, with the given settings. */
export async function runOps(
  argv: readonly string[],
  env: Record<string, string | undefined>,
): Promise<OpsRun> {
  const stdout = new Capture();
  const stderr = new Capture();
  const code = await runCli(argv, { io: { stdout, stderr }, env });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

/** Runs a command with `--json` and parses its output (failing with the output when it is not JSON). */
export async function runOpsJson<T>(
  argv: readonly string[],
  env: Record<string, string | undefined>,
  expectedCode = 0,
): Promise<T> {
  const run = await runOps([...argv, '--json'], env);
  if (run.code !== expectedCode) {
    throw new Error(
      `ops ${argv.join(' ')} exited ${run.code}, expected ${expectedCode}:\n${run.stdout}${run.stderr}`,
    );
  }
  return JSON.parse(run.stdout) as T;
}

const MAIN = join(__dirname, '..', '..', 'dist', 'main.js');

export interface RunningOps {
  /** What it has written to stdout so far. */
  stdout(): string;
  /** Sends the process a signal (SIGINT: the operator's Ctrl-C). */
  kill(signal: NodeJS.Signals): void;
  readonly done: Promise<OpsRun>;
}

/** Starts the built CLI (`node apps/ops/dist/main.js`, as shipped in the images) in a child process. */
export function startBuiltOps(argv: readonly string[], env: Record<string, string>): RunningOps {
  const child = spawn(process.execPath, [MAIN, ...argv], {
    env: { PATH: process.env['PATH'] ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const done = new Promise<OpsRun>((resolve, reject) => {
    child.once('error', reject);
    // 'close', not 'exit': the output pipes are read to their end.
    child.once('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
  return { stdout: () => stdout, kill: (signal) => child.kill(signal), done };
}

/** Runs the built CLI to its end. */
export function runBuiltOps(argv: readonly string[], env: Record<string, string>): Promise<OpsRun> {
  return startBuiltOps(argv, env).done;
}
