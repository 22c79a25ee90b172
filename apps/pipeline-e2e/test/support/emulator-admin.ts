/** What the emulator recorded for one accepted send (the fields the pipeline tests read). */
export interface RecordedMessage {
  readonly seq: number;
  readonly operationId: string;
  readonly recipients: { readonly to: readonly { readonly address: string }[] };
  readonly subject: string;
}

export interface EmulatorStats {
  readonly messages: number;
  readonly operations: number;
  readonly duplicateSends: number;
  readonly notificationsSentMoreThanOnce: number;
  readonly sameContentMoreThanOnce: number;
  readonly requests: { readonly send: Record<string, number> };
}

export interface EmulatorRule {
  readonly id?: string;
  readonly match: string;
  readonly times?: number;
  readonly forMs?: number;
  readonly behaviour: string | Record<string, unknown>;
}

/** The ACS emulator's admin API (apps/acs-emulator README: scripting and inspection). */
export class EmulatorAdmin {
  constructor(readonly baseUrl: string) {}

  async stats(): Promise<EmulatorStats> {
    return this.json<EmulatorStats>('GET', '/admin/stats');
  }

  /** Every stored message, paged by sequence number. */
  async messages(): Promise<RecordedMessage[]> {
    const all: RecordedMessage[] = [];
    let after: number | undefined;
    for (;;) {
      const query = `limit=10000${after === undefined ? '' : `&after=${after}`}`;
      const page = await this.json<{ messages: RecordedMessage[]; nextAfter?: number }>(
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

  /** Operation ids POSTed more than once, and how many messages each recorded (the emulator's first 10 000). */
  async duplicates(): Promise<{ id: string; posts: number; messagesRecorded: number }[]> {
    const body = await this.json<{
      duplicateSends: { id: string; posts: number; messagesRecorded: number }[];
    }>('GET', '/admin/duplicates');
    return body.duplicateSends;
  }

  async addRules(rules: readonly EmulatorRule[]): Promise<void> {
    await this.json('POST', '/admin/rules', rules);
  }

  async clearRules(): Promise<void> {
    await this.json('DELETE', '/admin/rules');
  }

  async setRateLimit(perMinute: number | null): Promise<void> {
    await this.json('PUT', '/admin/rate-limit', { perMinute });
  }

  async updateSettings(settings: Record<string, unknown>): Promise<void> {
    await this.json('PUT', '/admin/settings', settings);
  }

  private async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      ...(body === undefined
        ? {}
        : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`emulator ${method} ${path} → ${response.status}: ${text}`);
    return (text === '' ? undefined : JSON.parse(text)) as T;
  }
}
