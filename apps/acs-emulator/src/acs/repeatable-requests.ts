import { createHash } from 'node:crypto';
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

interface Entry {
  readonly firstSentMs: number;
  readonly fingerprint: string;
  /** undefined while in progress; `'noAnswer'` when the connection was dropped before any answer. */
  reply: RecordedReply | 'noAnswer' | undefined;
}

/** The handle of one executing request. */
export interface TrackedRequest {
  /** Records the answer the request got (a 5xx is recorded too: a repeat then executes again). */
  complete(reply: RecordedReply): void;
  /** The request ended without an answer (connection dropped before anything was decided). */
  abandon(): void;
}

/**
 * Request ids seen within the last 5 minutes and what each got. Entries are kept in insertion order, which is
 * first-sent order within the clock skew, so expired ones are dropped from the front; `capacity` bounds memory.
 */
export class RepeatableRequests {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly capacity: number,
    private readonly windowMs: number = REPEATABILITY_WINDOW_MS,
  ) {}

  /** Reads and checks the headers; decides whether to refuse, replay or execute. */
  decide(
    headers: { requestId: string | undefined; firstSent: string | undefined },
    content: { operationId: string | undefined; body: Buffer },
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
    const key = requestId.toLowerCase();
    const fingerprint = fingerprintOf(content.operationId, firstSentMs, content.body);
    const existing = this.entries.get(key);
    if (existing !== undefined) {
      if (existing.fingerprint !== fingerprint) {
        return badRequest(
          'The request does not match the earlier request with the same Repeatability-Request-Id.',
        );
      }
      if (existing.reply === undefined) {
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
      if (existing.reply !== 'noAnswer' && existing.reply.status < 500) {
        return { kind: 'replay', reply: existing.reply };
      }
      // The original got a 5xx (or nothing): executed again, and the entry tracks the new execution.
      existing.reply = undefined;
      return { kind: 'execute', tracked: this.track(existing) };
    }
    const entry: Entry = { firstSentMs, fingerprint, reply: undefined };
    this.entries.set(key, entry);
    this.evictOverflow();
    return { kind: 'execute', tracked: this.track(entry) };
  }

  get size(): number {
    return this.entries.size;
  }

  clear(): void {
    this.entries.clear();
  }

  private track(entry: Entry): TrackedRequest {
    return {
      complete: (reply) => {
        entry.reply = reply;
      },
      abandon: () => {
        entry.reply = 'noAnswer';
      },
    };
  }

  private expire(now: number): void {
    for (const [key, entry] of this.entries) {
      if (now - entry.firstSentMs <= this.windowMs) return;
      this.entries.delete(key);
    }
  }

  private evictOverflow(): void {
    while (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next();
      if (oldest.done) return;
      this.entries.delete(oldest.value);
    }
  }
}

function badRequest(message: string): RepeatabilityDecision {
  return { kind: 'refuse', outcome: 'badRequest', error: { status: 400, code: 'BadRequest', message } };
}

function fingerprintOf(operationId: string | undefined, firstSentMs: number, body: Buffer): string {
  return createHash('sha256')
    .update(`${operationId ?? ''}\n${firstSentMs}\n`)
    .update(body)
    .digest('base64');
}
