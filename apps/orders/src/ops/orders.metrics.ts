import { Inject, Injectable, Logger } from '@nestjs/common';
import { METRIC_PREFIX, METRICS_REGISTRY } from '@notifications/observability';
import { Gauge, type Registry } from 'prom-client';
import { queryRows } from '../store/sql';
import { UnitOfWork } from '../store/unit-of-work';
import { OutboxRepository } from '../store/outbox.repository';
import { SubscriptionDeliveryRepository } from '../store/subscription-delivery.repository';
import { destinationLabel } from '../domain/subscription-events';
import { OrderProgressService } from '../progress/order-progress.service';

interface StateCounts {
  readonly outboxUnpublished: number;
  readonly outboxOldestAgeSeconds: number;
  readonly orders: readonly { status: string; count: number }[];
  readonly notifications: readonly { result: string; count: number }[];
  /** Per destination label: pending subscription events and the oldest one's age. */
  readonly subscriptionBacklog: ReadonlyMap<string, { pending: number; oldestAgeSeconds: number }>;
}

// Several scrapers (or a scrape per gauge) within this window share one set of queries.
const CACHE_MS = 5_000;

/**
 * Gauges read from the database at scrape time: the outbox backlog, orders and email notifications by status, and
 * the subscription events pending per destination. Each is one grouped COUNT over a column with a handful of values,
 * at most once per 5 s however often Prometheus scrapes; a failed read keeps the previous values (and is logged) rather than failing `/metrics`.
 */
@Injectable()
export class OrdersMetrics {
  private readonly logger = new Logger(OrdersMetrics.name);
  private cached: { at: number; counts: Promise<StateCounts | undefined> } | undefined;

  constructor(
    @Inject(METRICS_REGISTRY) registry: Registry,
    private readonly uow: UnitOfWork,
    private readonly outbox: OutboxRepository,
    private readonly subscriptions: SubscriptionDeliveryRepository,
    progress: OrderProgressService,
  ) {
    const read = (): Promise<StateCounts | undefined> => this.counts();
    // In memory, per process: no query.
    new Gauge({
      name: `${METRIC_PREFIX}progress_streams`,
      help: 'Open order progress streams (Server-Sent Events) of this process',
      registers: [registry],
      collect() {
        this.set(progress.activity().streams);
      },
    });
    new Gauge({
      name: `${METRIC_PREFIX}progress_watched_orders`,
      help: 'Orders with a progress poll loop in this process (one per order, shared by its streams)',
      registers: [registry],
      collect() {
        this.set(progress.activity().watchedOrders);
      },
    });
    const fromDatabase = (name: string, help: string, pick: (counts: StateCounts) => number): void => {
      new Gauge({
        name: `${METRIC_PREFIX}${name}`,
        help,
        registers: [registry],
        async collect() {
          const counts = await read();
          if (counts) this.set(pick(counts));
        },
      });
    };
    // Reset on every read that succeeds: a label value gone from the database leaves the gauge.
    const byLabelFromDatabase = (
      name: string,
      help: string,
      label: string,
      pick: (counts: StateCounts) => Iterable<readonly [string, number]>,
    ): void => {
      new Gauge({
        name: `${METRIC_PREFIX}${name}`,
        help,
        labelNames: [label],
        registers: [registry],
        async collect() {
          const counts = await read();
          if (!counts) return;
          this.reset();
          for (const [value, count] of pick(counts)) this.set({ [label]: value }, count);
        },
      });
    };
    fromDatabase(
      'outbox_backlog',
      'Outbox rows not yet published to Kafka',
      (counts) => counts.outboxUnpublished,
    );
    fromDatabase(
      'outbox_oldest_unpublished_age_seconds',
      'Age of the oldest unpublished outbox row (0 when the outbox is empty)',
      (counts) => counts.outboxOldestAgeSeconds,
    );
    byLabelFromDatabase('orders', 'Notification orders by processing status', 'status', (counts) =>
      counts.orders.map(({ status, count }) => [status, count] as const),
    );
    byLabelFromDatabase(
      'email_notifications',
      'Email notifications by result (New, Sending, Succeeded, Delivered, Failed_…)',
      'status',
      (counts) => counts.notifications.map(({ result, count }) => [result, count] as const),
    );
    byLabelFromDatabase(
      'subscription_events_pending',
      'Subscription events not yet delivered, by destination (http:<host>, kafka:<broker>/<topic>)',
      'destination',
      (counts) =>
        [...counts.subscriptionBacklog].map(([destination, { pending }]) => [destination, pending] as const),
    );
    byLabelFromDatabase(
      'subscription_oldest_pending_seconds',
      'Age of the oldest undelivered subscription event, by destination (0 when none is pending)',
      'destination',
      (counts) =>
        [...counts.subscriptionBacklog].map(
          ([destination, { oldestAgeSeconds }]) => [destination, oldestAgeSeconds] as const,
        ),
    );
  }

  private counts(): Promise<StateCounts | undefined> {
    const now = Date.now();
    if (this.cached === undefined || now - this.cached.at >= CACHE_MS) {
      this.cached = { at: now, counts: this.query() };
    }
    return this.cached.counts;
  }

  private async query(): Promise<StateCounts | undefined> {
    const tx = this.uow.autoCommit;
    try {
      const [backlog, orders, notifications, subscriptions] = await Promise.all([
        this.outbox.backlog(tx),
        queryRows<{ status: string; count: number }>(
          tx.manager,
          'SELECT processing_status AS status, count(*)::int AS count FROM orders GROUP BY processing_status',
        ),
        queryRows<{ result: string; count: number }>(
          tx.manager,
          'SELECT result, count(*)::int AS count FROM email_notifications GROUP BY result',
        ),
        this.subscriptions.deliveryStates(tx),
      ]);
      const subscriptionBacklog = new Map<string, { pending: number; oldestAgeSeconds: number }>();
      for (const subscription of subscriptions) {
        const destination = destinationLabel(subscription.destination);
        const ageSeconds =
          subscription.oldestPending === null
            ? 0
            : Math.max(0, (Date.now() - subscription.oldestPending.getTime()) / 1000);
        const sum = subscriptionBacklog.get(destination) ?? { pending: 0, oldestAgeSeconds: 0 };
        subscriptionBacklog.set(destination, {
          pending: sum.pending + subscription.pending,
          oldestAgeSeconds: Math.max(sum.oldestAgeSeconds, ageSeconds),
        });
      }
      return {
        outboxUnpublished: backlog.unpublished,
        outboxOldestAgeSeconds:
          backlog.oldestCreatedAt === undefined
            ? 0
            : Math.max(0, (Date.now() - backlog.oldestCreatedAt.getTime()) / 1000),
        orders,
        notifications,
        subscriptionBacklog,
      };
    } catch (error) {
      this.logger.warn({
        msg: 'Could not read the state counts for /metrics; keeping the previous values',
        err: error,
      });
      return undefined;
    }
  }
}
