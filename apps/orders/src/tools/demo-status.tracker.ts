import {
  isFinalOrderStatus,
  type EmailNotificationResultType,
  type OrderProcessingStatus,
} from '@notifications/contracts';
import { isPending } from '../domain/email-status.rules';

/** One notification as the demo sees it in `GET /orders/{id}/notifications/email`. */
export interface NotificationSnapshot {
  readonly id: string;
  readonly recipient: string;
  readonly status: EmailNotificationResultType;
}

export interface NotificationStatusChange {
  readonly kind: 'notification';
  readonly elapsedMs: number;
  readonly id: string;
  readonly recipient: string;
  /** Absent the first time the notification is seen. */
  readonly from?: EmailNotificationResultType;
  readonly to: EmailNotificationResultType;
  readonly final: boolean;
}

export interface OrderStatusChange {
  readonly kind: 'order';
  readonly elapsedMs: number;
  readonly from?: OrderProcessingStatus;
  readonly to: OrderProcessingStatus;
}

export type StatusChange = NotificationStatusChange | OrderStatusChange;

export interface NotificationSummaryRow {
  readonly id: string;
  readonly recipient: string;
  readonly status: EmailNotificationResultType;
  readonly final: boolean;
  /** From the start of the run to the first time the final status was seen; absent while pending. */
  readonly timeToFinalMs?: number;
}

interface TrackedNotification {
  readonly recipient: string;
  status: EmailNotificationResultType;
  finalAtMs?: number;
}

/**
 * Turns successive reads of an order's notification list (one per progress event) into one change event per
 * status change. The demo only sees what the API shows when it reads, so a status that comes and goes between two
 * reads (e.g. `Succeeded` followed by `Delivered` between two events) is never reported — and a notification can
 * move "back" to `New`, which is how orders re-sends after a `Failed_TransientError` (a throttled send).
 */
export class NotificationStatusTracker {
  private readonly notifications = new Map<string, TrackedNotification>();
  private orderStatus: OrderProcessingStatus | undefined;
  private orderFinalAtMs: number | undefined;

  /** @param startedAtMs the clock reading elapsed times are measured from (the POST). */
  constructor(private readonly startedAtMs: number) {}

  observeOrder(status: OrderProcessingStatus, atMs: number): OrderStatusChange | undefined {
    if (status === this.orderStatus) return undefined;
    const from = this.orderStatus;
    this.orderStatus = status;
    const elapsedMs = atMs - this.startedAtMs;
    if (isFinalOrderStatus(status)) this.orderFinalAtMs ??= elapsedMs;
    return { kind: 'order', elapsedMs, ...(from === undefined ? {} : { from }), to: status };
  }

  observeNotifications(snapshots: readonly NotificationSnapshot[], atMs: number): NotificationStatusChange[] {
    const elapsedMs = atMs - this.startedAtMs;
    const changes: NotificationStatusChange[] = [];
    for (const { id, recipient, status } of snapshots) {
      const tracked = this.notifications.get(id);
      if (tracked?.status === status) continue;
      const from = tracked?.status;
      const final = !isPending(status);
      if (tracked === undefined) {
        this.notifications.set(id, { recipient, status, ...(final ? { finalAtMs: elapsedMs } : {}) });
      } else {
        tracked.status = status;
        // A final status is never left (forward-only transitions), so the first sighting is the time to final.
        if (final) tracked.finalAtMs ??= elapsedMs;
      }
      changes.push({
        kind: 'notification',
        elapsedMs,
        id,
        recipient,
        ...(from === undefined ? {} : { from }),
        to: status,
        final,
      });
    }
    return changes;
  }

  get order(): OrderProcessingStatus | undefined {
    return this.orderStatus;
  }

  /** Elapsed time at which the order was first seen in a final status. */
  get orderFinalAfterMs(): number | undefined {
    return this.orderFinalAtMs;
  }

  get orderFinal(): boolean {
    return this.orderStatus !== undefined && isFinalOrderStatus(this.orderStatus);
  }

  /** The order is `Completed` and every notification it generated has a final status. */
  get done(): boolean {
    return this.orderStatus === 'Completed' && this.pending().length === 0;
  }

  pending(): NotificationSummaryRow[] {
    return this.summary().filter((row) => !row.final);
  }

  /** One row per notification, in the order they were first seen. */
  summary(): NotificationSummaryRow[] {
    return [...this.notifications.entries()].map(([id, { recipient, status, finalAtMs }]) => ({
      id,
      recipient,
      status,
      final: !isPending(status),
      ...(finalAtMs === undefined ? {} : { timeToFinalMs: finalAtMs }),
    }));
  }
}
