import { randomBytes, randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { ORDERS_CONFIG } from '../config/tokens';
import { type OrdersConfig } from '../config/orders.config';
import { type SubscriptionRecord } from '../domain/subscription.model';
import { SubscriptionRepository } from '../store/subscription.repository';
import { UnitOfWork } from '../store/unit-of-work';
import { type SubscriptionRequest } from './subscription.request';

export class SubscriptionNotFoundError extends Error {
  constructor(readonly subscriptionId: string) {
    super(`Subscription ${subscriptionId} was not found.`);
  }
}

export class SubscriptionLimitError extends Error {
  constructor(readonly max: number) {
    super(
      `The organisation holds ${max} subscriptions, as many as allowed (SUBSCRIPTIONS_MAX_PER_CREATOR): ` +
        'delete one to create another.',
    );
  }
}

/** A new subscription with its signing secret, which is shown this once and never again. */
export interface CreatedSubscription {
  readonly subscription: SubscriptionRecord;
  readonly secret: string;
}

// 32 random bytes: the HMAC-SHA256 key length (RFC 2104 recommends at least the hash's output length).
const SECRET_BYTES = 32;

/** The subscriptions API's logic, every read and write scoped to the caller's organisation. */
@Injectable()
export class SubscriptionsService {
  private readonly logger = new Logger(SubscriptionsService.name);

  constructor(
    private readonly uow: UnitOfWork,
    private readonly subscriptions: SubscriptionRepository,
    @Inject(ORDERS_CONFIG) private readonly config: OrdersConfig,
  ) {}

  async create(creator: string, request: SubscriptionRequest): Promise<CreatedSubscription> {
    const id = randomUUID();
    const secret = randomBytes(SECRET_BYTES).toString('base64url');
    const max = this.config.subscriptions.maxPerCreator;
    const subscription = await this.uow.run(async (tx) => {
      const inserted = await this.subscriptions.insertWithinLimit(
        tx,
        {
          id,
          creator,
          ...(request.description === undefined ? {} : { description: request.description }),
          filter: request.filter,
          events: request.events,
          destination: request.destination,
          ...(request.custom === undefined ? {} : { custom: request.custom }),
          signingSecret: secret,
          ...(request.expires === undefined ? {} : { expires: request.expires }),
        },
        max,
      );
      if (!inserted) throw new SubscriptionLimitError(max);
      return this.subscriptions.find(tx, id, creator);
    });
    if (subscription === undefined) throw new SubscriptionNotFoundError(id);
    // The destination is not logged: a URL may carry a receiver's token in its query.
    const kind = 'http' in request.destination ? 'http' : 'kafka';
    this.logger.log(`Subscription ${id} (${kind}) created for ${creator}`);
    return { subscription, secret };
  }

  list(creator: string): Promise<SubscriptionRecord[]> {
    return this.subscriptions.list(this.uow.autoCommit, creator);
  }

  async get(creator: string, id: string): Promise<SubscriptionRecord> {
    const subscription = await this.subscriptions.find(this.uow.autoCommit, id, creator);
    if (subscription === undefined) throw new SubscriptionNotFoundError(id);
    return subscription;
  }

  async delete(creator: string, id: string): Promise<void> {
    if (!(await this.subscriptions.delete(this.uow.autoCommit, id, creator))) {
      throw new SubscriptionNotFoundError(id);
    }
    this.logger.log(`Subscription ${id} deleted by ${creator}`);
  }

  /** A failed subscription becomes active again (its events are tried at once); an active one is unchanged. */
  async resume(creator: string, id: string): Promise<SubscriptionRecord> {
    const subscription = await this.uow.run((tx) => this.subscriptions.resume(tx, id, creator));
    if (subscription === undefined) throw new SubscriptionNotFoundError(id);
    return subscription;
  }
}
