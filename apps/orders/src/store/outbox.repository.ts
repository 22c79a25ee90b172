import { Injectable } from '@nestjs/common';
import { chunks } from '../domain/chunks';
import { execute, preferOrderedIndexScan, queryRows } from './sql';
import { type Tx } from './unit-of-work';
import { captureTraceContext } from './trace-context';

/** A message to publish once the surrounding transaction commits. */
export interface OutboxDraft {
  readonly topic: string;
  readonly key: string | undefined;
  /** The serialised wire form, already checked against the topic's contract. */
  readonly payload: string;
  /**
   * Trace context to publish with (see trace-context.ts), e.g. the order's when its claim is relayed; default:
   * the context active when the draft is written.
   */
  readonly traceContext?: string | null;
  /** Extra Kafka headers of this message (e.g. `x-order-id` on `email.queue`), kept beside the payload. */
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * Room for the headers the relay adds to a row's payload (`x-outbox-id`, `x-order-id`, `traceparent`, `tracestate` ≤ 512 chars):
 * writers check `payload + this` against the producer's record limit.
 */
export const OUTBOX_HEADER_ALLOWANCE_BYTES = 1_024;

export interface ClaimedOutboxMessage {
  readonly id: string;
  readonly topic: string;
  readonly key: string | undefined;
  readonly payload: string;
  /** Publish attempts so far, this one included. */
  readonly attempts: number;
  /** The stored trace context (JSON of `traceparent`/`tracestate`), if any. */
  readonly traceContext?: string;
  /** The stored extra headers, if any. */
  readonly headers?: Readonly<Record<string, string>>;
}

export interface OutboxBacklog {
  readonly unpublished: number;
  readonly oldestCreatedAt?: Date;
}

/** The unpublished rows of one topic (operators' view). */
export interface OutboxTopicBacklog {
  readonly topic: string;
  readonly unpublished: number;
  /** Claimable now. */
  readonly available: number;
  /** Waiting after a failed publish (back-off), or parked for good. */
  readonly waiting: number;
  /** Of those, rows whose last publish failed. */
  readonly failing: number;
  readonly oldestCreatedAt: Date;
}

const ms = (parameter: number): string => `($${parameter}::float8 * interval '1 millisecond')`;

// Rows per INSERT statement; bounded by bytes too, since personalised bodies may be large.
const INSERT_CHUNK_ROWS = 2_000;
const INSERT_CHUNK_BYTES = 8 * 1024 * 1024;

/** Every query on `outbox`. */
@Injectable()
export class OutboxRepository {
  /** Writes messages in the caller's transaction: they are published if and only if it commits. */
  async add(tx: Tx, drafts: readonly OutboxDraft[]): Promise<void> {
    const active = captureTraceContext();
    for (const rowChunk of chunks(drafts, INSERT_CHUNK_ROWS)) {
      for (const chunk of byBytes(rowChunk, INSERT_CHUNK_BYTES)) {
        await tx.manager.query(
          `INSERT INTO outbox (topic, message_key, payload, trace_context, headers)
           SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])`,
          [
            chunk.map((d) => d.topic),
            chunk.map((d) => d.key ?? null),
            chunk.map((d) => d.payload),
            chunk.map((d) => d.traceContext ?? active),
            chunk.map((d) => (d.headers === undefined ? null : JSON.stringify(d.headers))),
          ],
        );
      }
    }
  }

  /**
   * Locks claimable rows for the rest of the caller's transaction, which publishes them and then deletes or marks
   * them before it commits (see OutboxRelay): up to `limit` rows and, past the first, no more than `maxBytes` of
   * payload (octet_length reads the stored size without de-toasting), so a cycle's memory is bounded whatever the
   * messages weigh. Rows another relay holds are skipped; nothing is written, so a relay that dies leaves its rows
   * claimable the moment its transaction ends. Rows locked here but beyond the byte bound stay unchanged.
   */
  async claim(tx: Tx, limit: number, maxBytes: number): Promise<ClaimedOutboxMessage[]> {
    await preferOrderedIndexScan(tx);
    const rows = await queryRows<{
      id: string;
      topic: string;
      message_key: string | null;
      payload: string;
      attempts: number;
      trace_context: string | null;
      headers: string | null;
    }>(
      tx.manager,
      `WITH due AS (
         SELECT id, available_at, octet_length(payload) AS bytes FROM outbox
          WHERE published_at IS NULL AND available_at <= now()
          ORDER BY available_at, id
          LIMIT $1
          FOR UPDATE SKIP LOCKED
       ), within AS (
         SELECT id FROM (
           SELECT id, sum(bytes) OVER (ORDER BY available_at, id) - bytes AS bytes_before FROM due
         ) sized WHERE bytes_before < $2
       )
       SELECT o.id, o.topic, o.message_key, o.payload, o.attempts, o.trace_context, o.headers
         FROM outbox o JOIN within ON o.id = within.id`,
      [limit, maxBytes],
    );
    return rows
      .map((row) => ({
        id: row.id,
        topic: row.topic,
        key: row.message_key ?? undefined,
        payload: row.payload,
        attempts: row.attempts + 1,
        ...(row.trace_context === null ? {} : { traceContext: row.trace_context }),
        ...(row.headers === null ? {} : { headers: JSON.parse(row.headers) as Record<string, string> }),
      }))
      .sort((a, b) => Number(BigInt(a.id) - BigInt(b.id)));
  }

  /**
   * Ends the caller's transaction's hold on its claimed rows if it stays idle longer than `ms` (e.g. a frozen relay
   * process whose connection PostgreSQL still sees open): PostgreSQL then closes the session, the transaction rolls
   * back and the rows are claimable again (`idle_in_transaction_session_timeout`, local to this transaction).
   */
  async holdAtMost(tx: Tx, ms: number): Promise<void> {
    await tx.manager.query("SELECT set_config('idle_in_transaction_session_timeout', $1, true)", [
      String(Math.max(1, Math.round(ms))),
    ]);
  }

  /**
   * The rows were published: deleted at once when nothing is kept (`retentionMs` 0), else marked with their
   * publish time and deleted by the sweeper after the retention. Run in the transaction that claimed them.
   */
  async markPublished(tx: Tx, ids: readonly string[], retentionMs: number): Promise<void> {
    if (ids.length === 0) return;
    if (retentionMs <= 0) {
      await tx.manager.query('DELETE FROM outbox WHERE id = ANY($1::bigint[])', [ids]);
      return;
    }
    await tx.manager.query(
      `UPDATE outbox SET published_at = now(), attempts = attempts + 1, last_error = NULL
        WHERE id = ANY($1::bigint[])`,
      [ids],
    );
  }

  /** The publish failed: claimable again after `retryAfterMs`. */
  async markFailed(tx: Tx, ids: readonly string[], error: string, retryAfterMs: number): Promise<void> {
    if (ids.length === 0) return;
    await tx.manager.query(
      `UPDATE outbox SET available_at = now() + ${ms(3)}, attempts = attempts + 1, last_error = $2
        WHERE id = ANY($1::bigint[]) AND published_at IS NULL`,
      [ids, error.slice(0, 2000), retryAfterMs],
    );
  }

  /**
   * The broker can never take this message (e.g. larger than any produce request): parked for good with the
   * reason, visible in the backlog as failing, never claimed again unless an operator re-drives it.
   */
  async markRefused(tx: Tx, ids: readonly string[], error: string): Promise<void> {
    if (ids.length === 0) return;
    await tx.manager.query(
      `UPDATE outbox SET available_at = 'infinity', attempts = attempts + 1, last_error = $2
        WHERE id = ANY($1::bigint[]) AND published_at IS NULL`,
      [ids, error.slice(0, 2000)],
    );
  }

  /** Deletes published rows older than the retention; returns how many. */
  async deletePublished(tx: Tx, retentionMs: number, limit: number): Promise<number> {
    return execute(
      tx.manager,
      `DELETE FROM outbox WHERE id IN (
         SELECT id FROM outbox WHERE published_at < now() - ${ms(1)} ORDER BY published_at LIMIT $2)`,
      [retentionMs, limit],
    );
  }

  async backlog(tx: Tx): Promise<OutboxBacklog> {
    const rows = await queryRows<{ unpublished: number; oldest: Date | null }>(
      tx.manager,
      'SELECT count(*)::int AS unpublished, min(created_at) AS oldest FROM outbox WHERE published_at IS NULL',
    );
    const row = rows[0];
    return {
      unpublished: row?.unpublished ?? 0,
      ...(row?.oldest ? { oldestCreatedAt: row.oldest } : {}),
    };
  }

  /** The backlog per topic: what is claimable, what waits (back-off or parked) and what failed. */
  async backlogByTopic(tx: Tx): Promise<OutboxTopicBacklog[]> {
    const rows = await queryRows<{
      topic: string;
      unpublished: number;
      available: number;
      failing: number;
      oldest: Date;
    }>(
      tx.manager,
      `SELECT topic, count(*)::int AS unpublished,
              count(*) FILTER (WHERE available_at <= now())::int AS available,
              count(*) FILTER (WHERE last_error IS NOT NULL)::int AS failing,
              min(created_at) AS oldest
         FROM outbox WHERE published_at IS NULL GROUP BY topic ORDER BY topic`,
    );
    return rows.map((row) => ({
      topic: row.topic,
      unpublished: row.unpublished,
      available: row.available,
      waiting: row.unpublished - row.available,
      failing: row.failing,
      oldestCreatedAt: row.oldest,
    }));
  }

  /**
   * Makes unpublished rows created more than `olderThanMs` ago claimable now, cutting short a back-off or un-parking
   * a refused row (an operator's re-drive of stuck rows). Returns how many rows changed.
   */
  async redrive(tx: Tx, olderThanMs: number): Promise<number> {
    return execute(
      tx.manager,
      `UPDATE outbox SET available_at = now()
        WHERE published_at IS NULL AND available_at > now() AND created_at <= now() - ${ms(1)}`,
      [olderThanMs],
    );
  }
}

function byBytes(drafts: readonly OutboxDraft[], maxBytes: number): OutboxDraft[][] {
  const result: OutboxDraft[][] = [];
  let current: OutboxDraft[] = [];
  let bytes = 0;
  for (const draft of drafts) {
    const size = Buffer.byteLength(draft.payload, 'utf8');
    if (current.length > 0 && bytes + size > maxBytes) {
      result.push(current);
      current = [];
      bytes = 0;
    }
    current.push(draft);
    bytes += size;
  }
  if (current.length > 0) result.push(current);
  return result;
}
