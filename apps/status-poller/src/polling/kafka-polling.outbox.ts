import { Inject, Injectable } from '@nestjs/common';
import {
  type SendNotificationOperationIdentifier,
  type SendOperationResult,
  type TopicCatalog,
} from '@notifications/contracts';
import { MessageProducer, MessagingHeaders } from '@notifications/messaging';
import { TOPIC_CATALOG } from '@notifications/messaging/nest';
import { DelayTiers } from './delay-tiers';
import { PollingOutbox } from './polling-outbox';

/** `PollingOutbox` on the process's single idempotent producer. */
@Injectable()
export class KafkaPollingOutbox extends PollingOutbox {
  constructor(
    private readonly producer: MessageProducer,
    @Inject(TOPIC_CATALOG) private readonly topics: TopicCatalog,
    private readonly tiers: DelayTiers,
  ) {
    super();
  }

  publishResult(result: SendOperationResult): Promise<void> {
    return this.producer.publish(this.topics.emailStatusUpdated, result);
  }

  publishRecheck(
    message: SendNotificationOperationIdentifier,
    headers: Record<string, string>,
  ): Promise<void> {
    return this.producer.publish(this.topics.emailSendingAccepted, message, { headers });
  }

  waitInTier(
    tierMs: number,
    dueAt: number,
    message: SendNotificationOperationIdentifier,
    headers: Record<string, string>,
  ): Promise<void> {
    const tier = this.tiers.get(tierMs);
    if (!tier) return Promise.reject(new Error(`No delay tier of ${tierMs} ms`));
    // To the tier's gated topic with the runtime's due-time header; the runtime pauses the partition until the
    // head message is due. Same key as on the accepted topic: one poll at a time per email.
    return this.producer.publish(tier.topic, message, {
      headers: { ...headers, [MessagingHeaders.dueAt]: String(dueAt) },
    });
  }
}
