import { Injectable } from '@nestjs/common';
import { type EmailNotificationResultType, type OrderProcessingStatus } from '@notifications/contracts';
import { queryRows } from './sql';
import { type Tx } from './unit-of-work';

/** What one progress snapshot is computed from, read in one statement. */
export interface OrderProgressRow {
  readonly orderStatus: OrderProcessingStatus;
  /** When the order's processing started (claimed), if it has. */
  readonly claimedAt?: Date;
  /** The database's clock when the row was read: rates, pauses and ETAs are measured against it. */
  readonly readAt: Date;
  /** The latest change the snapshot reflects: the order's status change or a notification's result change. */
  readonly lastChangeAt: Date;
  readonly counts: Readonly<Partial<Record<EmailNotificationResultType, number>>>;
  /** Notifications per result whose result changed within the recent window. */
  readonly recentCounts: Readonly<Partial<Record<EmailNotificationResultType, number>>>;
  /** The end of the rate-limit pause of `resource`, when one is in force. */
  readonly pausedUntil?: Date;
}

interface Row {
  processing_status: OrderProcessingStatus;
  claimed_at: Date | null;
  status_changed: Date;
  read_at: Date;
  paused_until: Date | null;
  result: EmailNotificationResultType | null;
  n: number | null;
  recent: number | null;
  last_change: Date | null;
}

/** The progress read of an order (index `email_notifications_order_progress`, see its migration). */
@Injectable()
export class OrderProgressRepository {
  /**
   * The order's status and its notifications counted per result, in one round trip; undefined when there is no
   * such order (of `creator`, when given). The counts are an index-only scan of the order's entries in
   * `email_notifications_order_progress` (no table row is read once the visibility map is current).
   */
  async read(
    tx: Tx,
    orderId: string,
    creator: string | undefined,
    resource: string,
    windowMs: number,
  ): Promise<OrderProgressRow | undefined> {
    const rows = await queryRows<Row>(
      tx.manager,
      `SELECT o.processing_status, o.claimed_at, o.status_changed, now() AS read_at,
              (SELECT paused_until FROM rate_limit_pauses WHERE resource = $3 AND paused_until > now()) AS paused_until,
              c.result, c.n, c.recent, c.last_change
         FROM orders o
         LEFT JOIN LATERAL (
           SELECT n.result, count(*)::int AS n,
                  count(*) FILTER (WHERE n.result_time > now() - ($4::float8 * interval '1 millisecond'))::int AS recent,
                  max(n.result_time) AS last_change
             FROM email_notifications n
            WHERE n.order_id = o.id
            GROUP BY n.result
         ) c ON true
        WHERE o.id = $1 AND ($2::text IS NULL OR o.creator = $2)`,
      [orderId, creator ?? null, resource, windowMs],
    );
    const first = rows[0];
    if (first === undefined) return undefined;
    const counts: Partial<Record<EmailNotificationResultType, number>> = {};
    const recentCounts: Partial<Record<EmailNotificationResultType, number>> = {};
    let lastChangeAt = first.status_changed;
    for (const row of rows) {
      if (row.result === null) continue;
      counts[row.result] = row.n ?? 0;
      if ((row.recent ?? 0) > 0) recentCounts[row.result] = row.recent ?? 0;
      if (row.last_change !== null && row.last_change > lastChangeAt) lastChangeAt = row.last_change;
    }
    return {
      orderStatus: first.processing_status,
      ...(first.claimed_at === null ? {} : { claimedAt: first.claimed_at }),
      readAt: first.read_at,
      lastChangeAt,
      counts,
      recentCounts,
      ...(first.paused_until === null ? {} : { pausedUntil: first.paused_until }),
    };
  }
}
