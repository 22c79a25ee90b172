import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  formatTimestamp,
  HALT_PROPAGATION_MS,
  type OrderProcessingStatus,
  type TopicCatalog,
} from '@notifications/contracts';
import { MessageProducer } from '@notifications/messaging';
import { TOPIC_CATALOG } from '@notifications/messaging/nest';
import { errorMessage } from '../domain/dependency-unavailable.error';
import { ORDERS_CONFIG } from '../config/tokens';
import { type OrdersConfig } from '../config/orders.config';
import { isUniqueViolation } from '../store/sql';
import { UnitOfWork } from '../store/unit-of-work';
import { EmailNotificationRepository } from '../store/email-notification.repository';
import { OutboxRepository } from '../store/outbox.repository';
import { RecipientResolver } from '../clients/recipient-resolver.service';
import { type EmailOrderRequest } from './email-order.request';
import { hashRequest } from './request-hash';
import {
  type EmailNotificationView,
  type EmailOrder,
  type NotificationCounts,
  type RecipientLookupSummary,
} from '../domain/order.model';
import { OrderRepository, type OrderSearch, type OrderSummary } from '../store/order.repository';

export class OrderNotFoundError extends Error {
  constructor(readonly orderId: string) {
    super(`Order ${orderId} was not found.`);
  }
}

export class OrderNotCancellableError extends Error {
  constructor(
    readonly orderId: string,
    readonly status: OrderProcessingStatus,
  ) {
    super(`Order ${orderId} is ${status}; only Registered orders can be cancelled.`);
  }
}

export class OrderNotHaltableError extends Error {
  constructor(
    readonly orderId: string,
    readonly status: OrderProcessingStatus,
  ) {
    super(`Order ${orderId} is ${status}; only Registered, Processing and Processed orders can be halted.`);
  }
}

/** The halt is recorded but Kafka has not acknowledged its record yet: not acknowledged, the caller retries. */
export class HaltNotAcknowledgedError extends Error {
  constructor(
    readonly orderId: string,
    cause: unknown,
  ) {
    super(
      `Order ${orderId} is halted, but the halt is not yet acknowledged by Kafka (${errorMessage(cause)}); ` +
        'emails may still be sent until it is: repeat the request.',
    );
  }
}

export class IdempotencyConflictError extends Error {
  constructor(readonly idempotencyKey: string) {
    super(`Idempotency-Key ${JSON.stringify(idempotencyKey)} was used before with a different request body.`);
  }
}

export interface CreatedOrder {
  readonly orderId: string;
  readonly recipientLookup?: RecipientLookupSummary;
  /** True when an earlier request with the same Idempotency-Key created the order. */
  readonly replayed: boolean;
}

// The unique index that makes (creator, Idempotency-Key) claim one order.
const IDEMPOTENCY_INDEX = 'orders_creator_idempotency_key';

/**
 * Who may see an order: its creator (the public API, the caller's `org`), or `ANY_CREATOR` for an operator on
 * the management listener (the operator console), who sees every creator's orders under the same rules.
 */
export type CreatorScope = string | typeof ANY_CREATOR;
export const ANY_CREATOR = undefined;

/** The order API's logic: creation (with idempotency), reads scoped to the creator, cancellation. */
@Injectable()
export class OrdersService {
  private readonly logger = new Logger(OrdersService.name);

  constructor(
    private readonly uow: UnitOfWork,
    private readonly orders: OrderRepository,
    private readonly notifications: EmailNotificationRepository,
    private readonly recipients: RecipientResolver,
    private readonly outbox: OutboxRepository,
    private readonly producer: MessageProducer,
    @Inject(ORDERS_CONFIG) private readonly config: OrdersConfig,
    @Inject(TOPIC_CATALOG) private readonly topics: TopicCatalog,
  ) {}

  async create(creator: string, request: EmailOrderRequest, idempotencyKey?: string): Promise<CreatedOrder> {
    const requestHash = hashRequest(request);
    if (idempotencyKey !== undefined) {
      const earlier = await this.replay(creator, idempotencyKey, requestHash);
      if (earlier !== undefined) return earlier;
    }
    const recipientLookup = await this.lookUp(request);
    const now = new Date();
    const id = randomUUID();
    try {
      await this.uow.run((tx) =>
        this.orders.insert(tx, {
          id,
          creator,
          ...(request.sendersReference === undefined ? {} : { sendersReference: request.sendersReference }),
          requestedSendTime: request.requestedSendTime ?? now,
          created: now,
          ...(request.ignoreReservation === undefined
            ? {}
            : { ignoreReservation: request.ignoreReservation }),
          ...(request.resourceId === undefined ? {} : { resourceId: request.resourceId }),
          ...(request.conditionEndpoint === undefined
            ? {}
            : { conditionEndpoint: request.conditionEndpoint }),
          recipients: request.recipients,
          email: {
            fromAddress: this.config.notifications.fromAddress,
            subject: request.subject,
            body: request.body,
            contentType: request.contentType,
          },
          ...(idempotencyKey === undefined ? {} : { idempotencyKey, requestHash }),
          ...(recipientLookup === undefined ? {} : { recipientLookup }),
        }),
      );
    } catch (error) {
      // Two requests with the same key raced: the other one created the order.
      if (idempotencyKey !== undefined && isUniqueViolation(error, IDEMPOTENCY_INDEX)) {
        const earlier = await this.replay(creator, idempotencyKey, requestHash);
        if (earlier !== undefined) return earlier;
      }
      throw error;
    }
    this.logger.log(`Order ${id} registered for ${creator} (${request.recipients.length} recipient(s))`);
    return { orderId: id, ...(recipientLookup === undefined ? {} : { recipientLookup }), replayed: false };
  }

  async get(creator: CreatorScope, id: string): Promise<EmailOrder> {
    const order = await this.orders.find(this.uow.autoCommit, id, creator);
    if (order === undefined) throw new OrderNotFoundError(id);
    return order;
  }

  async getWithCounts(
    creator: CreatorScope,
    id: string,
  ): Promise<{ order: EmailOrder; counts: NotificationCounts }> {
    const order = await this.get(creator, id);
    const counts = await this.notifications.counts(this.uow.autoCommit, id);
    return { order, counts };
  }

  /** The order's notifications: all of them, or one page (the operator console pages an order of 100 000). */
  async getEmailNotifications(
    creator: CreatorScope,
    id: string,
    page?: { readonly limit: number; readonly offset: number },
  ): Promise<{ order: EmailOrder; counts: NotificationCounts; notifications: EmailNotificationView[] }> {
    const { order, counts } = await this.getWithCounts(creator, id);
    const notifications = await this.notifications.listForOrder(this.uow.autoCommit, id, page);
    return { order, counts, notifications };
  }

  findBySendersReference(creator: string, sendersReference: string): Promise<EmailOrder[]> {
    return this.orders.findBySendersReference(this.uow.autoCommit, creator, sendersReference);
  }

  /** An operator's search over every creator's orders, newest first, a page at a time. */
  search(search: OrderSearch): Promise<OrderSummary[]> {
    return this.orders.search(this.uow.autoCommit, search);
  }

  async cancel(creator: CreatorScope, id: string): Promise<EmailOrder> {
    const outcome = await this.uow.run((tx) => this.orders.cancel(tx, id, creator));
    switch (outcome.kind) {
      case 'not-found':
        throw new OrderNotFoundError(id);
      case 'not-cancellable':
        throw new OrderNotCancellableError(id, outcome.status);
      case 'cancelled':
        this.logger.log(`Order ${id} cancelled by ${creator ?? 'an operator'}`);
        return this.get(creator, id);
    }
  }

  /**
   * Halts an order mid-flight (README "Halt"); `creator` undefined is the operators' halt. In one transaction: the
   * order is marked halted, its unsent notifications (New, and Sending whose email is still in the outbox) become
   * Cancelled, and an `orders.halted` record is written to the outbox as a backstop. Then the record is published
   * directly and awaited (acks=all, idempotent producer), and the answer waits HALT_PROPAGATION_MS more: email-sender
   * knows every halt Kafka acknowledged that long before a send. Idempotent: halting a halted order publishes
   * the same record again (harmless: a set) and answers the same. Throws OrderNotFoundError, OrderNotHaltableError
   * (a final order that was not halted) or HaltNotAcknowledgedError.
   */
  async halt(creator: CreatorScope, id: string): Promise<{ order: EmailOrder; counts: NotificationCounts }> {
    const halted = this.topics.ordersHalted;
    const outcome = await this.uow.run(async (tx) => {
      const result = await this.orders.halt(tx, id, creator);
      if (result.kind !== 'halted' || result.already) return result;
      const cancelled = await this.notifications.cancelUnsent(tx, id, this.topics.emailQueue.name);
      const record = { orderId: id, haltedAt: formatTimestamp(result.haltedAt) };
      await this.outbox.add(tx, [
        { topic: halted.name, key: halted.keyOf(record), payload: halted.contract.serialize(record) },
      ]);
      this.logger.log(
        `Order ${id} halted by ${creator ?? 'an operator'}: ${cancelled} unsent email(s) cancelled`,
      );
      return result;
    });
    switch (outcome.kind) {
      case 'not-found':
        throw new OrderNotFoundError(id);
      case 'final':
        throw new OrderNotHaltableError(id, outcome.status);
      case 'halted':
        break;
    }
    try {
      await this.producer.publish(halted, { orderId: id, haltedAt: formatTimestamp(outcome.haltedAt) });
    } catch (error) {
      throw new HaltNotAcknowledgedError(id, error);
    }
    // email-sender knows a halt HALT_PROPAGATION_MS after Kafka acknowledged it (it does not ask Kafka per send):
    // answering only then makes the answer the moment from which no send of the order starts.
    await sleep(HALT_PROPAGATION_MS);
    // An order whose notifications were all final already (its completion not yet run) ends Cancelled now.
    await this.orders.completeIfDone(this.uow.autoCommit, id);
    const order = await this.orders.find(this.uow.autoCommit, id);
    if (order === undefined) throw new OrderNotFoundError(id);
    return { order, counts: await this.notifications.counts(this.uow.autoCommit, id) };
  }

  private async replay(
    creator: string,
    idempotencyKey: string,
    requestHash: string,
  ): Promise<CreatedOrder | undefined> {
    const earlier = await this.orders.findByIdempotencyKey(this.uow.autoCommit, creator, idempotencyKey);
    if (earlier === undefined) return undefined;
    if (earlier.requestHash !== requestHash) throw new IdempotencyConflictError(idempotencyKey);
    return {
      orderId: earlier.order.id,
      ...(earlier.order.recipientLookup === undefined
        ? {}
        : { recipientLookup: earlier.order.recipientLookup }),
      replayed: true,
    };
  }

  /** Best effort: the order is accepted even when the register is down (it is consulted again at send time). */
  private async lookUp(request: EmailOrderRequest): Promise<RecipientLookupSummary | undefined> {
    try {
      return await this.recipients.summarise(request.recipients, request.ignoreReservation ?? false);
    } catch (error) {
      this.logger.warn(`Recipient look-up at order creation failed: ${errorMessage(error)}`);
      return undefined;
    }
  }
}
