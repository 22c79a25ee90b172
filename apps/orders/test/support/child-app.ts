import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { type OrdersTestResources } from './orders-test-app';

export interface ChildApp {
  readonly process: ChildProcess;
  readonly baseUrl: string;
  readonly output: () => string;
  /** Resolves with the exit code or signal. */
  readonly exited: Promise<number | NodeJS.Signals | null>;
}

const APP_ROOT = join(__dirname, '..', '..');

/** Starts the app in a child process (TypeScript sources through SWC) and waits until it listens. */
export async function startChildApp(
  resources: OrdersTestResources,
  env: Record<string, string> = {},
  startTimeoutMs = 60_000,
): Promise<ChildApp> {
  const child = spawn(
    process.execPath,
    [
      '--conditions=@notifications/source',
      '-r',
      '@swc-node/register',
      join(APP_ROOT, 'test', 'fixtures', 'orders-process.ts'),
      resources.consumerGroupId,
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        ...resources.env,
        ...env,
        KAFKAJS_NO_PARTITIONER_WARNING: '1',
        SWC_NODE_PROJECT: join(APP_ROOT, 'tsconfig.spec.json'),
      },
    },
  );
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | NodeJS.Signals | null>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal)),
  );
  const baseUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`child app did not start:\n${output}`)), startTimeoutMs);
    const check = (): void => {
      const match = /listening (\S+)/.exec(output);
      if (match?.[1] !== undefined) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout?.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`child app exited (${String(code)}) before listening:\n${output}`));
    });
  });
  return { process: child, baseUrl, output: () => output, exited };
}
