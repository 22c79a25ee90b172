import { Injectable } from '@nestjs/common';
import {
  type SubscriptionCustom,
  type SubscriptionDestination,
  type SubscriptionEvent,
} from '../domain/subscription-events';
import { type SubscriptionEventType } from '../domain/subscription.model';
import { execute, preferOrderedIndexScan, queryRows } from './sql';
import { type Tx } from './unit-of-work';

/** A subscription held by a delivery round (its row locked until the round's transaction ends). */
export interface ClaimedSubscription {
  readonly id: string;
  readonly destination: SubscriptionDestination;
  readonly custom: SubscriptionCustom | null;
  readonly signingSecret: string;
  readonly failsCounter: number;
}

/** What a delivery round did, recorded on its subscription in the round's transaction. */
export interface DeliveryRecord {
  /** Events delivered this round (already deleted). */
  readonly delivered: number;
  /** Why the round stopped early, when it did (one line, no personal data). */
  readonly failure?: string;
}

export interface DeliveryBackOff {
  readonly initialMs: number;
  readonly maxMs: number;
  /** Consecutive failures after which the subscription becomes `failed`. */
  readonly maxConsecutiveFailures: number;
}

/** A subscription as operators and metrics see it: no secret, no filter values, no addresses. */
export interface SubscriptionDeliveryState {
  readonly id: string;
  readonly creator: string;
  readonly destination: SubscriptionDestination;
  readonly state: 'active' | 'failed';
  readonly expires: Date | null;
  readonly timesSent: number;
  readonly failsCounter: number;
  readonly lastSuccess: Date | null;
  readonly lastFailure: Date | null;
  readonly lastFailureReason: string | null;
  readonly nextAttemptAt: Date;
  readonly pending: number;
  readonly oldestPending: Date | null;
}

const ms = (parameter: number): string => `($${parameter}::float8 * interval '1 millisecond')`;

interface EventRow {
  id: string;
  event_id: string;
  subscription_id: string;
  type: SubscriptionEventType;
  order_id: string;
  senders_reference: string | null;
  notification_id: string | null;
  recipient_email: string | null;
  status: string;
  status_time: Date;
}

/** Every query of the delivery of `subscription_events` (the triggers of the migration write them). */
@Injectable()
export class SubscriptionDeliveryRepository {
  /**
   * Locks one active subscription that is due (its back-off over) and has pending events, for the rest of the
   * caller's transaction: the round that delivers its events holds it, so no other replica or slot delivers the same
   * subscription meanwhile and its events go out in order. The least recently tried goes first.
   *
   * FOR NO KEY UPDATE, not FOR UPDATE: the triggers insert events (a foreign key to this row, which takes FOR KEY
   * SHARE) in the transactions of the pipeline's status changes; FOR UPDATE would make every status change of the
   * creator's orders wait for a slow destination, FOR NO KEY UPDATE never blocks them.
   * Expired subscriptions are claimed too: their events recorded before the expiry are still owed.
   */
  async claimDue(tx: Tx): Promise<ClaimedSubscription | undefined> {
    const rows = await queryRows<{
      id: string;
      destination: SubscriptionDestination;
      custom: SubscriptionCustom | null;
      signing_secret: string;
      fails_counter: number;
    }>(
      tx.manager,
      `SELECT s.id, s.destination, s.custom, s.signing_secret, s.fails_counter
         FROM subscriptions s
        WHERE s.state = 'active' AND s.next_attempt_at <= now()
          AND EXISTS (SELECT 1 FROM subscription_events e WHERE e.subscription_id = s.id)
        ORDER BY s.next_attempt_at
        LIMIT 1
        FOR NO KEY UPDATE OF s SKIP LOCKED`,
    );
    const row = rows[0];
    if (row === undefined) return undefined;
    return {
      id: row.id,
      destination: row.destination,
      custom: row.custom,
      signingSecret: row.signing_secret,
      failsCounter: row.fails_counter,
    };
  }

  /** The subscription's oldest `limit` pending events, in the order they were recorded (index subscription_events_pending). */
  async pendingEvents(tx: Tx, subscriptionId: string, limit: number): Promise<SubscriptionEvent[]> {
    // Events arrive faster than autoanalyze follows: with stale statistics the planner reads every pending event of
    // the subscription (bitmap scan + sort) to return the oldest few, once per round. An ordered index scan stops at
    // the LIMIT (measured with `npm run bench -- --subscribe http`; see sql.ts).
    await preferOrderedIndexScan(tx);
    const rows = await queryRows<EventRow>(
      tx.manager,
      // ORDER BY e.id, the bigint: a bare `id` would name the text output column and sort "10" before "2".
      `SELECT e.id::text AS id, e.event_id, e.subscription_id, e.type, e.order_id, e.senders_reference,
              e.notification_id, e.recipient_email, e.status, e.status_time
         FROM subscription_events e WHERE e.subscription_id = $1 ORDER BY e.id LIMIT $2`,
      [subscriptionId, limit],
    );
    return rows.map((row) => ({
      id: row.id,
      eventId: row.event_id,
      subscriptionId: row.subscription_id,
      type: row.type,
      orderId: row.order_id,
      sendersReference: row.senders_reference,
      notificationId: row.notification_id,
      recipientEmail: row.recipient_email,
      status: row.status,
      statusTime: row.status_time,
    }));
  }

  /** Deletes delivered events (in the round's transaction: undone with it, so a lost commit means a redelivery). */
  async deleteDelivered(tx: Tx, ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await tx.manager.query('DELETE FROM subscription_events WHERE id = ANY($1::bigint[])', [ids]);
  }

  /**
   * Records a round on its subscription. Any delivery counts as a success (`times_sent`, `last_notification`,
   * `last_success`, the failure streak ends); a round that stopped at a failure also counts one failure, starts or
   * extends the streak (1 when events went through before it), backs the subscription off for
   * initial × 2^(fails − 1) (at most max) and makes it `failed` at `maxConsecutiveFailures`. After a clean round the
   * subscription goes to the back of the queue (`next_attempt_at = now()`), so busy subscriptions take turns.
   */
  async recordRound(
    tx: Tx,
    subscriptionId: string,
    round: DeliveryRecord,
    backOff: DeliveryBackOff,
  ): Promise<void> {
    const failed = round.failure !== undefined;
    await tx.manager.query(
      `WITH counted AS (
         SELECT CASE WHEN NOT $3::boolean THEN 0 WHEN $2::int > 0 THEN 1 ELSE fails_counter + 1 END AS fails
           FROM subscriptions WHERE id = $1
       )
       UPDATE subscriptions s SET
         times_sent = s.times_sent + $2::int,
         last_notification = CASE WHEN $2::int > 0 THEN now() ELSE s.last_notification END,
         last_success = CASE WHEN $2::int > 0 THEN now() ELSE s.last_success END,
         last_failure = CASE WHEN $3::boolean THEN now() ELSE s.last_failure END,
         last_failure_reason = CASE WHEN $3::boolean THEN $4::text ELSE s.last_failure_reason END,
         fails_counter = counted.fails,
         next_attempt_at = CASE WHEN $3::boolean
           THEN now() + least(${ms(6)}, ${ms(5)} * power(2, least(counted.fails - 1, 40)))
           ELSE now() END,
         state = CASE WHEN $3::boolean AND counted.fails >= $7::int THEN 'failed' ELSE s.state END
         FROM counted
        WHERE s.id = $1`,
      [
        subscriptionId,
        round.delivered,
        failed,
        round.failure ?? null,
        backOff.initialMs,
        backOff.maxMs,
        backOff.maxConsecutiveFailures,
      ],
    );
  }

  /**
   * Drops pending events recorded more than `retentionMs` ago (a failed or long-unreachable destination's backlog is
   * kept only so long), at most `limit` per call; returns how many.
   */
  async dropExpiredEvents(tx: Tx, retentionMs: number, limit: number): Promise<number> {
    return execute(
      tx.manager,
      `DELETE FROM subscription_events WHERE id IN (
         SELECT id FROM subscription_events WHERE created < now() - ${ms(1)} ORDER BY created LIMIT $2)`,
      [retentionMs, limit],
    );
  }

  /** Every subscription's delivery state with its pending events' count and the oldest one's time. */
  async deliveryStates(tx: Tx): Promise<SubscriptionDeliveryState[]> {
    const rows = await queryRows<{
      id: string;
      creator: string;
      destination: SubscriptionDestination;
      state: 'active' | 'failed';
      expires: Date | null;
      times_sent: string;
      fails_counter: number;
      last_success: Date | null;
      last_failure: Date | null;
      last_failure_reason: string | null;
      next_attempt_at: Date;
      pending: number;
      oldest: Date | null;
    }>(
      tx.manager,
      `SELECT s.id, s.creator, s.destination, s.state, s.expires, s.times_sent, s.fails_counter, s.last_success,
              s.last_failure, s.last_failure_reason, s.next_attempt_at, p.pending, p.oldest
         FROM subscriptions s
         CROSS JOIN LATERAL (
           SELECT count(*)::int AS pending, min(created) AS oldest
             FROM subscription_events e WHERE e.subscription_id = s.id
         ) p
        ORDER BY s.created, s.id`,
    );
    return rows.map((row) => ({
      id: row.id,
      creator: row.creator,
      destination: row.destination,
      state: row.state,
      expires: row.expires,
      timesSent: Number(row.times_sent),
      failsCounter: row.fails_counter,
      lastSuccess: row.last_success,
      lastFailure: row.last_failure,
      lastFailureReason: row.last_failure_reason,
      nextAttemptAt: row.next_attempt_at,
      pending: row.pending,
      oldestPending: row.oldest,
    }));
  }
}
