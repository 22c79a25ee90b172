import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { type SendOperationResult } from '@notifications/contracts';
import { isDatabaseUnavailable } from '@notifications/database';
import {
  InfrastructureUnavailableError,
  KafkaRuntime,
  handlerFor,
  type BatchMessage,
  type ConsumerRunner,
  type RetryPolicy,
} from '@notifications/messaging';
import { DependencyUnavailableError, errorMessage } from '../domain/dependency-unavailable.error';
import { ORDERS_CONFIG, ORDERS_TOPICS } from '../config/tokens';
import { type OrdersConfig } from '../config/orders.config';
import { EmailStatusConsumer } from '../status/email-status.consumer';
import { PastDueConsumer } from '../intake/past-due.consumer';
import { ServiceUpdateConsumer } from '../dispatch/service-update.consumer';
import { type OrdersTopics, topicsToProvision } from '../config/orders-topics';

export const ORDERS_CONSUMER_GROUP = Symbol('ORDERS_CONSUMER_GROUP');

/**
 * Runs the app's Kafka consumer over the injected topics. (The messaging lib's `@KafkaHandler` binds a topic at
 * class-definition time; building the registrations here lets tests run the real consumers on their own topics.)
 * The runner is created through the shared KafkaRuntime, so the lib's ConsumerHost stops it on shutdown, before
 * the producer and the database close.
 */
@Injectable()
export class OrdersConsumerHost implements OnApplicationBootstrap {
  private consumer: ConsumerRunner | undefined;

  constructor(
    private readonly runtime: KafkaRuntime,
    @Inject(ORDERS_CONFIG) private readonly config: OrdersConfig,
    @Inject(ORDERS_TOPICS) private readonly topics: OrdersTopics,
    @Inject(ORDERS_CONSUMER_GROUP) private readonly groupId: string,
    private readonly pastDue: PastDueConsumer,
    private readonly emailStatus: EmailStatusConsumer,
    private readonly serviceUpdates: ServiceUpdateConsumer,
  ) {}

  get runner(): ConsumerRunner | undefined {
    return this.consumer;
  }

  async onApplicationBootstrap(): Promise<void> {
    const { kafka, consumer } = this.config;
    await this.runtime.provisioner.ensureTopics(topicsToProvision(this.topics), kafka.topics);
    const retryPolicy: RetryPolicy = {
      maxAttempts: consumer.maxAttempts,
      initialDelayMs: consumer.retryInitialDelayMs,
      multiplier: 4,
      maxDelayMs: consumer.retryMaxDelayMs,
    };
    this.consumer = this.runtime.createConsumer(
      {
        groupId: this.groupId,
        partitionConcurrency: kafka.consumerConcurrency,
        perPartitionConcurrency: consumer.perPartitionConcurrency,
        sessionTimeoutMs: kafka.sessionTimeoutMs,
        shutdownTimeoutMs: kafka.shutdownTimeoutMs,
        retryPolicy,
      },
      [
        handlerFor({
          topic: this.topics.pastDue,
          handle: pauseOnDatabaseOutage((order, context) => this.pastDue.handle(order, context)),
        }),
        handlerFor({
          topic: this.topics.emailStatusUpdated,
          handle: pauseOnDatabaseOutage((update) => this.emailStatus.handle(update)),
          // A fetched batch of status updates in one transaction (see EmailStatusService.applyBatch).
          handleBatch: pauseOnDatabaseOutage((messages: readonly BatchMessage<SendOperationResult>[]) =>
            this.emailStatus.handleBatch(messages.map(({ message }) => message)),
          ),
          maxBatchSize: consumer.statusBatchSize,
        }),
        handlerFor({
          topic: this.topics.platformServiceUpdated,
          handle: pauseOnDatabaseOutage((update) => this.serviceUpdates.handle(update)),
        }),
      ],
    );
    await this.consumer.start();
  }
}

/**
 * Every orders handler needs PostgreSQL: a connection-level database failure is an outage, not the message's
 * fault, so the consumer pauses and reads the message again instead of spending one of its attempts (and
 * dead-lettering status updates during an outage longer than the retry budget). A failing tenant endpoint
 * (DependencyUnavailableError, e.g. a refused send-condition URL) stays the message's failure: one tenant's
 * endpoint must not pause everybody's messages.
 */
function pauseOnDatabaseOutage<A extends unknown[], R>(
  handle: (...args: A) => Promise<R>,
): (...args: A) => Promise<R> {
  return async (...args) => {
    try {
      return await handle(...args);
    } catch (error) {
      if (!causedByTenantDependency(error) && isDatabaseUnavailable(error))
        throw new InfrastructureUnavailableError('postgresql', errorMessage(error), { cause: error });
      throw error;
    }
  };
}

function causedByTenantDependency(error: unknown): boolean {
  const seen = new Set<unknown>();
  for (let current = error; current instanceof Error && !seen.has(current); current = current.cause) {
    seen.add(current);
    if (current instanceof DependencyUnavailableError) return true;
  }
  return false;
}
