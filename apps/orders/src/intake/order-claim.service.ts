import { Inject, Injectable, Logger } from '@nestjs/common';
import { type TopicCatalog } from '@notifications/contracts';
import { TOPIC_CATALOG } from '@notifications/messaging/nest';
import { type OrdersConfig } from '../config/orders.config';
import { ORDERS_CONFIG } from '../config/tokens';
import { MAX_PAST_DUE_MESSAGE_BYTES, toNotificationOrder } from '../domain/notification-order.mapper';
import { type ClaimedOrder } from '../domain/order.model';
import { OrderRepository } from '../store/order.repository';
import { OutboxRepository, type OutboxDraft } from '../store/outbox.repository';
import { UnitOfWork, type Tx } from '../store/unit-of-work';

/**
 * Step 2 of the email flow: claims due orders into the outbox (→ `orders.pastdue`), and re-drives orders whose
 * processing never finished. PastDueService processes the messages.
 */
@Injectable()
export class OrderClaimService {
  private readonly logger = new Logger(OrderClaimService.name);

  constructor(
    private readonly uow: UnitOfWork,
    private readonly orders: OrderRepository,
    private readonly outbox: OutboxRepository,
    @Inject(ORDERS_CONFIG) private readonly config: OrdersConfig,
    @Inject(TOPIC_CATALOG) private readonly topics: TopicCatalog,
  ) {}

  /**
   * Claims due Registered orders (`→ Processing`) and writes their `orders.pastdue` messages to the outbox in the
   * same transaction: a crash can lose neither the claim without the message nor the other way round.
   */
  async claimDueOrders(limit = this.config.scheduler.orderClaimBatchSize): Promise<number> {
    const claimed = await this.uow.run(async (tx) => {
      const orders = await this.orders.claimDue(
        tx,
        limit,
        this.config.notifications.pastDueInlineRecipients,
        this.config.scheduler.orderClaimBatchBytes,
      );
      await this.enqueue(tx, orders);
      return orders;
    });
    for (const order of claimed) this.logger.log(`Order ${order.id} is due: claimed for processing`);
    return claimed.length;
  }

  /** Sweeper: orders whose processing has not finished long after their claim get their message again. */
  async redriveStaleOrders(limit = this.config.scheduler.orderClaimBatchSize): Promise<number> {
    const claimed = await this.uow.run(async (tx) => {
      const orders = await this.orders.claimStale(
        tx,
        this.config.scheduler.processingStaleAfterMs,
        limit,
        this.config.notifications.pastDueInlineRecipients,
      );
      await this.enqueue(tx, orders);
      return orders;
    });
    for (const order of claimed) this.logger.warn(`Order ${order.id} stuck in Processing: message re-sent`);
    return claimed.length;
  }

  private async enqueue(tx: Tx, orders: readonly ClaimedOrder[]): Promise<void> {
    if (orders.length === 0) return;
    const topic = this.topics.ordersPastDue;
    const drafts = orders.map((order): OutboxDraft => {
      let message = toNotificationOrder(order);
      let payload = topic.contract.serialize(message);
      if (Buffer.byteLength(payload) > MAX_PAST_DUE_MESSAGE_BYTES && message.recipients.length > 0) {
        message = toNotificationOrder(order, false);
        payload = topic.contract.serialize(message);
      }
      // Published with the context of the request that created the order: one trace per order.
      return {
        topic: topic.name,
        key: topic.keyOf(message),
        payload,
        traceContext: order.traceContext ?? null,
      };
    });
    await this.outbox.add(tx, drafts);
  }
}
