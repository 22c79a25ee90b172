import { hash } from 'node:crypto';
import type { EmailAddress, EmailMessage } from '../acs/email-message.schema';

/** A message as the inspection API shows it. */
export interface StoredMessage {
  /** 1, 2, 3, … in order of receipt; the paging cursor. Restarts at 1 after a reset. */
  readonly seq: number;
  readonly operationId: string;
  /** ISO-8601 UTC; same format for every message, so strings compare in time order. */
  readonly receivedAt: string;
  readonly senderAddress: string;
  readonly recipients: {
    readonly to: readonly EmailAddress[];
    readonly cc?: readonly EmailAddress[];
    readonly bcc?: readonly EmailAddress[];
  };
  readonly subject: string;
  readonly plainText?: string;
  readonly html?: string;
  /** Set when `plainText` or `html` was cut to `ACS_STORED_BODY_CHARS`. */
  readonly bodyTruncated?: true;
  readonly replyTo?: readonly EmailAddress[];
  readonly headers?: Readonly<Record<string, string>>;
  readonly attachments?: readonly { name: string; contentType: string; base64Length: number }[];
  readonly clientRequestId?: string;
  readonly ruleId?: string;
}

export interface MessageQuery {
  /** Only messages with `seq` greater than this. */
  readonly after?: number;
  /** Only messages received at or after this instant (ISO-8601). */
  readonly since?: string;
  readonly operationId?: string;
  /** Only messages with this recipient (to, cc or bcc; case-insensitive). Scans: for tests, not benchmarks. */
  readonly recipient?: string;
  readonly limit: number;
}

export interface MessagePage {
  readonly messages: StoredMessage[];
  /** Pass as `after` to get the next page; absent when this page reached the newest message. */
  readonly nextAfter?: number;
  /** Messages currently stored (after eviction). */
  readonly stored: number;
}

/** The stored part of a message other than its seq, operation id and time: serialised once, parsed on demand. */
type StoredContent = Omit<StoredMessage, 'seq' | 'operationId' | 'receivedAt'>;

/**
 * One stored message: its content kept as one JSON string (a few hundred bytes for a typical email) instead of
 * the parsed object graph (several objects and strings per address), which took ~1.6 KB a message. The
 * inspection view is built only when asked for.
 */
class MessageRecord {
  constructor(
    readonly seq: number,
    readonly operationId: string,
    readonly receivedAtMs: number,
    readonly content: string,
  ) {}

  hasRecipient(lowerCaseAddress: string): boolean {
    // A cheap necessary condition first (JSON.stringify does not escape the characters an address may hold).
    if (!this.content.toLowerCase().includes(lowerCaseAddress)) return false;
    const { recipients } = JSON.parse(this.content) as StoredContent;
    return [recipients.to, recipients.cc ?? [], recipients.bcc ?? []].some((list) =>
      list.some((recipient) => recipient.address.toLowerCase() === lowerCaseAddress),
    );
  }

  /** `JSON.stringify(this.view())`, without the round trip: the view's own fields, then the stored content's. */
  json(): string {
    return `{"seq":${this.seq},"operationId":${JSON.stringify(this.operationId)},"receivedAt":"${new Date(this.receivedAtMs).toISOString()}",${this.content.slice(1)}`;
  }

  view(): StoredMessage {
    return {
      seq: this.seq,
      operationId: this.operationId,
      receivedAt: new Date(this.receivedAtMs).toISOString(),
      ...(JSON.parse(this.content) as StoredContent),
    };
  }
}

/**
 * Messages in order of receipt, bounded to `capacity` (the oldest are evicted). Appending is amortised O(1);
 * paging by `after`/`since` finds its start by index arithmetic or binary search, not by scanning.
 */
export class MessageRepository {
  /** Evicted entries (before `head`) are cleared to undefined. */
  private items: (MessageRecord | undefined)[] = [];
  private head = 0;
  private nextSeq = 1;
  /**
   * Fingerprint → times seen, in two generations of at most `capacity` each: when the newer one is full it becomes
   * the older one and the old older one is dropped. Dropping the oldest entry of one Map per message instead cost
   * 16 µs a message at 20 000 entries (`keys().next()` walks the holes deletions leave at the front of V8's
   * ordered hash table until it is rebuilt): a tenth of the emulator's CPU in the pipeline benchmark's profile.
   */
  private newerCounts = new Map<number, number>();
  private olderCounts = new Map<number, number>();
  private recorded = 0;
  private sameContent = 0;
  private evicted = 0;
  /** Characters of stored content in the window (what `maxChars` bounds). */
  private storedChars = 0;

  /**
   * `capacity`: the most messages kept; `maxChars`: the most characters of stored content (one byte each for the
   * Latin-1 text of a typical email, two for other text): the window shrinks for large bodies, so that its memory
   * stays bounded whatever clients send.
   */
  constructor(
    private readonly capacity: number,
    private readonly storedBodyChars: number,
    private readonly maxChars: number = Number.POSITIVE_INFINITY,
  ) {}

  /** Stores the message (bodies cut to `storedBodyChars`, attachments reduced to metadata); returns its seq. */
  append(
    message: EmailMessage,
    meta: { operationId: string; receivedAt: number; clientRequestId?: string; ruleId?: string },
  ): number {
    const record = this.toRecord(message, meta);
    this.items.push(record);
    this.storedChars += record.content.length;
    this.recorded += 1;
    this.countContent(message);
    // The newest message always stays, however large.
    while (
      this.items.length - this.head > this.capacity ||
      (this.storedChars > this.maxChars && this.items.length - this.head > 1)
    )
      this.evictOldest();
    return record.seq;
  }

  get size(): number {
    return this.items.length - this.head;
  }

  private evictOldest(): void {
    this.storedChars -= this.items[this.head]?.content.length ?? 0;
    // Released now, not at the next compaction: until then up to `capacity` evicted messages would stay
    // reachable from the array, doubling the window's memory.
    this.items[this.head] = undefined;
    this.head += 1;
    this.evicted += 1;
    // Compact now and then so that eviction stays amortised O(1) without unbounded growth.
    if (this.head >= 65_536 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }

  counts(): { messages: number; sameContentMoreThanOnce: number; evicted: number } {
    return { messages: this.recorded, sameContentMoreThanOnce: this.sameContent, evicted: this.evicted };
  }

  bySeq(seq: number): StoredMessage | undefined {
    const first = this.items[this.head];
    if (first === undefined || seq < first.seq) return undefined;
    return this.items[this.head + (seq - first.seq)]?.view();
  }

  query(query: MessageQuery): MessagePage {
    const { records, nextAfter } = this.select(query);
    return {
      messages: records.map((record) => record.view()),
      stored: this.size,
      ...(nextAfter === undefined ? {} : { nextAfter }),
    };
  }

  /**
   * `query` serialised: the same JSON as `JSON.stringify(query(…))`, spliced from the stored JSON of each message
   * instead of parsing it into a view and serialising that again. A benchmark reads every message through here
   * (pages of 5 000), and the round trip cost more CPU than recording the message did.
   */
  queryJson(query: MessageQuery): string {
    const { records, nextAfter } = this.select(query);
    const messages = records.map((record) => record.json());
    return `{"messages":[${messages.join(',')}],"stored":${this.size}${nextAfter === undefined ? '' : `,"nextAfter":${nextAfter}`}}`;
  }

  private select(query: MessageQuery): { records: MessageRecord[]; nextAfter: number | undefined } {
    const records: MessageRecord[] = [];
    const recipient = query.recipient?.toLowerCase();
    const sinceMs = query.since === undefined ? undefined : Date.parse(query.since);
    let index = Math.max(this.startIndex(query.after), this.sinceIndex(sinceMs));
    for (; index < this.items.length && records.length < query.limit; index += 1) {
      const record = this.items[index];
      if (record === undefined) break;
      if (query.operationId !== undefined && record.operationId !== query.operationId) continue;
      if (recipient !== undefined && !record.hasRecipient(recipient)) continue;
      records.push(record);
    }
    const last = this.items[index - 1];
    const more = index < this.items.length && last !== undefined;
    return { records, nextAfter: more ? last.seq : undefined };
  }

  clear(): void {
    this.items = [];
    this.head = 0;
    this.storedChars = 0;
    this.nextSeq = 1;
    this.newerCounts = new Map();
    this.olderCounts = new Map();
    this.recorded = 0;
    this.sameContent = 0;
    this.evicted = 0;
  }

  private startIndex(after: number | undefined): number {
    const first = this.items[this.head];
    if (after === undefined || first === undefined) return this.head;
    return this.head + Math.max(0, after + 1 - first.seq);
  }

  private sinceIndex(sinceMs: number | undefined): number {
    if (sinceMs === undefined) return this.head;
    let low = this.head;
    let high = this.items.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((this.items[middle]?.receivedAtMs ?? 0) < sinceMs) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  /**
   * A heuristic second line of defence against duplicates for sends without an `Operation-Id`: identical
   * sender, recipients, subject and body recorded again. Keyed by 48 bits of a SHA-1 (a number keeps the map
   * small; a collision among millions of messages is unlikely and would only over-count a heuristic).
   */
  private countContent(message: EmailMessage): void {
    const { plainText, html, subject } = message.content;
    // The bodies by length and then as they are: unambiguous, without JSON-escaping a kilobyte of HTML first.
    const fingerprint = hash(
      'sha1',
      `${JSON.stringify([message.senderAddress, message.recipients, subject, plainText?.length ?? -1, html?.length ?? -1])}${plainText ?? ''}${html ?? ''}`,
      'buffer',
    ).readUIntBE(0, 6);
    const count = (this.newerCounts.get(fingerprint) ?? this.olderCounts.get(fingerprint) ?? 0) + 1;
    this.newerCounts.set(fingerprint, count);
    if (count === 2) this.sameContent += 1;
    // Bounded like the messages themselves (between `capacity` and twice that many fingerprints remembered); an
    // approximate counter is fine for a heuristic.
    if (this.newerCounts.size >= this.capacity) {
      this.olderCounts = this.newerCounts;
      this.newerCounts = new Map();
    }
  }

  private toRecord(
    message: EmailMessage,
    meta: { operationId: string; receivedAt: number; clientRequestId?: string; ruleId?: string },
  ): MessageRecord {
    const { plainText, html, subject } = message.content;
    const { to, cc, bcc } = message.recipients;
    const { replyTo, headers, attachments } = message;
    const limit = this.storedBodyChars;
    const truncated = (plainText?.length ?? 0) > limit || (html?.length ?? 0) > limit;
    const content: StoredContent = {
      senderAddress: message.senderAddress,
      recipients: { to, ...(cc?.length ? { cc } : {}), ...(bcc?.length ? { bcc } : {}) },
      subject,
      ...(plainText === undefined ? {} : { plainText: cut(plainText, limit) }),
      ...(html === undefined ? {} : { html: cut(html, limit) }),
      ...(truncated ? { bodyTruncated: true as const } : {}),
      ...(replyTo?.length ? { replyTo } : {}),
      ...(headers && Object.keys(headers).length > 0 ? { headers } : {}),
      ...(attachments?.length
        ? {
            attachments: attachments.map((attachment) => ({
              name: attachment.name,
              contentType: attachment.contentType,
              base64Length: attachment.contentInBase64.length,
            })),
          }
        : {}),
      ...(meta.clientRequestId === undefined ? {} : { clientRequestId: meta.clientRequestId }),
      ...(meta.ruleId === undefined ? {} : { ruleId: meta.ruleId }),
    };
    return new MessageRecord(this.nextSeq++, meta.operationId, meta.receivedAt, JSON.stringify(content));
  }
}

/** The first `limit` characters (a JSON string of its own later, so no memory of the original is kept). */
function cut(text: string, limit: number): string {
  return text.length <= limit ? text : text.slice(0, limit);
}
