import { Inject, Injectable, Logger } from '@nestjs/common';
import { type NotificationOrder, type OrderProcessingStatus } from '@notifications/contracts';
import { ORDERS_CONFIG } from '../config/tokens';
import { type OrdersConfig } from '../config/orders.config';
import { UnitOfWork } from '../store/unit-of-work';
import { EmailNotificationRepository } from '../store/email-notification.repository';
import { OrderRepository } from '../store/order.repository';
import { RecipientResolver } from '../clients/recipient-resolver.service';
import { SendConditionClient, SendConditionUnavailableError } from './send-condition.client';
import { WeightedSemaphore } from '../domain/weighted-semaphore';

// Recipients drafted and inserted at a time (one INSERT each, as the repository's own chunk).
const INTAKE_SLICE = 5_000;

export type ProcessOutcome =
  | {
      readonly kind: 'processed';
      readonly status: OrderProcessingStatus;
      readonly created: number;
      /** The order's recipients. */
      readonly total: number;
    }
  | { readonly kind: 'condition-not-met' }
  | { readonly kind: 'condition-not-evaluated'; readonly reason: string }
  | { readonly kind: 'skipped'; readonly status: OrderProcessingStatus }
  | { readonly kind: 'unknown-order' };

/**
 * Step 3 of the email flow: turns a `NotificationOrder` (from `orders.pastdue`) into email notifications,
 * idempotently. Claiming the due orders that produce those messages is OrderClaimService's job.
 */
@Injectable()
export class PastDueService {
  private readonly logger = new Logger(PastDueService.name);
  /**
   * ORDERS_EXPANSION_RECIPIENTS_IN_FLIGHT: an order counts with all its recipients although it holds at most one
   * slice of them at a time, so one large order expands alone (its slices' INSERTs are the heaviest writes orders
   * makes) while many small ones share the bound.
   */
  private readonly expansion: WeightedSemaphore;

  constructor(
    private readonly uow: UnitOfWork,
    private readonly orders: OrderRepository,
    private readonly notifications: EmailNotificationRepository,
    private readonly recipients: RecipientResolver,
    private readonly sendCondition: SendConditionClient,
    @Inject(ORDERS_CONFIG) private readonly config: OrdersConfig,
  ) {
    this.expansion = new WeightedSemaphore(config.consumer.expansionRecipientsInFlight);
  }

  /**
   * Creates the order's email notifications. Idempotent: a redelivered message finds the order no longer in
   * Processing (or its notifications already there) and creates nothing. Throws DependencyUnavailableError when
   * the contact-point register cannot answer, SendConditionUnavailableError when the send-condition endpoint
   * fails in a way that may pass (a refused endpoint ends the order here).
   */
  async processOrder(message: NotificationOrder): Promise<ProcessOutcome> {
    // Small orders carry their recipients inline; a large one's count is one indexed row away.
    const recipients =
      message.recipients.length > 0
        ? message.recipients.length
        : ((await this.orders.recipientCount(this.uow.autoCommit, message.id)) ?? 0);
    // Waits for as long as the orders ahead take: each makes progress on its own, and the consumer heartbeats.
    const release = await this.expansion.acquire(recipients, { timeoutMs: Number.POSITIVE_INFINITY });
    try {
      return await this.expand(message);
    } finally {
      release?.();
    }
  }

  private async expand(message: NotificationOrder): Promise<ProcessOutcome> {
    const order = await this.orders.findToExpand(this.uow.autoCommit, message.id);
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

    const expiry = new Date(order.requestedSendTime.getTime() + this.config.notifications.expiryMs);

    // One transaction per slice, not one for the order: a write transaction holds PostgreSQL's horizon back for as
    // long as it runs, and while it does, the entries the relays and claimers leave behind in the queue-like
    // partial indexes (outbox_unpublished, email_notifications_new_due) cannot be pruned, so every claim re-reads
    // them. One transaction for 100 000 recipients ran ~4 s and made the relay's claim read 4.2 → 12.5 index entries
    // per notification from 10 000 to 500 000 recipients (5.0 at 500 000 in slices); a slice's transaction is short
    // whatever the order's size.
    // Each slice locks the order and goes on only while it is Processing (a halt, which locks it too, stops the
    // rest); a slice that committed stays, and a redelivery inserts only what is missing (ON CONFLICT), so a crash
    // between slices loses nothing and doubles nothing. Notifications of committed slices may be sent before the
    // last slice commits: the order becomes Processed (or Completed) only in the final step, which is what
    // completion waits for.
    let created = 0;
    for (let start = 0; start < order.recipientCount; start += INTAKE_SLICE) {
      // A slice of recipients at a time, in order, read from the order's row: drafting 100 000 recipients at once
      // allocated ≈ 22 MB, and reading the whole list (its JSON text, the buffer pg reads it into, an object per
      // recipient) was a step of ~20 MB in orders' RSS at every large intake (issue 12). The insert keeps the first
      // notification of a recipient key, in the same order the whole order's drafts would. Read and looked up
      // outside the slice's transaction: no row lock is held while the register answers.
      const recipients = await this.orders.recipientSlice(this.uow.autoCommit, order.id, start, INTAKE_SLICE);
      const drafts = await this.recipients.draft(recipients, order.ignoreReservation ?? false);
      const slice = await this.uow.run(
        async (tx): Promise<{ inserted: number } | { stoppedAt: OrderProcessingStatus }> => {
          const status = await this.orders.lockStatus(tx, order.id);
          if (status !== 'Processing') return { stoppedAt: status ?? order.processingStatus };
          return { inserted: await this.notifications.insertMany(tx, order.id, drafts, expiry) };
        },
      );
      if ('stoppedAt' in slice) return { kind: 'skipped', status: slice.stoppedAt };
      created += slice.inserted;
    }
    const outcome = await this.uow.run(async (tx): Promise<ProcessOutcome> => {
      // Serialises concurrent deliveries of the same order (e.g. a redelivery during a rebalance).
      const status = await this.orders.lockStatus(tx, order.id);
      if (status !== 'Processing') return { kind: 'skipped', status: status ?? order.processingStatus };
      const pending = await this.notifications.hasPending(tx, order.id);
      const next: OrderProcessingStatus = pending ? 'Processed' : 'Completed';
      await this.orders.finishProcessing(tx, order.id, next);
      return { kind: 'processed', status: next, created, total: order.recipientCount };
    });
    if (outcome.kind === 'processed') {
      this.logger.log(
        `Order ${order.id} ${outcome.status}: ${outcome.created} notification(s) created for ${outcome.total} recipient(s)`,
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
}
