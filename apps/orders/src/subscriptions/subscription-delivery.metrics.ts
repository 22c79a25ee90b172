import { Inject, Injectable } from '@nestjs/common';
import { METRIC_PREFIX, METRICS_REGISTRY } from '@notifications/observability';
import { Counter, type Registry } from 'prom-client';

/**
 * The counters of subscription delivery, by destination label (`http:<host>`, `kafka:<broker>/<topic>`: no path,
 * query or secret). The gauges of what is pending are read from the database at scrape time (ops/orders.metrics.ts).
 */
@Injectable()
export class SubscriptionDeliveryMetrics {
  private readonly sent: Counter<'destination'>;
  private readonly failed: Counter<'destination'>;
  private readonly dropped: Counter;

  constructor(@Inject(METRICS_REGISTRY) registry: Registry) {
    this.sent = new Counter({
      name: `${METRIC_PREFIX}subscription_events_sent_total`,
      help: 'Subscription events delivered (acknowledged by the destination), by destination',
      labelNames: ['destination'],
      registers: [registry],
    });
    this.failed = new Counter({
      name: `${METRIC_PREFIX}subscription_events_failed_total`,
      help: 'Failed deliveries (an HTTP request or a Kafka send that was not acknowledged), by destination',
      labelNames: ['destination'],
      registers: [registry],
    });
    this.dropped = new Counter({
      name: `${METRIC_PREFIX}subscription_events_dropped_total`,
      help: 'Undelivered subscription events dropped after SUBSCRIPTIONS_EVENT_RETENTION',
      registers: [registry],
    });
  }

  delivered(destination: string, events: number): void {
    if (events > 0) this.sent.inc({ destination }, events);
  }

  deliveryFailed(destination: string): void {
    this.failed.inc({ destination });
  }

  droppedEvents(events: number): void {
    if (events > 0) this.dropped.inc(events);
  }
}
