import { Inject, Injectable } from '@nestjs/common';
import { type SendNotificationOperationIdentifier, type SendOperationResult } from '@notifications/contracts';
import { MessageProducer, MessagingHeaders } from '@notifications/messaging';
import { PollingOutbox } from './polling-outbox';
import { STATUS_POLLER_TOPICS, type DelayTier, type StatusPollerTopics } from './status-poller-topics';

/** `PollingOutbox` on the process's single idempotent producer. */
@Injectable()
export class KafkaPollingOutbox extends PollingOutbox {
  private readonly tiers: ReadonlyMap<number, DelayTier>;

  constructor(
    private readonly producer: MessageProducer,
    @Inject(STATUS_POLLER_TOPICS) private readonly topics: StatusPollerTopics,
  ) {
    super();
    this.tiers = new Map(topics.delayTiers.map((tier) => [tier.delayMs, tier]));
  }

  publishResult(result: SendOperationResult): Promise<void> {
    return this.producer.publish(this.topics.statusUpdated, result);
  }

  publishRecheck(
    message: SendNotificationOperationIdentifier,
    headers: Record<string, string>,
  ): Promise<void> {
    return this.producer.publish(this.topics.sendingAccepted, message, { headers });
  }

  waitInTier(
    tierMs: number,
    dueAt: number,
    message: SendNotificationOperationIdentifier,
    headers: Record<string, string>,
  ): Promise<void> {
    const tier = this.tiers.get(tierMs);
    if (!tier) return Promise.reject(new Error(`No delay tier of ${tierMs} ms`));
    // Written straight to the tier's gated topic with the runtime's due-time header; the runtime pauses the
    // partition until the head message is due. Same key as on the accepted topic: one poll at a time per email.
    return this.producer.publishRaw(tier.waitTopic, {
      key: tier.topic.keyOf(message) ?? null,
      value: tier.topic.contract.serialize(message),
      headers: { ...headers, [MessagingHeaders.dueAt]: String(dueAt) },
    });
  }
}
