/** The fields of an emulator message the benchmark uses. */
export interface FedMessage {
  readonly seq: number;
  readonly operationId: string;
  /** The first `to` address (the benchmark sends one recipient per email). */
  readonly address: string;
  readonly receivedAtMs: number;
}

interface MessagesPage {
  readonly messages: {
    seq: number;
    operationId: string;
    receivedAt: string;
    recipients: { to: { address: string }[] };
  }[];
  readonly nextAfter?: number;
}

const PAGE_SIZE = 5_000;

/**
 * Reads the emulator's recorded messages as they arrive, page by page from a sequence cursor
 * (`GET /admin/messages?after=`), and hands each to the caller, who keeps only what it needs. The emulator keeps
 * a bounded window of messages, so the benchmark reads during the run instead of all of them at the end; sequence
 * numbers are consecutive, so a message evicted before it was read shows as a gap, counted in `missed`.
 */
export class EmulatorFeed {
  private after: number;
  private polling: Promise<void> = Promise.resolve();
  /** Messages that left the emulator's window before this feed read them. */
  missed = 0;

  /** `after`: the emulator's message count (= the last sequence number) when the feed starts. */
  constructor(
    private readonly baseUrl: string,
    after: number,
  ) {
    this.after = after;
  }

  /** Reads every message recorded since the last call (calls queue behind each other: one cursor, read once). */
  poll(onMessage: (message: FedMessage) => void): Promise<void> {
    const next = this.polling.then(() => this.readAll(onMessage));
    this.polling = next.catch(() => undefined);
    return next;
  }

  private async readAll(onMessage: (message: FedMessage) => void): Promise<void> {
    for (;;) {
      const url = `${this.baseUrl}/admin/messages?limit=${PAGE_SIZE}&after=${this.after}`;
      const response = await fetch(url);
      if (!response.ok) throw new Error(`GET /admin/messages → ${response.status}: ${await response.text()}`);
      const page = (await response.json()) as MessagesPage;
      for (const message of page.messages) {
        if (message.seq > this.after + 1) this.missed += message.seq - this.after - 1;
        this.after = message.seq;
        onMessage({
          seq: message.seq,
          operationId: message.operationId,
          address: message.recipients.to[0]?.address ?? '',
          receivedAtMs: Date.parse(message.receivedAt),
        });
      }
      if (page.nextAfter === undefined) return;
    }
  }
}
