import { hash } from 'node:crypto';
import {
  findUuidSlot,
  hashUuidWords,
  placeUuidSlot,
  readUuidWords,
  sameUuidWords,
  writeUuidWords,
} from '../common/uuid-words';
import type { AcsError } from './acs-error';

/**
 * ACS Repeatable Requests for the Email Send API, as documented at
 * https://learn.microsoft.com/rest/api/communication/repeatable-requests (OASIS Repeatable Requests 1.0):
 *
 * - `Repeatability-Request-Id` (a GUID) and `Repeatability-First-Sent` (UTC, IMF-fixdate) together; either one
 *   malformed (or only one present) → 400.
 * - Requests are tracked for 5 minutes: a first-sent outside that window → 412 (Precondition Failed).
 * - A new request id within the window → executed normally.
 * - A repeat (same id) that does not match the original request → 400.
 * - A matching repeat → 409 while the original is still in progress; otherwise the original's status code when
 *   it was 2xx or 4xx; a re-execution when the original got a 5xx.
 *
 * "Matching" is the same Operation-Id, the same first-sent and the same body bytes (the document does not say
 * which parts ACS compares; these are the parts a client repeats verbatim, while x-ms-date and the signature
 * change with every attempt).
 */
export const REPEATABILITY_WINDOW_MS = 5 * 60_000;

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// IMF-fixdate (RFC 9110 section 5.6.7): `Sun, 06 Nov 1994 08:49:37 GMT`.
const IMF_FIXDATE =
  /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/;

/** A complete answer to a send, kept so that a matching repeat gets the same one. */
export interface RecordedReply {
  readonly status: number;
  readonly body: unknown;
  readonly headers: Readonly<Record<string, string>>;
}

export interface RepeatabilityHeaders {
  readonly requestId: string;
  readonly firstSentMs: number;
  /** Identifies the request's content: a repeat must carry the same. */
  readonly fingerprint: string;
}

/** What to do with a send, as far as repeatability goes. */
export type RepeatabilityDecision =
  /** No repeatability headers: an ordinary, non-repeatable request. */
  | { readonly kind: 'notRepeatable' }
  /** Refuse with this error (400, 412, 409). */
  | {
      readonly kind: 'refuse';
      readonly error: AcsError;
      readonly outcome: 'badRequest' | 'repeatInProgress' | 'repeatOutsideWindow';
    }
  /** A matching repeat of a finished request: answer what the original got. */
  | { readonly kind: 'replay'; readonly reply: RecordedReply }
  /** Execute the request, then `complete` (or `abandon`) the tracked entry. */
  | { readonly kind: 'execute'; readonly tracked: TrackedRequest };

/** The handle of one executing request. */
export interface TrackedRequest {
  /** Records the answer the request got (a 5xx is recorded too: a repeat then executes again). */
  complete(reply: RecordedReply): void;
  /** The request ended without an answer (connection dropped before anything was decided). */
  abandon(): void;
}

/** Where an entry's request stands. */
const IN_PROGRESS = 1;
/** The connection was dropped before any answer: a repeat executes again. */
const NO_ANSWER = 2;
const ANSWERED = 3;

const INITIAL_SLOTS = 1024;
/** Replies are stored as interned templates; past this many distinct ones each keeps its own text. */
const MAX_TEMPLATES = 4096;
/**
 * Stands for the reply's operation id in a template. JSON.stringify escapes every control character, so the raw
 * character never occurs in a serialised reply.
 */
const ID_PLACEHOLDER = '\u0000';

/** Scratch words for the request id being looked up and for the fingerprint being compared. */
const keyScratch = new Uint32Array(4);
const fingerprintScratch = new Uint32Array(4);

/**
 * Request ids seen within the last 5 minutes and what each got. Entries are kept in arrival order, which is
 * first-sent order within the clock skew, so expired ones are dropped from the front; `capacity` bounds memory.
 *
 * Every send of email-sender is a repeatable request, so at a few thousand sends a second this holds hundreds of
 * thousands of entries. As a Map of strings and reply objects that took ~450 bytes an entry and was the largest
 * part of the emulator's heap; here an entry is a ring slot in typed arrays (~70 bytes, plus 8 of index): the
 * request id and the reply's operation id as 128-bit words, 128 bits of the content's SHA-256 (a random match
 * is as likely as a SHA-256 collision for all practical purposes), and the reply as an interned template
 * (the JSON of the answer with its operation id cut out — every 202 to the same host shares one).
 */
export class RepeatableRequests {
  /** Ring slots allocated (a power of two, grown by doubling up to the first one ≥ capacity). */
  private slots = 0;
  /** Sequence numbers of the oldest live entry and of the next one: live entries are `head … tail - 1`. */
  private head = 0;
  private tail = 0;
  private requestIds = new Uint32Array(0);
  private firstSentMs = new Float64Array(0);
  private fingerprints = new Uint32Array(0);
  private states = new Uint8Array(0);
  private replyStatuses = new Uint16Array(0);
  /** 1 + index into `templates`, or 0 when the reply's own text is in `ownReplies`. */
  private replyTemplates = new Uint32Array(0);
  private replyIds = new Uint32Array(0);
  /** Whether the reply's template has an operation id to put back (`replyIds`). */
  private replyHasId = new Uint8Array(0);
  /** Open addressing by request id, linear probing: slot + 1, 0 = empty. At most half full. */
  private index = new Int32Array(0);
  private templates: string[] = [];
  private readonly templateIndex = new Map<string, number>();
  /** Replies past MAX_TEMPLATES, by sequence number (only a client varying its replies without end gets here). */
  private readonly ownReplies = new Map<number, string>();
  /** Bumped by clear(), so that requests tracked before it record nothing afterwards. */
  private generation = 0;

  constructor(
    private readonly capacity: number,
    private readonly windowMs: number = REPEATABILITY_WINDOW_MS,
  ) {
    this.allocate(Math.min(INITIAL_SLOTS, ceilingPowerOfTwo(capacity)));
  }

  /** Reads and checks the headers; decides whether to refuse, replay or execute. */
  decide(
    headers: { requestId: string | undefined; firstSent: string | undefined },
    content: { operationId: string | undefined; contentSha256: string },
    now: number,
  ): RepeatabilityDecision {
    const { requestId, firstSent } = headers;
    if (requestId === undefined && firstSent === undefined) return { kind: 'notRepeatable' };
    if (requestId === undefined || !GUID.test(requestId))
      return badRequest('The Repeatability-Request-Id header must be a GUID.');
    const firstSentMs = firstSent !== undefined && IMF_FIXDATE.test(firstSent) ? Date.parse(firstSent) : NaN;
    if (Number.isNaN(firstSentMs))
      return badRequest('The Repeatability-First-Sent header must be a UTC date in IMF-fixdate format.');
    if (Math.abs(now - firstSentMs) > this.windowMs) {
      return {
        kind: 'refuse',
        outcome: 'repeatOutsideWindow',
        error: {
          status: 412,
          code: 'PreconditionFailed',
          message: 'Repeatability-First-Sent header is not within the 5 minutes window.',
        },
      };
    }
    this.expire(now);
    writeUuidWords(requestId.toLowerCase(), keyScratch);
    writeFingerprint(content.operationId, firstSentMs, content.contentSha256);
    const slot = this.find();
    if (slot >= 0) {
      if (!this.sameFingerprint(slot)) {
        return badRequest(
          'The request does not match the earlier request with the same Repeatability-Request-Id.',
        );
      }
      const state = this.states[slot];
      if (state === IN_PROGRESS) {
        return {
          kind: 'refuse',
          outcome: 'repeatInProgress',
          error: {
            status: 409,
            code: 'Conflict',
            message: 'The original request with this Repeatability-Request-Id is still in progress.',
          },
        };
      }
      if (state === ANSWERED && (this.replyStatuses[slot] ?? 500) < 500) {
        return { kind: 'replay', reply: this.replyAt(slot) };
      }
      // The original got a 5xx (or nothing): executed again, and the entry tracks the new execution.
      this.states[slot] = IN_PROGRESS;
      return { kind: 'execute', tracked: this.track(slot) };
    }
    if (this.tail - this.head >= this.capacity) this.removeOldest();
    if (this.tail - this.head >= this.slots) this.allocate(this.slots * 2);
    const sequence = this.tail;
    this.tail += 1;
    const added = sequence & (this.slots - 1);
    this.requestIds.set(keyScratch, added * 4);
    this.fingerprints.set(fingerprintScratch, added * 4);
    this.firstSentMs[added] = firstSentMs;
    this.states[added] = IN_PROGRESS;
    this.place(added);
    return { kind: 'execute', tracked: this.track(added) };
  }

  get size(): number {
    return this.tail - this.head;
  }

  clear(): void {
    this.generation += 1;
    this.head = 0;
    this.tail = 0;
    this.templates = [];
    this.templateIndex.clear();
    this.ownReplies.clear();
    this.allocate(Math.min(INITIAL_SLOTS, ceilingPowerOfTwo(this.capacity)));
  }

  private track(slot: number): TrackedRequest {
    const sequence = this.sequenceOf(slot);
    const generation = this.generation;
    // The ring may grow (moving the entry to another slot) while the request executes, and the entry may expire,
    // be evicted or be cleared away: the answer goes to the entry's current slot, if it is still there.
    const liveSlot = (): number | undefined => {
      if (generation !== this.generation || sequence < this.head || sequence >= this.tail) return undefined;
      return sequence & (this.slots - 1);
    };
    return {
      complete: (reply) => {
        const current = liveSlot();
        if (current !== undefined) this.record(current, sequence, reply);
      },
      abandon: () => {
        const current = liveSlot();
        if (current !== undefined) this.states[current] = NO_ANSWER;
      },
    };
  }

  private record(slot: number, sequence: number, reply: RecordedReply): void {
    const id = operationIdOf(reply);
    const hasId = id !== undefined && writeUuidWords(id, this.replyIds, slot * 4);
    let text = JSON.stringify(reply);
    if (hasId) text = text.replaceAll(id, ID_PLACEHOLDER);
    let template = this.templateIndex.get(text);
    if (template === undefined && this.templates.length < MAX_TEMPLATES) {
      template = this.templates.length;
      this.templates.push(text);
      this.templateIndex.set(text, template);
    }
    if (template === undefined) this.ownReplies.set(sequence, text);
    this.replyTemplates[slot] = template === undefined ? 0 : template + 1;
    this.replyHasId[slot] = hasId ? 1 : 0;
    this.replyStatuses[slot] = reply.status;
    this.states[slot] = ANSWERED;
  }

  private replyAt(slot: number): RecordedReply {
    const template = this.replyTemplates[slot] ?? 0;
    const text =
      template === 0
        ? (this.ownReplies.get(this.sequenceOf(slot)) ?? '')
        : (this.templates[template - 1] ?? '');
    const json = this.replyHasId[slot]
      ? text.replaceAll(ID_PLACEHOLDER, readUuidWords(this.replyIds, slot * 4))
      : text;
    return JSON.parse(json) as RecordedReply;
  }

  /** The sequence number of the live entry in `slot`. */
  private sequenceOf(slot: number): number {
    const mask = this.slots - 1;
    return this.head + ((slot - (this.head & mask)) & mask);
  }

  private expire(now: number): void {
    const mask = this.slots - 1;
    while (this.head < this.tail && now - (this.firstSentMs[this.head & mask] ?? 0) > this.windowMs)
      this.removeOldest();
  }

  private removeOldest(): void {
    const slot = this.head & (this.slots - 1);
    this.unplace(slot);
    if (this.replyTemplates[slot] === 0) this.ownReplies.delete(this.head);
    this.head += 1;
  }

  private sameFingerprint(slot: number): boolean {
    return sameUuidWords(this.fingerprints, slot * 4, fingerprintScratch);
  }

  /** The slot of the request id in `keyScratch`, or -1. */
  private find(): number {
    return findUuidSlot(this.index, this.requestIds, keyScratch);
  }

  private place(slot: number): void {
    placeUuidSlot(this.index, this.requestIds, slot);
  }

  /** Removes the slot from the index, shifting later entries of its probe run back (no tombstones to pile up). */
  private unplace(slot: number): void {
    const mask = this.index.length - 1;
    let hole = hashUuidWords(this.requestIds, slot * 4) & mask;
    while ((this.index[hole] ?? 0) !== slot + 1) hole = (hole + 1) & mask;
    for (let bucket = (hole + 1) & mask; ; bucket = (bucket + 1) & mask) {
      const stored = this.index[bucket] ?? 0;
      if (stored === 0) break;
      const home = hashUuidWords(this.requestIds, (stored - 1) * 4) & mask;
      // Moves back only entries whose home is not between the hole and here (cyclically).
      if (((bucket - home) & mask) >= ((bucket - hole) & mask)) {
        this.index[hole] = stored;
        hole = bucket;
      }
    }
    this.index[hole] = 0;
  }

  /** (Re)allocates `slots` ring slots, moving the live entries to their slots in the new ring. */
  private allocate(slots: number): void {
    const old = {
      mask: this.slots - 1,
      requestIds: this.requestIds,
      firstSentMs: this.firstSentMs,
      fingerprints: this.fingerprints,
      states: this.states,
      replyStatuses: this.replyStatuses,
      replyTemplates: this.replyTemplates,
      replyIds: this.replyIds,
      replyHasId: this.replyHasId,
    };
    this.slots = slots;
    this.requestIds = new Uint32Array(slots * 4);
    this.firstSentMs = new Float64Array(slots);
    this.fingerprints = new Uint32Array(slots * 4);
    this.states = new Uint8Array(slots);
    this.replyStatuses = new Uint16Array(slots);
    this.replyTemplates = new Uint32Array(slots);
    this.replyIds = new Uint32Array(slots * 4);
    this.replyHasId = new Uint8Array(slots);
    this.index = new Int32Array(slots * 2);
    const mask = slots - 1;
    for (let sequence = this.head; sequence < this.tail; sequence += 1) {
      const from = sequence & old.mask;
      const to = sequence & mask;
      this.requestIds.set(old.requestIds.subarray(from * 4, from * 4 + 4), to * 4);
      this.fingerprints.set(old.fingerprints.subarray(from * 4, from * 4 + 4), to * 4);
      this.replyIds.set(old.replyIds.subarray(from * 4, from * 4 + 4), to * 4);
      this.firstSentMs[to] = old.firstSentMs[from] ?? 0;
      this.states[to] = old.states[from] ?? 0;
      this.replyStatuses[to] = old.replyStatuses[from] ?? 0;
      this.replyTemplates[to] = old.replyTemplates[from] ?? 0;
      this.replyHasId[to] = old.replyHasId[from] ?? 0;
      this.place(to);
    }
  }
}

function badRequest(message: string): RepeatabilityDecision {
  return { kind: 'refuse', outcome: 'badRequest', error: { status: 400, code: 'BadRequest', message } };
}

/**
 * Writes 128 bits of the SHA-256 of what a repeat must carry unchanged into `fingerprintScratch`. The body enters
 * through its SHA-256, which the signature check has computed already (hashing the body again cost as much).
 */
function writeFingerprint(operationId: string | undefined, firstSentMs: number, contentSha256: string): void {
  const digest = hash('sha256', `${operationId ?? ''}\n${firstSentMs}\n${contentSha256}`, 'buffer');
  for (let word = 0; word < 4; word += 1) fingerprintScratch[word] = digest.readUInt32BE(word * 4);
}

/** The operation id a reply carries (an accepted send's `EmailSendResult`), if any. */
function operationIdOf(reply: RecordedReply): string | undefined {
  const { body } = reply;
  if (typeof body !== 'object' || body === null || !('id' in body)) return undefined;
  return typeof body.id === 'string' ? body.id : undefined;
}

function ceilingPowerOfTwo(value: number): number {
  return 2 ** Math.ceil(Math.log2(Math.max(1, value)));
}
