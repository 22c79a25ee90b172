import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { type EmailNotificationResultType } from '@notifications/contracts';
import { chunks } from '../domain/chunks';
import { execute, preferOrderedIndexScan, preferPrimaryKeyLookups, queryRows } from './sql';
import { type Tx } from './unit-of-work';
import { PENDING_RESULTS_SQL } from './order.repository';
import { NO_NOTIFICATIONS, type EmailNotificationView, type NotificationCounts } from '../domain/order.model';
import { type NotificationDraft } from '../domain/recipients';
import { captureTraceContext } from './trace-context';

/** A notification claimed for sending (`New → Sending`). */
export interface ClaimedNotification {
  readonly id: string;
  readonly orderId: string;
  readonly toAddress: string;
  readonly recipientName?: string;
  readonly nationalIdentityNumber?: string;
  readonly organizationNumber?: string;
  /** Trace context of the `orders.pastdue` processing that created it (see store/trace-context.ts). */
  readonly traceContext?: string;
}

/** The state a status update is applied to. */
export interface NotificationState {
  readonly id: string;
  readonly orderId: string;
  readonly result: EmailNotificationResultType;
  readonly expiry: Date;
  readonly operationId?: string;
  /** Its order was halted (README "Halt"). */
  readonly halted: boolean;
}

/** The final state of one notification after a batch of status updates (see `applyStatusChanges`). */
export interface StatusChange {
  readonly id: string;
  readonly result: EmailNotificationResultType;
  /** The result moved (by a `set` or a `resend`): result_time is now and sending_since is cleared. */
  readonly resultChanged: boolean;
  /** A transient failure sent it back to New: next_attempt_at moves to now + the resend delay. */
  readonly resend: boolean;
  /** The operation id to record, if any (the last one the batch carried). */
  readonly operationId: string | undefined;
}

interface StateRow {
  id: string;
  order_id: string;
  result: EmailNotificationResultType;
  expiry: Date;
  operation_id: string | null;
  halted: boolean;
}

const ms = (parameter: number): string => `($${parameter}::float8 * interval '1 millisecond')`;

// Rows per INSERT: large orders are written in a few statements of bounded size.
const INSERT_CHUNK = 5_000;

function toState(row: StateRow): NotificationState {
  return {
    id: row.id,
    orderId: row.order_id,
    result: row.result,
    expiry: row.expiry,
    ...(row.operation_id === null ? {} : { operationId: row.operation_id }),
    halted: row.halted,
  };
}

/** Every query on `email_notifications`. */
@Injectable()
export class EmailNotificationRepository {
  /**
   * Inserts one row per draft; a row that already exists for (order, recipient key) is left alone, so that a
   * redelivered `orders.pastdue` message creates nothing twice. Returns how many rows were new.
   */
  async insertMany(
    tx: Tx,
    orderId: string,
    drafts: readonly NotificationDraft[],
    expiry: Date,
  ): Promise<number> {
    let inserted = 0;
    for (const chunk of chunks(drafts, INSERT_CHUNK)) {
      const rows = await queryRows<{ inserted: number }>(
        tx.manager,
        `WITH ins AS (
           INSERT INTO email_notifications (id, order_id, recipient_key, to_address, national_identity_number,
                  organization_number, recipient_name, is_reserved, result, expiry, trace_context)
           SELECT u.id, $1, u.recipient_key, u.to_address, u.nin, u.org, u.name, u.reserved, u.result, $2, $11
             FROM unnest($3::uuid[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::boolean[],
                         $10::text[]) AS u(id, recipient_key, to_address, nin, org, name, reserved, result)
           ON CONFLICT (order_id, recipient_key) DO NOTHING
           RETURNING 1
         )
         SELECT count(*)::int AS inserted FROM ins`,
        [
          orderId,
          expiry,
          chunk.map(() => randomUUID()),
          chunk.map((d) => d.recipientKey),
          chunk.map((d) => d.toAddress ?? null),
          chunk.map((d) => d.nationalIdentityNumber ?? null),
          chunk.map((d) => d.organizationNumber ?? null),
          chunk.map((d) => d.recipientName ?? null),
          chunk.map((d) => d.isReserved ?? null),
          chunk.map((d) => d.result),
          captureTraceContext(),
        ],
      );
      inserted += rows[0]?.inserted ?? 0;
    }
    return inserted;
  }

  async hasPending(tx: Tx, orderId: string): Promise<boolean> {
    const rows = await queryRows<{ pending: boolean }>(
      tx.manager,
      `SELECT EXISTS (SELECT 1 FROM email_notifications
                       WHERE order_id = $1 AND result IN ${PENDING_RESULTS_SQL}) AS pending`,
      [orderId],
    );
    return rows[0]?.pending ?? false;
  }

  async counts(tx: Tx, orderId: string): Promise<NotificationCounts> {
    const rows = await queryRows<NotificationCounts>(
      tx.manager,
      `SELECT count(*)::int AS generated,
              count(*) FILTER (WHERE result IN ('Succeeded', 'Delivered'))::int AS succeeded,
              count(*) FILTER (WHERE result = 'Cancelled')::int AS cancelled,
              count(*) FILTER (WHERE result IN ('New', 'Sending'))::int AS unsent
         FROM email_notifications WHERE order_id = $1`,
      [orderId],
    );
    return rows[0] ?? NO_NOTIFICATIONS;
  }

  /** The order's notifications in creation order; all of them, or one page (`limit` from `offset`). */
  async listForOrder(
    tx: Tx,
    orderId: string,
    page?: { readonly limit: number; readonly offset: number },
  ): Promise<EmailNotificationView[]> {
    const rows = await queryRows<{
      id: string;
      to_address: string | null;
      national_identity_number: string | null;
      organization_number: string | null;
      result: EmailNotificationResultType;
      result_time: Date;
    }>(
      tx.manager,
      `SELECT id, to_address, national_identity_number, organization_number, result, result_time
         FROM email_notifications WHERE order_id = $1 ORDER BY created, recipient_key
        LIMIT $2 OFFSET $3`,
      // LIMIT NULL is no limit.
      [orderId, page?.limit ?? null, page?.offset ?? 0],
    );
    return rows.map((row) => ({
      id: row.id,
      ...(row.to_address === null ? {} : { toAddress: row.to_address }),
      ...(row.national_identity_number === null
        ? {}
        : { nationalIdentityNumber: row.national_identity_number }),
      ...(row.organization_number === null ? {} : { organizationNumber: row.organization_number }),
      result: row.result,
      resultTime: row.result_time,
    }));
  }

  /**
   * Claims due New notifications (`New → Sending`), skipping rows another claimer holds: up to `limit` and, past
   * the first, no more than `maxBytes` of email text (subject + body of each one's order, the size its message
   * will roughly have), so the personalised emails of one cycle fit in memory whatever the orders weigh. Must run in
   * the transaction that writes their `Email` messages to the outbox. Reads about `limit` entries of
   * `email_notifications_new_due` however many notifications are due or were claimed before (an ordered index scan
   * from the head, see preferOrderedIndexScan).
   */
  async claimForSending(tx: Tx, limit: number, maxBytes: number): Promise<ClaimedNotification[]> {
    await preferOrderedIndexScan(tx);
    const rows = await queryRows<{
      id: string;
      order_id: string;
      to_address: string;
      recipient_name: string | null;
      national_identity_number: string | null;
      organization_number: string | null;
      trace_context: string | null;
    }>(
      tx.manager,
      `WITH due AS (
         SELECT n.id, n.next_attempt_at, octet_length(t.subject) + octet_length(t.body) AS bytes
           FROM email_notifications n JOIN email_texts t ON t.order_id = n.order_id
          WHERE n.result = 'New' AND n.next_attempt_at <= now() AND n.expiry > now()
          ORDER BY n.next_attempt_at
          LIMIT $1
          FOR UPDATE OF n SKIP LOCKED
       ), within AS (
         SELECT id FROM (
           SELECT id, sum(bytes) OVER (ORDER BY next_attempt_at, id) - bytes AS bytes_before FROM due
         ) sized WHERE bytes_before < $2
       )
       UPDATE email_notifications n
          SET result = 'Sending', result_time = now(), sending_since = now(), send_attempts = n.send_attempts + 1
         FROM within WHERE n.id = within.id
       RETURNING n.id, n.order_id, n.to_address, n.recipient_name, n.national_identity_number,
                 n.organization_number, n.trace_context`,
      [limit, maxBytes],
    );
    return rows.map((row) => ({
      id: row.id,
      orderId: row.order_id,
      toAddress: row.to_address,
      ...(row.recipient_name === null ? {} : { recipientName: row.recipient_name }),
      ...(row.national_identity_number === null
        ? {}
        : { nationalIdentityNumber: row.national_identity_number }),
      ...(row.organization_number === null ? {} : { organizationNumber: row.organization_number }),
      ...(row.trace_context === null ? {} : { traceContext: row.trace_context }),
    }));
  }

  /**
   * Locks and returns, in one statement, the notifications with these ids and the latest notification of each of
   * these ACS operation ids, all in id order so that two replicas locking overlapping sets wait rather than
   * deadlock.
   */
  async lockForStatus(
    tx: Tx,
    ids: readonly string[],
    operationIds: readonly string[],
  ): Promise<(NotificationState & { readonly resultTime: Date })[]> {
    if (ids.length === 0 && operationIds.length === 0) return [];
    // Key lookups only: with stale statistics the operation-id lookup was planned as a sequential scan per batch.
    await preferPrimaryKeyLookups(tx);
    const rows = await queryRows<StateRow & { result_time: Date }>(
      tx.manager,
      // The order's halt mark is read without locking the order: a halt that commits later finds these rows
      // locked and decides after this transaction (cancelUnsent waits for the locks).
      `SELECT n.id, n.order_id, n.result, n.expiry, n.operation_id, n.result_time,
              (SELECT o.halted_at IS NOT NULL FROM orders o WHERE o.id = n.order_id) AS halted
         FROM email_notifications n
        WHERE n.id = ANY($1::uuid[])
           -- An array (one InitPlan), not a subquery join: both halves are then primary-key index scans.
           OR n.id = ANY(ARRAY(SELECT DISTINCT ON (operation_id) id FROM email_notifications
                              WHERE operation_id = ANY($2::text[])
                              ORDER BY operation_id, result_time DESC))
        ORDER BY n.id
          FOR UPDATE OF n`,
      [ids, operationIds],
    );
    return rows.map((row) => ({ ...toState(row), resultTime: row.result_time }));
  }

  /** Writes the outcome of a batch of status updates, one row per notification, in one statement. */
  async applyStatusChanges(tx: Tx, changes: readonly StatusChange[], resendDelayMs: number): Promise<void> {
    if (changes.length === 0) return;
    await preferPrimaryKeyLookups(tx);
    await tx.manager.query(
      `UPDATE email_notifications n
          SET result = u.result,
              result_time = CASE WHEN u.changed THEN now() ELSE n.result_time END,
              sending_since = CASE WHEN u.changed THEN NULL ELSE n.sending_since END,
              next_attempt_at = CASE WHEN u.resend THEN now() + ${ms(1)} ELSE n.next_attempt_at END,
              operation_id = COALESCE(u.operation_id, n.operation_id)
         FROM unnest($2::uuid[], $3::text[], $4::boolean[], $5::boolean[], $6::text[])
                AS u(id, result, changed, resend, operation_id)
        WHERE n.id = u.id`,
      [
        resendDelayMs,
        changes.map((c) => c.id),
        changes.map((c) => c.result),
        changes.map((c) => c.resultChanged),
        changes.map((c) => c.resend),
        changes.map((c) => c.operationId ?? null),
      ],
    );
  }

  async setResult(
    tx: Tx,
    id: string,
    result: EmailNotificationResultType,
    operationId: string | undefined,
  ): Promise<void> {
    await tx.manager.query(
      `UPDATE email_notifications
          SET result = $2, result_time = now(), operation_id = COALESCE($3, operation_id),
              sending_since = CASE WHEN $2 = 'Sending' THEN sending_since END
        WHERE id = $1`,
      [id, result, operationId ?? null],
    );
  }

  /**
   * The halt of an order (README "Halt"), in the transaction that marks it halted: every `New` notification, and
   * every `Sending` one whose `email.queue` message is still unpublished in the outbox (that row is deleted), become
   * `Cancelled` — never sent. Rows a claimer or the outbox relay holds are waited for: a claim that commits first
   * leaves its notifications `Sending` with outbox rows this then deletes; a relay that commits first has published
   * them, so they stay `Sending` and email-sender decides (withheld, or in flight). Returns how many it cancelled.
   */
  async cancelUnsent(tx: Tx, orderId: string, emailQueueTopic: string): Promise<number> {
    const fresh = await execute(
      tx.manager,
      `UPDATE email_notifications SET result = 'Cancelled', result_time = now()
        WHERE order_id = $1 AND result = 'New'`,
      [orderId],
    );
    // A new statement: it sees the outbox rows of claims that committed while the one above waited for them.
    const unpublished = await execute(
      tx.manager,
      `WITH dropped AS (
         DELETE FROM outbox x USING email_notifications n
          WHERE n.order_id = $1 AND n.result = 'Sending' AND x.topic = $2 AND x.message_key = n.id::text
            AND x.published_at IS NULL
         RETURNING n.id
       )
       UPDATE email_notifications n SET result = 'Cancelled', result_time = now(), sending_since = NULL
         FROM dropped WHERE n.id = dropped.id`,
      [orderId, emailQueueTopic],
    );
    return fresh + unpublished;
  }

  /** Claimed notifications of a halted order (see EmailPublisherService): `Sending → Cancelled`, never queued. */
  async cancelClaimed(tx: Tx, ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await tx.manager.query(
      `UPDATE email_notifications SET result = 'Cancelled', result_time = now(), sending_since = NULL
        WHERE id = ANY($1::uuid[]) AND result = 'Sending'`,
      [ids],
    );
  }

  /** Sweeper: unfinished notifications past expiry + grace become Failed_TTL; returns their order ids. */
  async expireUnfinished(
    tx: Tx,
    graceMs: number,
    limit: number,
  ): Promise<{ expired: number; orderIds: string[] }> {
    const rows = await queryRows<{ order_id: string }>(
      tx.manager,
      `WITH expired AS (
         SELECT id FROM email_notifications
          WHERE result IN ${PENDING_RESULTS_SQL} AND expiry < now() - ${ms(1)}
          ORDER BY expiry
          LIMIT $2
          FOR UPDATE SKIP LOCKED
       )
       UPDATE email_notifications n SET result = 'Failed_TTL', result_time = now(), sending_since = NULL
         FROM expired WHERE n.id = expired.id
       RETURNING n.order_id`,
      [graceMs, limit],
    );
    return { expired: rows.length, orderIds: [...new Set(rows.map((row) => row.order_id))] };
  }

  /**
   * Sweeper: notifications in Sending for longer than `staleAfterMs` (their email or its status was lost) go back
   * to New, at most `maxRedrives` times each. The sender uses the notification id as ACS Operation-Id, so a
   * re-send of an email that did go out is absorbed by ACS. In a halted order they become Cancelled instead (never
   * sent again; a send result that still comes replaces it, see email-status.rules).
   */
  async redriveStaleSending(
    tx: Tx,
    staleAfterMs: number,
    maxRedrives: number,
    limit: number,
  ): Promise<number> {
    return execute(
      tx.manager,
      `WITH stale AS (
         SELECT id FROM email_notifications
          WHERE result = 'Sending' AND sending_since < now() - ${ms(1)} AND redrives < $2 AND expiry > now()
          ORDER BY sending_since
          LIMIT $3
          FOR UPDATE SKIP LOCKED
       )
       UPDATE email_notifications n
          SET result = CASE WHEN o.halted_at IS NULL THEN 'New' ELSE 'Cancelled' END,
              result_time = now(), next_attempt_at = now(), sending_since = NULL, redrives = n.redrives + 1
         FROM stale, orders o WHERE n.id = stale.id AND o.id = n.order_id`,
      [staleAfterMs, maxRedrives, limit],
    );
  }
}
