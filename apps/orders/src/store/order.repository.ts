import { Injectable } from '@nestjs/common';
import { type EmailContentType, type OrderProcessingStatus } from '@notifications/contracts';
import { queryRows, execute } from './sql';
import { PENDING_RESULTS } from '../domain/email-status.rules';
import { type Tx } from './unit-of-work';
import { captureTraceContext } from './trace-context';
import {
  type ClaimedOrder,
  type EmailOrder,
  type EmailTemplate,
  type NewEmailOrder,
  type OrderRecipient,
  type OrderToExpand,
  type RecipientLookupSummary,
} from '../domain/order.model';

interface OrderRow {
  id: string;
  creator: string;
  senders_reference: string | null;
  requested_send_time: Date;
  created: Date;
  ignore_reservation: boolean | null;
  resource_id: string | null;
  condition_endpoint: string | null;
  recipients: OrderRecipient[] | null;
  recipient_count: number;
  processing_status: OrderProcessingStatus;
  status_changed: Date;
  last_error: string | null;
  recipient_lookup: RecipientLookupSummary | null;
  from_address: string;
  subject: string;
  body: string;
  content_type: EmailContentType;
  trace_context: string | null;
  halted_at: Date | null;
}

/** One row of an operator's order search: what a result list shows, without the email text or recipients. */
export interface OrderSummary {
  readonly id: string;
  readonly creator: string;
  readonly sendersReference?: string;
  readonly requestedSendTime: Date;
  readonly created: Date;
  /** `created` to the microsecond (as stored), for keyset paging. */
  readonly createdMicros: string;
  readonly recipientCount: number;
  readonly processingStatus: OrderProcessingStatus;
  readonly statusChanged: Date;
}

export interface OrderSearch {
  readonly creator?: string;
  readonly sendersReference?: string;
  /** Newest first: the page starts after this (createdMicros, id) of the previous page's last row. */
  readonly before?: { readonly createdMicros: string; readonly id: string };
  readonly limit: number;
}

export type CancelOutcome =
  | { readonly kind: 'cancelled' }
  | { readonly kind: 'not-found' }
  | { readonly kind: 'not-cancellable'; readonly status: OrderProcessingStatus };

export type HaltOutcome =
  /** Halted now, or earlier (`already`): `haltedAt` is the first halt's time. */
  | { readonly kind: 'halted'; readonly haltedAt: Date; readonly already: boolean }
  | { readonly kind: 'not-found' }
  /** Final without a halt (Completed, SendConditionNotMet, cancelled before processing). */
  | { readonly kind: 'final'; readonly status: OrderProcessingStatus };

const ORDER_COLUMNS = `o.id, o.creator, o.senders_reference, o.requested_send_time, o.created, o.ignore_reservation,
  o.resource_id, o.condition_endpoint, o.recipients, o.recipient_count, o.processing_status, o.status_changed,
  o.last_error, o.recipient_lookup, t.from_address, t.subject, t.body, t.content_type, o.trace_context, o.halted_at`;

// A Processed order whose notifications are all final ends Completed, or Cancelled when it was halted.
const FINISHED_STATUS = `CASE WHEN o.halted_at IS NULL THEN 'Completed' ELSE 'Cancelled' END`;

// The pending results as an SQL list; it matches the predicate of the partial indexes on pending notifications,
// so the planner can use them.
export const PENDING_RESULTS_SQL = `(${PENDING_RESULTS.map((result) => `'${result}'`).join(', ')})`;

const ms = (parameter: number): string => `($${parameter}::float8 * interval '1 millisecond')`;

function toOrder(row: OrderRow): EmailOrder {
  return {
    id: row.id,
    creator: row.creator,
    ...(row.senders_reference === null ? {} : { sendersReference: row.senders_reference }),
    requestedSendTime: row.requested_send_time,
    created: row.created,
    ...(row.ignore_reservation === null ? {} : { ignoreReservation: row.ignore_reservation }),
    ...(row.resource_id === null ? {} : { resourceId: row.resource_id }),
    ...(row.condition_endpoint === null ? {} : { conditionEndpoint: row.condition_endpoint }),
    recipients: row.recipients ?? [],
    email: toTemplate(row),
    processingStatus: row.processing_status,
    statusChanged: row.status_changed,
    ...(row.last_error === null ? {} : { lastError: row.last_error }),
    ...(row.recipient_lookup === null ? {} : { recipientLookup: row.recipient_lookup }),
    ...(row.halted_at === null ? {} : { haltedAt: row.halted_at }),
  };
}

function toTemplate(
  row: Pick<OrderRow, 'from_address' | 'subject' | 'body' | 'content_type'>,
): EmailTemplate {
  return {
    fromAddress: row.from_address,
    subject: row.subject,
    body: row.body,
    contentType: row.content_type,
  };
}

function toClaimed(row: OrderRow): ClaimedOrder {
  const {
    recipients,
    processingStatus: _status,
    statusChanged: _changed,
    haltedAt: _haltedAt,
    ...order
  } = toOrder(row);
  return {
    ...order,
    recipientCount: row.recipient_count,
    ...(row.recipients === null ? {} : { recipients }),
    ...(row.trace_context === null ? {} : { traceContext: row.trace_context }),
  };
}

/** Every query on `orders` and `email_texts`. */
@Injectable()
export class OrderRepository {
  async insert(tx: Tx, order: NewEmailOrder): Promise<void> {
    await tx.manager.query(
      `INSERT INTO orders (id, creator, senders_reference, requested_send_time, created, notification_channel,
         ignore_reservation, resource_id, condition_endpoint, recipients, recipient_count, processing_status,
         status_changed, idempotency_key, request_hash, recipient_lookup, trace_context)
       VALUES ($1, $2, $3, $4, $5, 'Email', $6, $7, $8, $9::jsonb, $10, 'Registered', $5, $11, $12, $13::jsonb, $14)`,
      [
        order.id,
        order.creator,
        order.sendersReference ?? null,
        order.requestedSendTime,
        order.created,
        order.ignoreReservation ?? null,
        order.resourceId ?? null,
        order.conditionEndpoint ?? null,
        JSON.stringify(order.recipients),
        order.recipients.length,
        order.idempotencyKey ?? null,
        order.requestHash ?? null,
        order.recipientLookup === undefined ? null : JSON.stringify(order.recipientLookup),
        captureTraceContext(),
      ],
    );
    await tx.manager.query(
      `INSERT INTO email_texts (order_id, from_address, subject, body, content_type) VALUES ($1, $2, $3, $4, $5)`,
      [order.id, order.email.fromAddress, order.email.subject, order.email.body, order.email.contentType],
    );
  }

  /** How many recipients the order lists, if it exists (without reading them). */
  async recipientCount(tx: Tx, id: string): Promise<number | undefined> {
    const rows = await queryRows<{ recipient_count: number }>(
      tx.manager,
      'SELECT recipient_count FROM orders WHERE id = $1',
      [id],
    );
    return rows[0]?.recipient_count;
  }

  /** The order, if it exists (and belongs to `creator` when given). */
  async find(tx: Tx, id: string, creator?: string): Promise<EmailOrder | undefined> {
    const rows = await queryRows<OrderRow>(
      tx.manager,
      `SELECT ${ORDER_COLUMNS} FROM orders o JOIN email_texts t ON t.order_id = o.id
        WHERE o.id = $1 AND ($2::text IS NULL OR o.creator = $2)`,
      [id, creator ?? null],
    );
    return rows[0] === undefined ? undefined : toOrder(rows[0]);
  }

  /**
   * The order without its recipients, if it exists: intake reads those a slice at a time (`recipientSlice`), so a
   * 100 000-recipient list is never in orders' memory whole.
   */
  async findToExpand(tx: Tx, id: string): Promise<OrderToExpand | undefined> {
    const rows = await queryRows<OrderRow>(
      tx.manager,
      `SELECT ${ORDER_COLUMNS.replace('o.recipients,', 'NULL AS recipients,')}
         FROM orders o JOIN email_texts t ON t.order_id = o.id WHERE o.id = $1`,
      [id],
    );
    const row = rows[0];
    if (row === undefined) return undefined;
    const { recipients: _unread, ...order } = toOrder(row);
    return { ...order, recipientCount: row.recipient_count };
  }

  /**
   * Recipients `start` to `start + count - 1` of the order, in the order given ([] past the end, or for an unknown
   * order). One jsonpath slice: PostgreSQL reads the stored list and returns the slice only.
   */
  async recipientSlice(tx: Tx, id: string, start: number, count: number): Promise<OrderRecipient[]> {
    const rows = await queryRows<{ slice: OrderRecipient[] }>(
      tx.manager,
      `SELECT jsonb_path_query_array(recipients, '$[$from to $to]',
                jsonb_build_object('from', $2::int, 'to', $3::int)) AS slice
         FROM orders WHERE id = $1`,
      [id, start, start + count - 1],
    );
    return rows[0]?.slice ?? [];
  }

  async findBySendersReference(tx: Tx, creator: string, sendersReference: string): Promise<EmailOrder[]> {
    const rows = await queryRows<OrderRow>(
      tx.manager,
      `SELECT ${ORDER_COLUMNS} FROM orders o JOIN email_texts t ON t.order_id = o.id
        WHERE o.creator = $1 AND o.senders_reference = $2 ORDER BY o.created, o.id`,
      [creator, sendersReference],
    );
    return rows.map(toOrder);
  }

  /**
   * Orders by creator and/or senders reference, newest first, a page at a time (keyset on created, id: a page
   * costs the same however deep, and rows inserted meanwhile do not shift it).
   */
  async search(tx: Tx, search: OrderSearch): Promise<OrderSummary[]> {
    const rows = await queryRows<{
      id: string;
      creator: string;
      senders_reference: string | null;
      requested_send_time: Date;
      created: Date;
      created_micros: string;
      recipient_count: number;
      processing_status: OrderProcessingStatus;
      status_changed: Date;
    }>(
      tx.manager,
      `SELECT id, creator, senders_reference, requested_send_time, created,
              (extract(epoch FROM created) * 1000000)::bigint::text AS created_micros, recipient_count,
              processing_status, status_changed
         FROM orders
        WHERE ($1::text IS NULL OR creator = $1)
          AND ($2::text IS NULL OR senders_reference = $2)
          AND ($3::bigint IS NULL
               OR (created, id) < (timestamptz 'epoch' + $3::bigint * interval '1 microsecond', $4::uuid))
        ORDER BY created DESC, id DESC
        LIMIT $5`,
      [
        search.creator ?? null,
        search.sendersReference ?? null,
        search.before?.createdMicros ?? null,
        search.before?.id ?? null,
        search.limit,
      ],
    );
    return rows.map((row) => ({
      id: row.id,
      creator: row.creator,
      ...(row.senders_reference === null ? {} : { sendersReference: row.senders_reference }),
      requestedSendTime: row.requested_send_time,
      created: row.created,
      createdMicros: row.created_micros,
      recipientCount: row.recipient_count,
      processingStatus: row.processing_status,
      statusChanged: row.status_changed,
    }));
  }

  async findByIdempotencyKey(
    tx: Tx,
    creator: string,
    idempotencyKey: string,
  ): Promise<{ order: EmailOrder; requestHash: string | undefined } | undefined> {
    const rows = await queryRows<OrderRow & { request_hash: string | null }>(
      tx.manager,
      `SELECT ${ORDER_COLUMNS}, o.request_hash FROM orders o JOIN email_texts t ON t.order_id = o.id
        WHERE o.creator = $1 AND o.idempotency_key = $2`,
      [creator, idempotencyKey],
    );
    const row = rows[0];
    return row === undefined
      ? undefined
      : { order: toOrder(row), requestHash: row.request_hash ?? undefined };
  }

  /**
   * Cancels a Registered order (of `creator`, or any creator's for an operator when undefined); waits for a
   * concurrent claim of it to commit first.
   */
  async cancel(tx: Tx, id: string, creator: string | undefined): Promise<CancelOutcome> {
    const rows = await queryRows<{ processing_status: OrderProcessingStatus }>(
      tx.manager,
      'SELECT processing_status FROM orders WHERE id = $1 AND ($2::text IS NULL OR creator = $2) FOR UPDATE',
      [id, creator ?? null],
    );
    const row = rows[0];
    if (row === undefined) return { kind: 'not-found' };
    if (row.processing_status !== 'Registered')
      return { kind: 'not-cancellable', status: row.processing_status };
    await tx.manager.query(
      `UPDATE orders SET processing_status = 'Cancelled', status_changed = now() WHERE id = $1`,
      [id],
    );
    return { kind: 'cancelled' };
  }

  /**
   * Marks the order halted (README "Halt"), locking its row for the rest of the transaction so that intake (which
   * locks it before creating notifications) either finished before or sees it halted after. `creator` scopes it to
   * the creator's orders; undefined is the operators' halt. A `Registered` order, and a `Processing` one whose
   * intake has created no notification yet, ends `Cancelled` at once. A `Processing` order whose intake has committed
   * some slices of its recipients (past-due.service) becomes `Processed` — intake stops at its next slice, which
   * finds it no longer `Processing` — and, like a `Processed` one, ends `Cancelled` when its last notification is
   * final.
   * A halted order is halted again without change; any other final order is refused.
   */
  async halt(tx: Tx, id: string, creator: string | undefined): Promise<HaltOutcome> {
    const rows = await queryRows<{ processing_status: OrderProcessingStatus; halted_at: Date | null }>(
      tx.manager,
      `SELECT processing_status, halted_at FROM orders
        WHERE id = $1 AND ($2::text IS NULL OR creator = $2) FOR UPDATE`,
      [id, creator ?? null],
    );
    const row = rows[0];
    if (row === undefined) return { kind: 'not-found' };
    if (row.halted_at !== null) return { kind: 'halted', haltedAt: row.halted_at, already: true };
    const status = row.processing_status;
    if (status !== 'Registered' && status !== 'Processing' && status !== 'Processed')
      return { kind: 'final', status };
    const updated = await queryRows<{ halted_at: Date }>(
      tx.manager,
      `UPDATE orders SET halted_at = now(),
              processing_status = CASE
                WHEN processing_status = 'Processed'
                  OR EXISTS (SELECT 1 FROM email_notifications n WHERE n.order_id = orders.id) THEN 'Processed'
                ELSE 'Cancelled' END,
              status_changed = CASE WHEN processing_status = 'Processed' THEN status_changed ELSE now() END,
              claimed_at = NULL
        WHERE id = $1 RETURNING halted_at`,
      [id],
    );
    return { kind: 'halted', haltedAt: (updated[0] as { halted_at: Date }).halted_at, already: false };
  }

  /**
   * Claims due Registered orders (`Registered → Processing`): up to `limit` and, past the first, no more than
   * `maxBytes` of email text and inline recipients (what their `orders.pastdue` messages will carry), so one cycle's
   * messages fit in memory. Rows locked by another claimer are skipped, so replicas never claim the same order.
   * Must run in the transaction that also writes the outbox rows.
   */
  async claimDue(tx: Tx, limit: number, inlineRecipients: number, maxBytes: number): Promise<ClaimedOrder[]> {
    const rows = await queryRows<OrderRow>(
      tx.manager,
      `WITH due AS (
         SELECT o.id, o.requested_send_time,
                octet_length(t.subject) + octet_length(t.body)
                  + CASE WHEN o.recipient_count <= $2 THEN octet_length(o.recipients::text) ELSE 0 END AS bytes
           FROM orders o JOIN email_texts t ON t.order_id = o.id
          WHERE o.processing_status = 'Registered' AND o.requested_send_time <= now()
            AND (o.not_before IS NULL OR o.not_before <= now())
          ORDER BY o.requested_send_time
          LIMIT $1
          FOR UPDATE OF o SKIP LOCKED
       ), within AS (
         SELECT id FROM (
           SELECT id, sum(bytes) OVER (ORDER BY requested_send_time, id) - bytes AS bytes_before FROM due
         ) sized WHERE bytes_before < $3
       ), claimed AS (
         UPDATE orders o SET processing_status = 'Processing', status_changed = now(), claimed_at = now(),
                processing_attempts = o.processing_attempts + 1, not_before = NULL
           FROM within WHERE o.id = within.id
         RETURNING o.*
       )
       SELECT ${ORDER_COLUMNS.replace('o.recipients,', 'CASE WHEN o.recipient_count <= $2 THEN o.recipients END AS recipients,')}
         FROM claimed o JOIN email_texts t ON t.order_id = o.id`,
      [limit, inlineRecipients, maxBytes],
    );
    return rows.map(toClaimed);
  }

  /** Re-claims orders stuck in Processing longer than `staleAfterMs` (their message is published again). */
  async claimStale(
    tx: Tx,
    staleAfterMs: number,
    limit: number,
    inlineRecipients: number,
  ): Promise<ClaimedOrder[]> {
    const rows = await queryRows<OrderRow>(
      tx.manager,
      `WITH stale AS (
         SELECT id FROM orders
          WHERE processing_status = 'Processing' AND claimed_at < now() - ${ms(1)}
          ORDER BY claimed_at
          LIMIT $2
          FOR UPDATE SKIP LOCKED
       ), claimed AS (
         UPDATE orders o SET claimed_at = now(), processing_attempts = o.processing_attempts + 1
           FROM stale WHERE o.id = stale.id
         RETURNING o.*
       )
       SELECT ${ORDER_COLUMNS.replace('o.recipients,', 'CASE WHEN o.recipient_count <= $3 THEN o.recipients END AS recipients,')}
         FROM claimed o JOIN email_texts t ON t.order_id = o.id`,
      [staleAfterMs, limit, inlineRecipients],
    );
    return rows.map(toClaimed);
  }

  /** Locks the order row for the rest of the transaction and returns its status. */
  async lockStatus(tx: Tx, id: string): Promise<OrderProcessingStatus | undefined> {
    const rows = await queryRows<{ processing_status: OrderProcessingStatus }>(
      tx.manager,
      'SELECT processing_status FROM orders WHERE id = $1 FOR UPDATE',
      [id],
    );
    return rows[0]?.processing_status;
  }

  /**
   * `Processing → status`; false when the order was no longer Processing. `reason` says why a final status was
   * reached without the order being processed (kept in `last_error`, shown in the status description).
   */
  async finishProcessing(
    tx: Tx,
    id: string,
    status: OrderProcessingStatus,
    reason?: string,
  ): Promise<boolean> {
    const changed = await execute(
      tx.manager,
      `UPDATE orders SET processing_status = $2, status_changed = now(), last_error = $3
        WHERE id = $1 AND processing_status = 'Processing'`,
      [id, status, reason?.slice(0, 2000) ?? null],
    );
    return changed === 1;
  }

  /** `Processing → Registered`, claimable again after `delayMs`, with the failure recorded. */
  async requeue(tx: Tx, id: string, error: string, delayMs: number): Promise<boolean> {
    const changed = await execute(
      tx.manager,
      `UPDATE orders SET processing_status = 'Registered', status_changed = now(), claimed_at = NULL,
              not_before = now() + ${ms(3)}, last_error = $2
        WHERE id = $1 AND processing_status = 'Processing'`,
      [id, error.slice(0, 2000), delayMs],
    );
    return changed === 1;
  }

  /**
   * `Processed → Completed` (`Cancelled` when halted) when none of the order's notifications is pending. Run it after the transaction that
   * finished a notification has committed: then of two concurrent finishers, the later check sees both.
   */
  async completeIfDone(tx: Tx, id: string): Promise<boolean> {
    const changed = await execute(
      tx.manager,
      `UPDATE orders o SET processing_status = ${FINISHED_STATUS}, status_changed = now()
        WHERE id = $1 AND processing_status = 'Processed'
          AND NOT EXISTS (SELECT 1 FROM email_notifications n
                           WHERE n.order_id = $1 AND n.result IN ${PENDING_RESULTS_SQL})`,
      [id],
    );
    return changed === 1;
  }

  /**
   * {@link completeIfDone} for several orders in one statement; returns the ids of the orders it completed. Same
   * concurrency argument: run it after the status changes it follows have committed.
   */
  async completeManyIfDone(tx: Tx, ids: readonly string[]): Promise<string[]> {
    if (ids.length === 0) return [];
    const rows = await queryRows<{ id: string }>(
      tx.manager,
      // Locked in id order: two replicas completing overlapping sets of orders wait for each other, not deadlock.
      `WITH done AS (
         SELECT o.id FROM orders o
          WHERE o.id = ANY($1::uuid[]) AND o.processing_status = 'Processed'
            -- Not NOT EXISTS: as an anti join over several orders PostgreSQL 15 plans it as a bitmap scan that
            -- reads every entry of the order (dead ones too) each time; a LIMIT 1 subplan is an index scan that
            -- stops at the first pending notification, as completeIfDone's is.
            AND (SELECT 1 FROM email_notifications n
                  WHERE n.order_id = o.id AND n.result IN ${PENDING_RESULTS_SQL} LIMIT 1) IS NULL
          ORDER BY o.id
          FOR UPDATE
       )
       UPDATE orders o SET processing_status = ${FINISHED_STATUS}, status_changed = now()
         FROM done WHERE o.id = done.id AND o.processing_status = 'Processed'
       RETURNING o.id`,
      [ids],
    );
    return rows.map((row) => row.id);
  }

  /** Sweeper: completes Processed orders with nothing pending; returns how many. */
  async completeFinished(tx: Tx, limit: number): Promise<number> {
    return execute(
      tx.manager,
      `WITH done AS (
         SELECT o.id FROM orders o
          WHERE o.processing_status = 'Processed'
            AND NOT EXISTS (SELECT 1 FROM email_notifications n
                             WHERE n.order_id = o.id AND n.result IN ${PENDING_RESULTS_SQL})
          ORDER BY o.status_changed
          LIMIT $1
          FOR UPDATE SKIP LOCKED
       )
       UPDATE orders o SET processing_status = ${FINISHED_STATUS}, status_changed = now() FROM done WHERE o.id = done.id`,
      [limit],
    );
  }

  /** Of the given orders, those that were halted. */
  async haltedAmong(tx: Tx, orderIds: readonly string[]): Promise<Set<string>> {
    const rows = await queryRows<{ id: string }>(
      tx.manager,
      'SELECT id FROM orders WHERE id = ANY($1::uuid[]) AND halted_at IS NOT NULL',
      [orderIds],
    );
    return new Set(rows.map((row) => row.id));
  }

  /** The email templates of the given orders. */
  async emailTemplates(tx: Tx, orderIds: readonly string[]): Promise<Map<string, EmailTemplate>> {
    const rows = await queryRows<{
      order_id: string;
      from_address: string;
      subject: string;
      body: string;
      content_type: EmailContentType;
    }>(tx.manager, 'SELECT * FROM email_texts WHERE order_id = ANY($1::uuid[])', [orderIds]);
    return new Map(rows.map((row) => [row.order_id, toTemplate(row)]));
  }
}
