import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { type SendNotificationOperationIdentifier } from '@notifications/contracts';
import {
  handlerFor,
  KafkaRuntime,
  type ConsumerRunner,
  type MessageContext,
  type RetryPolicy,
} from '@notifications/messaging';
import { STATUS_POLLER_CONFIG, type StatusPollerConfig } from '../config/status-poller.config';
import { StatusPollingService } from './status-polling.service';
import {
  STATUS_POLLER_TOPICS,
  statusPollerTopicNames,
  type StatusPollerTopics,
} from './status-poller-topics';

/**
 * Consumes `email.sending.accepted` and every delay tier with one consumer (group
 * `altinn.notifications.status-poller`). Thin: a validated message in, the polling service's outcome out.
 *
 * The consumer is created here rather than through `@KafkaHandler`, because the delay tiers and (in tests) the
 * topic names come from configuration, and a decorator's topic is fixed when the class is defined. Shutdown is
 * still the runtime's: `KafkaRuntime.shutdown()` (run by the messaging module) stops every consumer it created.
 */
@Injectable()
export class SendingAcceptedConsumer implements OnApplicationBootstrap {
  private readonly logger = new Logger(SendingAcceptedConsumer.name);
  private consumer: ConsumerRunner | undefined;

  constructor(
    private readonly runtime: KafkaRuntime,
    private readonly polling: StatusPollingService,
    @Inject(STATUS_POLLER_CONFIG) private readonly config: StatusPollerConfig,
    @Inject(STATUS_POLLER_TOPICS) private readonly topics: StatusPollerTopics,
  ) {}

  get runner(): ConsumerRunner | undefined {
    return this.consumer;
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.runtime.provisioner.ensureTopics(
      statusPollerTopicNames(this.topics),
      this.config.kafka.topics,
    );
    await this.runtime.producer.connect();
    const handle = (message: SendNotificationOperationIdentifier, context: MessageContext): Promise<void> =>
      this.handle(message, context);
    this.consumer = this.runtime.createConsumer(
      {
        groupId: this.topics.groupId,
        partitionConcurrency: this.config.kafka.consumerConcurrency,
        perPartitionConcurrency: this.config.polling.perPartitionConcurrency,
        sessionTimeoutMs: this.config.kafka.sessionTimeoutMs,
        shutdownTimeoutMs: this.config.kafka.shutdownTimeoutMs,
        maxWaitTimeMs: this.config.polling.fetchMaxWaitMs,
      },
      [
        handlerFor({ topic: this.topics.sendingAccepted, handle }),
        ...this.topics.delayTiers.map((tier) =>
          handlerFor({ topic: tier.topic, handle, retryPolicy: tierRetryPolicy(tier.delayMs) }),
        ),
      ],
    );
    await this.consumer.start();
    this.logger.log(
      `Polling ${this.topics.sendingAccepted.name} with delay tiers ${this.topics.delayTiers
        .map((tier) => tier.waitTopic)
        .join(', ')}`,
    );
  }

  private async handle(message: SendNotificationOperationIdentifier, context: MessageContext): Promise<void> {
    const outcome = await this.polling.poll(message, context.headers);
    if (outcome.action === 'finished' || outcome.action === 'gave-up') {
      this.logger.debug(
        `Operation ${message.operationId}: ${outcome.sendResult} (${outcome.detail}) from ${context.receivedFrom}`,
      );
    }
  }
}

/**
 * A failed handler's message goes back to the tier's own topic (the registration's retry topic). Retrying after
 * exactly the tier's delay keeps every message in that topic at the same delay, so it stays in due-time order.
 */
function tierRetryPolicy(delayMs: number): RetryPolicy {
  return { maxAttempts: 10, initialDelayMs: delayMs, multiplier: 1, maxDelayMs: delayMs };
}
