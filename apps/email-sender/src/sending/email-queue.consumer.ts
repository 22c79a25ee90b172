import { performance } from 'node:perf_hooks';
import { Injectable, Logger, type Type } from '@nestjs/common';
import { type Email, type TopicDefinition } from '@notifications/contracts';
import {
  InfrastructureUnavailableError,
  KafkaHandler,
  TransientError,
  type MessageContext,
} from '@notifications/messaging';
import { EmailSendingService } from './email-sending.service';
import { tooOldByMs } from './message-age';

export interface EmailQueueOptions {
  /** EMAIL_MAX_MESSAGE_AGE_MS: older emails are not sent (see `tooOldByMs`). */
  readonly maxMessageAgeMs: number;
}

/**
 * The `email.queue` consumer (and, through the messaging runtime, `email.queue.retry`) for the given topic:
 * a class per topic because `@KafkaHandler` binds its topic when the class is declared, and tests run the app
 * on throw-away topics. Thin: validated Email in → EmailSendingService → retry or done.
 */
export function createEmailQueueConsumer(
  topic: TopicDefinition<Email>,
  options: EmailQueueOptions,
): Type<unknown> {
  @Injectable()
  class EmailQueueConsumer {
    private readonly logger = new Logger('EmailQueueConsumer');

    constructor(private readonly sending: EmailSendingService) {}

    @KafkaHandler(topic)
    async send(email: Email, context: MessageContext): Promise<void> {
      const tooOldBy = tooOldByMs(context, options.maxMessageAgeMs);
      if (tooOldBy > 0) {
        // Committed, not sent, no status published: the notification has expired, and orders' sweep makes it
        // Failed_TTL if it is still unfinished (a status from here could overwrite a final one).
        this.logger.warn(
          `Email for notification ${email.notificationId} not sent: first published ${Math.round((options.maxMessageAgeMs + tooOldBy) / 1_000)} s ago, ` +
            `older than EMAIL_MAX_MESSAGE_AGE_MS (${options.maxMessageAgeMs} ms); orders expires it (Failed_TTL)`,
        );
        return;
      }
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
      if (disposition.kind === 'acsUnavailable') {
        // Not the email's failure: the runner pauses this partition with a growing delay and reads the same
        // message again at the same attempt (libs/messaging consumer-runner, outage pauses).
        throw new InfrastructureUnavailableError('acs', disposition.reason);
      }
    }
  }
  return EmailQueueConsumer;
}
