import { Injectable } from '@nestjs/common';
import {
  type NewSubscription,
  type SubscriptionCustom,
  type SubscriptionDestination,
  type SubscriptionEventType,
  type SubscriptionRecord,
  type SubscriptionState,
} from '../domain/subscription.model';
import { execute, queryRows } from './sql';
import { type Tx } from './unit-of-work';

interface SubscriptionRow {
  id: string;
  creator: string;
  description: string | null;
  filter_senders_reference: string | null;
  filter_resource_id: string | null;
  events: SubscriptionEventType[];
  destination: SubscriptionDestination;
  custom: SubscriptionCustom | null;
  expires: Date | null;
  created: Date;
  state: SubscriptionState;
  expired: boolean;
  times_sent: string;
  last_notification: Date | null;
  last_success: Date | null;
  last_failure: Date | null;
  last_failure_reason: string | null;
  fails_counter: number;
  pending_events: number;
}

// Everything the API shows; never the signing secret. `expired` is judged by the database's clock, the one the
// triggers use to decide whether a subscription still records events.
const SUBSCRIPTION_COLUMNS = `s.id, s.creator, s.description, s.filter_senders_reference, s.filter_resource_id,
  s.events, s.destination, s.custom, s.expires, s.created, s.state,
  (s.expires IS NOT NULL AND s.expires <= now()) AS expired, s.times_sent, s.last_notification, s.last_success,
  s.last_failure, s.last_failure_reason, s.fails_counter,
  (SELECT count(*)::int FROM subscription_events e WHERE e.subscription_id = s.id) AS pending_events`;

function toRecord(row: SubscriptionRow): SubscriptionRecord {
  return {
    id: row.id,
    creator: row.creator,
    ...(row.description === null ? {} : { description: row.description }),
    filter: {
      ...(row.filter_senders_reference === null ? {} : { sendersReference: row.filter_senders_reference }),
      ...(row.filter_resource_id === null ? {} : { resourceId: row.filter_resource_id }),
    },
    events: row.events,
    destination: row.destination,
    ...(row.custom === null ? {} : { custom: row.custom }),
    ...(row.expires === null ? {} : { expires: row.expires }),
    created: row.created,
    status: row.expired ? 'expired' : row.state,
    // bigint arrives as a string; a count of deliveries stays far below 2^53.
    timesSent: Number(row.times_sent),
    ...(row.last_notification === null ? {} : { lastNotification: row.last_notification }),
    ...(row.last_success === null ? {} : { lastSuccess: row.last_success }),
    ...(row.last_failure === null ? {} : { lastFailure: row.last_failure }),
    ...(row.last_failure_reason === null ? {} : { lastFailureReason: row.last_failure_reason }),
    failsCounter: row.fails_counter,
    pendingEvents: row.pending_events,
  };
}

/** The subscriptions API's queries on `subscriptions` (delivery has its own). */
@Injectable()
export class SubscriptionRepository {
  /**
   * Inserts the subscription unless its creator holds `max` already; false then. The creator's subscriptions are
   * counted under a transaction-scoped advisory lock on the creator, so two concurrent creations cannot both
   * pass the count (READ COMMITTED would let them).
   */
  async insertWithinLimit(tx: Tx, subscription: NewSubscription, max: number): Promise<boolean> {
    await tx.manager.query("SELECT pg_advisory_xact_lock(hashtextextended('subscriptions:' || $1, 0))", [
      subscription.creator,
    ]);
    const [held] = await queryRows<{ n: number }>(
      tx.manager,
      'SELECT count(*)::int AS n FROM subscriptions WHERE creator = $1',
      [subscription.creator],
    );
    if ((held?.n ?? 0) >= max) return false;
    await tx.manager.query(
      `INSERT INTO subscriptions (id, creator, description, filter_senders_reference, filter_resource_id, events,
         destination, custom, signing_secret, expires)
       VALUES ($1, $2, $3, $4, $5, $6::text[], $7::jsonb, $8::jsonb, $9, $10)`,
      [
        subscription.id,
        subscription.creator,
        subscription.description ?? null,
        subscription.filter.sendersReference ?? null,
        subscription.filter.resourceId ?? null,
        subscription.events,
        JSON.stringify(subscription.destination),
        subscription.custom === undefined ? null : JSON.stringify(subscription.custom),
        subscription.signingSecret,
        subscription.expires ?? null,
      ],
    );
    return true;
  }

  /** The creator's subscriptions, newest first. */
  async list(tx: Tx, creator: string): Promise<SubscriptionRecord[]> {
    const rows = await queryRows<SubscriptionRow>(
      tx.manager,
      `SELECT ${SUBSCRIPTION_COLUMNS} FROM subscriptions s WHERE s.creator = $1 ORDER BY s.created DESC, s.id`,
      [creator],
    );
    return rows.map(toRecord);
  }

  /** The subscription if it exists and belongs to `creator`. */
  async find(tx: Tx, id: string, creator: string): Promise<SubscriptionRecord | undefined> {
    const rows = await queryRows<SubscriptionRow>(
      tx.manager,
      `SELECT ${SUBSCRIPTION_COLUMNS} FROM subscriptions s WHERE s.id = $1 AND s.creator = $2`,
      [id, creator],
    );
    const row = rows[0];
    return row === undefined ? undefined : toRecord(row);
  }

  /** Deletes the subscription of `creator` with its pending events (ON DELETE CASCADE); false when none. */
  async delete(tx: Tx, id: string, creator: string): Promise<boolean> {
    return (
      (await execute(tx.manager, 'DELETE FROM subscriptions WHERE id = $1 AND creator = $2', [
        id,
        creator,
      ])) === 1
    );
  }

  /**
   * A failed subscription becomes active again, its failure count reset and its events due at once; an active
   * one is left as it is. Returns the subscription, or undefined when `creator` has none with this id.
   */
  async resume(tx: Tx, id: string, creator: string): Promise<SubscriptionRecord | undefined> {
    await this.reactivate(tx, id, { creator, onlyFailed: true });
    return this.find(tx, id, creator);
  }

  /**
   * Active, failure streak forgotten, due now. The owner's resume takes only a failed one (an active one keeps
   * its back-off); the operator's replay (no `creator`) takes any, to deliver a backlog at once. True when found.
   */
  async reactivate(
    tx: Tx,
    id: string,
    which: { readonly creator?: string; readonly onlyFailed: boolean },
  ): Promise<boolean> {
    const changed = await execute(
      tx.manager,
      `UPDATE subscriptions SET state = 'active', fails_counter = 0, next_attempt_at = now()
        WHERE id = $1 AND ($2::text IS NULL OR creator = $2) AND (NOT $3 OR state = 'failed')`,
      [id, which.creator ?? null, which.onlyFailed],
    );
    return changed > 0;
  }
}
