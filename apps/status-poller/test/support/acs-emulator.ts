import { randomUUID } from 'node:crypto';
import { signAcsRequest } from '@notifications/acs';
import { startNode, type RunningChild } from './child-process';

/** The emulator's documented development access key (see apps/acs-emulator). */
export const EMULATOR_ACCESS_KEY = 'YWNzLWVtdWxhdG9yLWRldmVsb3BtZW50LWFjY2Vzcy1rZXktbm90LWEtc2VjcmV0';

export interface EmulatorRule {
  readonly id?: string;
  readonly match: string;
  readonly behaviour: Record<string, unknown> & { readonly type: string };
}

export interface EmulatorStats {
  readonly operations: number;
  readonly requests: { readonly poll: { readonly total: number; readonly '200': number } };
}

/**
 * The ACS emulator (`apps/acs-emulator`, built by Nx before these tests) as a child process on a free port, with
 * helpers for its data plane (signed sends with a chosen Operation-Id) and its admin API.
 */
export class AcsEmulator {
  private constructor(
    private readonly child: RunningChild,
    readonly url: string,
  ) {}

  static async start(env: Record<string, string> = {}): Promise<AcsEmulator> {
    const child = startNode('apps/acs-emulator/dist/main.js', {
      PORT: '0',
      HOST: '127.0.0.1',
      ACS_POLL_RETRY_AFTER_SECONDS: '1',
      ...env,
    });
    const url = await child.waitForLine(/ACS emulator listening on (http:\/\/\S+)/);
    const emulator = new AcsEmulator(child, url);
    child.process.once('exit', (code, signal) => {
      if (!emulator.stopping) {
        console.error(
          `ACS emulator exited unexpectedly (${signal ?? code}); its last output:\n${child.output().slice(-4000)}`,
        );
      }
    });
    return emulator;
  }

  get pid(): number | undefined {
    return this.child.process.pid;
  }

  get connectionString(): string {
    return `endpoint=${this.url}/;accesskey=${EMULATOR_ACCESS_KEY}`;
  }

  output(): string {
    return this.child.output();
  }

  private stopping = false;

  async stop(): Promise<void> {
    this.stopping = true;
    await this.child.stop();
  }

  /** Appends scripted rules (matched by recipient address). */
  async addRules(rules: readonly EmulatorRule[]): Promise<void> {
    await this.admin('POST', '/admin/rules', rules);
  }

  async stats(): Promise<EmulatorStats> {
    return (await this.admin('GET', '/admin/stats')) as EmulatorStats;
  }

  /** `POST /emails:send` signed like the SDK, with `Operation-Id` = the given id (the sender's notification id). */
  async send(operationId: string, to: string): Promise<void> {
    const url = new URL('/emails:send?api-version=2025-09-01', this.url);
    const body = JSON.stringify({
      senderAddress: 'noreply@notifications.test',
      content: { subject: 'Status poller test', plainText: 'Hello' },
      recipients: { to: [{ address: to }] },
    });
    const response = await fetch(url, {
      method: 'POST',
      headers: {
        ...signAcsRequest(EMULATOR_ACCESS_KEY, 'POST', url, body),
        'content-type': 'application/json',
        'operation-id': operationId,
        'x-ms-client-request-id': randomUUID(),
      },
      body,
    });
    if (response.status !== 202) {
      throw new Error(
        `emulator refused the send of ${operationId}: ${response.status} ${await response.text()}`,
      );
    }
    await response.arrayBuffer();
  }

  /** Sends many, a bounded number at a time. */
  async sendAll(operations: readonly { id: string; to: string }[], concurrency = 32): Promise<void> {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < operations.length) {
        const operation = operations[next++]!;
        await this.send(operation.id, operation.to);
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, operations.length) }, worker));
  }

  private async admin(method: string, path: string, body?: unknown): Promise<unknown> {
    const response = await fetch(new URL(path, this.url), {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`emulator ${method} ${path}: ${response.status} ${text}`);
    return text === '' ? undefined : (JSON.parse(text) as unknown);
  }
}
