import { Inject, Injectable } from '@nestjs/common';
import {
  formatTimestamp,
  resourceLimitExceeded,
  type EmailSendResult,
  type TopicCatalog,
} from '@notifications/contracts';
import { MessageProducer } from '@notifications/messaging';
import { TOPIC_CATALOG } from '@notifications/messaging/nest';

/** Everything email-sender tells the rest of the system; each call resolves once the broker has the message. */
@Injectable()
export class EmailEventsPublisher {
  constructor(
    private readonly producer: MessageProducer,
    @Inject(TOPIC_CATALOG) private readonly topics: TopicCatalog,
  ) {}

  /** ACS accepted the send: status-poller checks the operation from here on. */
  accepted(notificationId: string, operationId: string, at: Date = new Date()): Promise<void> {
    return this.producer.publish(this.topics.emailSendingAccepted, {
      notificationId,
      operationId,
      lastStatusCheck: formatTimestamp(at),
    });
  }

  /** The send itself failed: there is no operation, so the operation id is "" (the reference's convention). */
  sendFailed(notificationId: string, sendResult: EmailSendResult): Promise<void> {
    return this.producer.publish(this.topics.emailStatusUpdated, {
      notificationId,
      operationId: '',
      sendResult,
    });
  }

  /** Not sent because its order was halted: orders makes the notification Cancelled (apps/orders README, "Halt"). */
  withheld(notificationId: string, orderId: string): Promise<void> {
    return this.producer.publish(this.topics.emailWithheld, { notificationId, orderId });
  }

  /** ACS throttled us: `orders` stops queueing emails until `resetTime`. */
  resourceLimitExceeded(resetTime: Date): Promise<void> {
    return this.producer.publish(this.topics.platformServiceUpdated, resourceLimitExceeded(resetTime));
  }
}
