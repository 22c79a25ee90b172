import { performance } from 'node:perf_hooks';
import { Injectable, type Type } from '@nestjs/common';
import { type Email, type TopicDefinition } from '@notifications/contracts';
import { KafkaHandler, TransientError, type MessageContext } from '@notifications/messaging';
import { EmailSendingService } from './email-sending.service';

/**
 * The `email.queue` consumer (and, through the messaging runtime, `email.queue.retry`) for the given topic:
 * a class per topic because `@KafkaHandler` binds its topic when the class is declared, and tests run the app
 * on throw-away topics. Thin: validated Email in → EmailSendingService → retry or done.
 */
export function createEmailQueueConsumer(topic: TopicDefinition<Email>): Type<unknown> {
  @Injectable()
  class EmailQueueConsumer {
    constructor(private readonly sending: EmailSendingService) {}

    @KafkaHandler(topic)
    async send(email: Email, context: MessageContext): Promise<void> {
      const consumedAt = performance.now();
      const disposition = await this.sending.send(
        email,
        {
          attempt: context.attempt,
          isLastAttempt: context.isLastAttempt,
          maybeHandledBefore: context.maybeHandledBefore,
          heartbeat: () => context.heartbeat(),
        },
        consumedAt,
      );
      if (disposition.kind === 'retry') {
        // To the retry topic, due after max(delayMs, the retry policy's growing delay).
        throw new TransientError(disposition.reason, { delayMs: disposition.delayMs });
      }
    }
  }
  return EmailQueueConsumer;
}
