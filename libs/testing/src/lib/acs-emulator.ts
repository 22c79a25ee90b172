import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type AppProcess, startAppProcess, WORKSPACE_ROOT } from './app-process';

// The test client of apps/acs-emulator (its README: "Starting it from another app's tests", scripting and
// inspection): one for every suite, whether it starts the emulator itself or finds it in a running pipeline.

const EMULATOR_MAIN = join(WORKSPACE_ROOT, 'apps', 'acs-emulator', 'dist', 'main.js');
// The emulator's documented start-up line.
const LISTENING = /ACS emulator listening on (http:\/\/\S+)/;
// The emulator's documented development access key (public on purpose).
export const EMULATOR_ACCESS_KEY = 'YWNzLWVtdWxhdG9yLWRldmVsb3BtZW50LWFjY2Vzcy1rZXktbm90LWEtc2VjcmV0';

export interface EmulatorRule {
  readonly id?: string;
  /** A recipient address, a pattern, or `*`. */
  readonly match: string;
  readonly times?: number;
  readonly forMs?: number;
  readonly behaviour: string | (Record<string, unknown> & { readonly type: string });
}

/** What the emulator recorded for one accepted send. */
export interface StoredMessage {
  readonly seq: number;
  readonly operationId: string;
  readonly receivedAt: string;
  readonly senderAddress: string;
  readonly recipients: { readonly to: readonly { readonly address: string }[] };
  readonly subject: string;
  readonly plainText?: string;
  readonly html?: string;
}

/** The emulator's view of one operation id. */
export interface OperationView {
  readonly id: string;
  readonly status?: string;
  readonly error?: { code: string; message: string };
  readonly posts: number;
  readonly messagesRecorded: number;
}

export interface EmulatorStats {
  readonly messages: number;
  readonly operations: number;
  readonly duplicateSends: number;
  readonly notificationsSentMoreThanOnce: number;
  readonly sameContentMoreThanOnce: number;
  /** Requests by answer status (and `total`). */
  readonly requests: {
    readonly send: Readonly<Record<string, number>>;
    readonly poll: Readonly<Record<string, number>>;
  };
}

export interface DuplicateSend {
  readonly id: string;
  readonly posts: number;
  readonly messagesRecorded: number;
}

/** The emulator's admin API at `url` (scripted behaviour, rate limit, settings, what it recorded). */
export class AcsEmulatorClient {
  constructor(readonly url: string) {}

  /** A connection string for this emulator; pass another key to be refused (401). */
  connectionString(accessKey = EMULATOR_ACCESS_KEY): string {
    return `endpoint=${this.url}/;accesskey=${accessKey}`;
  }

  async addRules(rules: EmulatorRule | readonly EmulatorRule[]): Promise<void> {
    await this.admin('POST', '/admin/rules', rules);
  }

  async clearRules(): Promise<void> {
    await this.admin('DELETE', '/admin/rules');
  }

  async setRateLimit(perMinute: number | null): Promise<void> {
    await this.admin('PUT', '/admin/rate-limit', { perMinute });
  }

  async updateSettings(settings: Record<string, unknown>): Promise<void> {
    await this.admin('PUT', '/admin/settings', settings);
  }

  stats(): Promise<EmulatorStats> {
    return this.admin('GET', '/admin/stats');
  }

  /** Every stored message, paged by sequence number. */
  async messages(): Promise<StoredMessage[]> {
    const all: StoredMessage[] = [];
    let after: number | undefined;
    for (;;) {
      const query = `limit=10000${after === undefined ? '' : `&after=${after}`}`;
      const page = await this.admin<{ messages: StoredMessage[]; nextAfter?: number }>(
        'GET',
        `/admin/messages?${query}`,
      );
      all.push(...page.messages);
      if (page.nextAfter === undefined) return all;
      after = page.nextAfter;
    }
  }

  /** Messages recorded per operation id (= notification id): 1 for each email sent once. */
  async messagesPerOperation(): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    for (const message of await this.messages()) {
      counts.set(message.operationId, (counts.get(message.operationId) ?? 0) + 1);
    }
    return counts;
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

  /** Operation ids POSTed more than once, and how many messages each recorded (the emulator's first 10 000). */
  async duplicates(): Promise<DuplicateSend[]> {
    return (await this.admin<{ duplicateSends: DuplicateSend[] }>('GET', '/admin/duplicates')).duplicateSends;
  }

  /** The emulator's view of an operation id, or undefined when it never saw it. */
  async operation(id: string): Promise<OperationView | undefined> {
    const response = await fetch(`${this.url}/admin/operations/${encodeURIComponent(id)}`);
    if (response.status === 404) return undefined;
    if (!response.ok) throw new Error(`GET /admin/operations/${id} → ${response.status}`);
    return (await response.json()) as OperationView;
  }

  private async admin<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${this.url}${path}`, {
      method,
      ...(body === undefined
        ? {}
        : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`emulator ${method} ${path} → ${response.status}: ${text}`);
    return (text === '' ? undefined : JSON.parse(text)) as T;
  }
}

/** The built emulator (`node apps/acs-emulator/dist/main.js`) as a child process on a free port, with its client. */
export class AcsEmulatorProcess extends AcsEmulatorClient {
  private stopping = false;

  private constructor(
    private readonly child: AppProcess,
    url: string,
  ) {
    super(url);
  }

  static async start(env: Record<string, string> = {}): Promise<AcsEmulatorProcess> {
    if (!existsSync(EMULATOR_MAIN)) {
      throw new Error(`${EMULATOR_MAIN} is missing: build it first (scripts/run nx build acs-emulator)`);
    }
    const child = startAppProcess({
      args: [EMULATOR_MAIN],
      env: { PORT: '0', HOST: '127.0.0.1', NO_COLOR: '1', FORCE_COLOR: '0', ...env },
      name: 'ACS emulator',
    });
    const url = await child.waitForLine(LISTENING, 20_000);
    const emulator = new AcsEmulatorProcess(child, url.replace(/\/$/, ''));
    void child.exited.then(({ code, signal }) => {
      if (!emulator.stopping) {
        console.error(
          `ACS emulator exited unexpectedly (${signal ?? code}); its last output:\n${child.output().slice(-4000)}`,
        );
      }
    });
    return emulator;
  }

  get pid(): number {
    return this.child.pid;
  }

  /** What it wrote so far. */
  output(): string {
    return this.child.output();
  }

  /** SIGTERM, SIGKILL after 5 s. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.child.stop({ timeoutMs: 5_000 });
  }
}
