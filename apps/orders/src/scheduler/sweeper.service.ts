import { Inject, Injectable, Logger } from '@nestjs/common';
import { ORDERS_CONFIG } from '../config/tokens';
import { type OrdersConfig } from '../config/orders.config';
import { UnitOfWork } from '../store/unit-of-work';
import { EmailNotificationRepository } from '../store/email-notification.repository';
import { OrderRepository } from '../store/order.repository';
import { OutboxRepository } from '../store/outbox.repository';
import { OrderClaimService } from '../intake/order-claim.service';
import { SubscriptionDeliveryRepository } from '../store/subscription-delivery.repository';
import { SubscriptionDeliveryMetrics } from '../subscriptions/subscription-delivery.metrics';

export interface SweepReport {
  readonly expired: number;
  readonly redrivenSending: number;
  readonly redrivenOrders: number;
  readonly completedOrders: number;
  readonly deletedOutboxRows: number;
  /** Undelivered subscription events older than SUBSCRIPTIONS_EVENT_RETENTION, dropped. */
  readonly droppedSubscriptionEvents: number;
}

const BATCH = 1_000;
// Bounds one sweep; what is left is picked up by the next one.
const MAX_BATCHES = 20;

/**
 * Nothing stays in a middle state forever: unfinished notifications past expiry + grace become Failed_TTL,
 * notifications stuck in Sending and orders stuck in Processing are re-driven, orders with nothing pending are
 * completed, published outbox rows past retention are deleted, and so are subscription events still undelivered after
 * theirs (a failed or long-unreachable destination's backlog is bounded). (The outbox relay needs no sweep: it holds rows
 * only in its open transaction, which ends with the relay.)
 */
@Injectable()
export class SweeperService {
  private readonly logger = new Logger(SweeperService.name);

  constructor(
    private readonly uow: UnitOfWork,
    private readonly notifications: EmailNotificationRepository,
    private readonly orders: OrderRepository,
    private readonly outbox: OutboxRepository,
    private readonly claims: OrderClaimService,
    private readonly subscriptionEvents: SubscriptionDeliveryRepository,
    private readonly subscriptionMetrics: SubscriptionDeliveryMetrics,
    @Inject(ORDERS_CONFIG) private readonly config: OrdersConfig,
  ) {}

  async sweep(): Promise<SweepReport> {
    const { scheduler, notifications } = this.config;
    let expired = 0;
    for (let batch = 0; batch < MAX_BATCHES; batch += 1) {
      const result = await this.uow.run((tx) =>
        this.notifications.expireUnfinished(tx, notifications.expiryGraceMs, BATCH),
      );
      expired += result.expired;
      for (const orderId of result.orderIds) await this.orders.completeIfDone(this.uow.autoCommit, orderId);
      if (result.expired < BATCH) break;
    }
    const redrivenSending = await this.uow.run((tx) =>
      this.notifications.redriveStaleSending(
        tx,
        scheduler.sendingStaleAfterMs,
        scheduler.sendingMaxRedrives,
        BATCH,
      ),
    );
    const redrivenOrders = await this.claims.redriveStaleOrders();
    let completedOrders = 0;
    for (let batch = 0; batch < MAX_BATCHES; batch += 1) {
      const completed = await this.uow.run((tx) => this.orders.completeFinished(tx, BATCH));
      completedOrders += completed;
      if (completed < BATCH) break;
    }
    let deletedOutboxRows = 0;
    for (let batch = 0; batch < MAX_BATCHES; batch += 1) {
      const deleted = await this.uow.run((tx) =>
        this.outbox.deletePublished(tx, scheduler.outboxRetentionMs, BATCH * 10),
      );
      deletedOutboxRows += deleted;
      if (deleted < BATCH * 10) break;
    }
    let droppedSubscriptionEvents = 0;
    for (let batch = 0; batch < MAX_BATCHES; batch += 1) {
      const dropped = await this.uow.run((tx) =>
        this.subscriptionEvents.dropExpiredEvents(tx, this.config.subscriptions.eventRetentionMs, BATCH * 10),
      );
      droppedSubscriptionEvents += dropped;
      this.subscriptionMetrics.droppedEvents(dropped);
      if (dropped < BATCH * 10) break;
    }
    const report = {
      expired,
      redrivenSending,
      redrivenOrders,
      completedOrders,
      deletedOutboxRows,
      droppedSubscriptionEvents,
    };
    if (expired + redrivenSending + redrivenOrders + completedOrders + droppedSubscriptionEvents > 0) {
      this.logger.log(`Sweep: ${JSON.stringify(report)}`);
    }
    return report;
  }
}
