import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type AppProcess, startAppProcess } from '@notifications/testing';

export const WORKSPACE_ROOT = join(__dirname, '..', '..', '..', '..');
const EMULATOR_MAIN = join(WORKSPACE_ROOT, 'apps', 'acs-emulator', 'dist', 'main.js');
// The emulator's documented start-up line (apps/acs-emulator README, "Starting it from another app's tests").
const LISTENING = /ACS emulator listening on (http:\/\/\S+)/;
// The emulator's documented development access key (public on purpose).
export const EMULATOR_ACCESS_KEY = 'YWNzLWVtdWxhdG9yLWRldmVsb3BtZW50LWFjY2Vzcy1rZXktbm90LWEtc2VjcmV0';

export interface EmulatorRule {
  readonly id?: string;
  readonly match: string;
  readonly times?: number;
  readonly forMs?: number;
  readonly behaviour: Record<string, unknown> & { readonly type: string };
}

export interface StoredMessage {
  readonly seq: number;
  readonly operationId: string;
  readonly receivedAt: string;
  readonly senderAddress: string;
  readonly recipients: { readonly to: readonly { address: string }[] };
  readonly subject: string;
  readonly plainText?: string;
  readonly html?: string;
}

export interface OperationView {
  readonly id: string;
  readonly status?: string;
  readonly error?: { code: string; message: string };
  readonly posts: number;
  readonly messagesRecorded: number;
}

export interface EmulatorStats {
  readonly messages: number;
  readonly duplicateSends: number;
  readonly notificationsSentMoreThanOnce: number;
  readonly requests: {
    readonly send: Readonly<Record<string, number>>;
    readonly poll: Readonly<Record<string, number>>;
  };
}

/** The ACS emulator as a child process (`node apps/acs-emulator/dist/main.js`), with its admin API. */
export class EmulatorProcess {
  private constructor(
    private readonly child: AppProcess,
    readonly url: string,
  ) {}

  static async start(env: Record<string, string> = {}): Promise<EmulatorProcess> {
    if (!existsSync(EMULATOR_MAIN)) {
      throw new Error(`${EMULATOR_MAIN} is missing: build it first (scripts/run nx build acs-emulator)`);
    }
    const child = startAppProcess({
      args: [EMULATOR_MAIN],
      env: { PORT: '0', HOST: '127.0.0.1', NO_COLOR: '1', ...env },
      name: 'ACS emulator',
    });
    const url = await child.waitForLine(LISTENING, 20_000);
    return new EmulatorProcess(child, url.replace(/\/$/, ''));
  }

  /** A connection string for this emulator; pass another key to be refused (401). */
  connectionString(accessKey = EMULATOR_ACCESS_KEY): string {
    return `endpoint=${this.url}/;accesskey=${accessKey}`;
  }

  get logs(): string {
    return this.child.output();
  }

  async addRules(rules: EmulatorRule | readonly EmulatorRule[]): Promise<void> {
    await this.admin('POST', '/admin/rules', rules);
  }

  async setRateLimit(perMinute: number | null): Promise<void> {
    await this.admin('PUT', '/admin/rate-limit', { perMinute });
  }

  stats(): Promise<EmulatorStats> {
    return this.admin('GET', '/admin/stats');
  }

  async messagesTo(recipient: string): Promise<StoredMessage[]> {
    const page = await this.admin<{ messages: StoredMessage[] }>(
      'GET',
      `/admin/messages?recipient=${encodeURIComponent(recipient)}`,
    );
    return page.messages;
  }

  async messagesWithOperationId(operationId: string): Promise<StoredMessage[]> {
    const page = await this.admin<{ messages: StoredMessage[] }>(
      'GET',
      `/admin/messages?operationId=${encodeURIComponent(operationId)}`,
    );
    return page.messages;
  }

  /** The emulator's view of an operation id, or undefined when it never saw it. */
  async operation(id: string): Promise<OperationView | undefined> {
    const response = await fetch(`${this.url}/admin/operations/${encodeURIComponent(id)}`);
    if (response.status === 404) return undefined;
    if (!response.ok) throw new Error(`GET /admin/operations/${id} → ${response.status}`);
    return (await response.json()) as OperationView;
  }

  async stop(): Promise<void> {
    await this.child.stop({ timeoutMs: 5_000 });
  }

  private async admin<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${this.url}${path}`, {
      method,
      ...(body === undefined
        ? {}
        : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${path} → ${response.status}: ${text}`);
    return (text === '' ? undefined : JSON.parse(text)) as T;
  }
}
