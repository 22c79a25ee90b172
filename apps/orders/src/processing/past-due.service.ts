import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  type NotificationOrder,
  type OrderProcessingStatus,
  type TopicCatalog,
} from '@notifications/contracts';
import { TOPIC_CATALOG } from '@notifications/messaging/nest';
import { ORDERS_CONFIG } from '../common/tokens';
import { type OrdersConfig } from '../config/orders.config';
import { UnitOfWork, type Tx } from '../database/unit-of-work';
import { EmailNotificationRepository } from '../notifications/email-notification.repository';
import { OrderRepository, type ClaimedOrder } from '../orders/order.repository';
import { OutboxRepository, type OutboxDraft } from '../outbox/outbox.repository';
import { MAX_PAST_DUE_MESSAGE_BYTES, toNotificationOrder } from './notification-order.mapper';
import { RecipientResolver } from './recipient-resolver.service';
import { SendConditionClient, SendConditionUnavailableError } from './send-condition.client';

export type ProcessOutcome =
  | {
      readonly kind: 'processed';
      readonly status: OrderProcessingStatus;
      readonly created: number;
      readonly total: number;
    }
  | { readonly kind: 'condition-not-met' }
  | { readonly kind: 'condition-not-evaluated'; readonly reason: string }
  | { readonly kind: 'skipped'; readonly status: OrderProcessingStatus }
  | { readonly kind: 'unknown-order' };

/**
 * Step 2 and 3 of the email flow: claims due orders into the outbox (→ `orders.pastdue`), and turns a
 * `NotificationOrder` into email notifications, idempotently.
 */
@Injectable()
export class PastDueService {
  private readonly logger = new Logger(PastDueService.name);

  constructor(
    private readonly uow: UnitOfWork,
    private readonly orders: OrderRepository,
    private readonly notifications: EmailNotificationRepository,
    private readonly outbox: OutboxRepository,
    private readonly recipients: RecipientResolver,
    private readonly sendCondition: SendConditionClient,
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

  /**
   * Creates the order's email notifications. Idempotent: a redelivered message finds the order no longer in
   * Processing (or its notifications already there) and creates nothing. Throws DependencyUnavailableError when
   * the contact-point register cannot answer, SendConditionUnavailableError when the send-condition endpoint
   * fails in a way that may pass (a refused endpoint ends the order here).
   */
  async processOrder(message: NotificationOrder): Promise<ProcessOutcome> {
    const order = await this.orders.find(this.uow.autoCommit, message.id);
    if (order === undefined) return { kind: 'unknown-order' };
    if (order.processingStatus !== 'Processing') return { kind: 'skipped', status: order.processingStatus };

    if (order.conditionEndpoint !== undefined) {
      let met: boolean;
      try {
        met = await this.sendCondition.isMet(order.conditionEndpoint);
      } catch (error) {
        // A refused URL stays refused: stop now. Other failures are retried by the consumer, then stopped.
        if (!(error instanceof SendConditionUnavailableError) || !error.isPermanent) throw error;
        await this.stopUnevaluatedCondition(order.id, error.reason);
        return { kind: 'condition-not-evaluated', reason: error.reason };
      }
      if (!met) {
        const changed = await this.uow.run((tx) =>
          this.orders.finishProcessing(tx, order.id, 'SendConditionNotMet'),
        );
        if (changed) this.logger.log(`Order ${order.id}: send condition not met`);
        return { kind: 'condition-not-met' };
      }
    }

    // Outside the transaction: no row lock is held while the register answers.
    const drafts = await this.recipients.resolve(order.recipients, order.ignoreReservation ?? false);
    const expiry = new Date(order.requestedSendTime.getTime() + this.config.notifications.expiryMs);

    const outcome = await this.uow.run(async (tx): Promise<ProcessOutcome> => {
      // Serialises concurrent deliveries of the same order (e.g. a redelivery during a rebalance).
      const status = await this.orders.lockStatus(tx, order.id);
      if (status !== 'Processing') return { kind: 'skipped', status: status ?? order.processingStatus };
      const created = await this.notifications.insertMany(tx, order.id, drafts, expiry);
      const pending = await this.notifications.hasPending(tx, order.id);
      const next: OrderProcessingStatus = pending ? 'Processed' : 'Completed';
      await this.orders.finishProcessing(tx, order.id, next);
      return { kind: 'processed', status: next, created, total: drafts.length };
    });
    if (outcome.kind === 'processed') {
      this.logger.log(
        `Order ${order.id} ${outcome.status}: ${outcome.created} notification(s) created (${outcome.total} recipients' addresses)`,
      );
    }
    return outcome;
  }

  /**
   * The send condition could not be evaluated (refused URL, or every attempt failed): the order ends
   * `SendConditionNotMet` with the reason, as a condition that is not known to be met. Nothing is sent; the
   * reference would send on its one retry instead (README, "Send condition").
   */
  async stopUnevaluatedCondition(orderId: string, reason: string): Promise<boolean> {
    const stopped = await this.uow.run((tx) =>
      this.orders.finishProcessing(
        tx,
        orderId,
        'SendConditionNotMet',
        `The send condition could not be evaluated: ${reason}`,
      ),
    );
    if (stopped)
      this.logger.warn(`Order ${orderId}: send condition could not be evaluated (${reason}); stopped`);
    return stopped;
  }

  /** Retries are exhausted: the order goes back to Registered (claimable after a delay), never stuck. */
  async requeueAfterFailure(orderId: string, error: string): Promise<boolean> {
    const requeued = await this.uow.run((tx) =>
      this.orders.requeue(tx, orderId, error, this.config.scheduler.requeueDelayMs),
    );
    if (requeued) {
      this.logger.error(
        `Order ${orderId} could not be processed (${error}); back to Registered, retried in ${this.config.scheduler.requeueDelayMs} ms`,
      );
    }
    return requeued;
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
