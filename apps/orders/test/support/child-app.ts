import { type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { startAppProcess, TYPESCRIPT_SOURCE_NODE_ARGS } from '@notifications/testing';
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
  const app = startAppProcess({
    nodeArgs: TYPESCRIPT_SOURCE_NODE_ARGS,
    args: [join(APP_ROOT, 'test', 'fixtures', 'orders-process.ts'), resources.consumerGroupId],
    env: {
      ...resources.env,
      ...env,
      KAFKAJS_NO_PARTITIONER_WARNING: '1',
      SWC_NODE_PROJECT: join(APP_ROOT, 'tsconfig.spec.json'),
    },
    name: 'orders child app',
  });
  const exited = app.exited.then(({ code, signal }) => code ?? signal);
  const baseUrl = await app.waitForLine(/listening (\S+)/, startTimeoutMs);
  return { process: app.process, baseUrl, output: () => app.output(), exited };
}
