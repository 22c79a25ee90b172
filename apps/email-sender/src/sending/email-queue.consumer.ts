import { performance } from 'node:perf_hooks';
import { Inject, Logger } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { ORDER_ID_HEADER, type Email } from '@notifications/contracts';
import { InfrastructureUnavailableError, TransientError } from '@notifications/messaging';
import { KafkaController, type KafkaContext } from '@notifications/messaging/nest';
import { EmailSendingService } from './email-sending.service';
import { tooOldByMs } from './message-age';

export interface EmailQueueOptions {
  /** EMAIL_MAX_MESSAGE_AGE_MS: older emails are not sent (see `tooOldByMs`). */
  readonly maxMessageAgeMs: number;
}

export const EMAIL_QUEUE_OPTIONS = Symbol('EMAIL_QUEUE_OPTIONS');

/**
 * The `email.queue` consumer (and, through the messaging runtime, `email.queue.retry`). Thin: validated Email in
 * → EmailSendingService → retry or done.
 */
@KafkaController()
export class EmailQueueConsumer {
  private readonly logger = new Logger('EmailQueueConsumer');

  constructor(
    private readonly sending: EmailSendingService,
    @Inject(EMAIL_QUEUE_OPTIONS) private readonly options: EmailQueueOptions,
  ) {}

  @EventPattern('emailQueue')
  async send(@Payload() email: Email, @Ctx() context: KafkaContext): Promise<void> {
    const { maxMessageAgeMs } = this.options;
    const tooOldBy = tooOldByMs(context, maxMessageAgeMs);
    if (tooOldBy > 0) {
      // Committed, not sent, no status published: the notification has expired, and orders' sweep makes it
      // Failed_TTL if it is still unfinished (a status from here could overwrite a final one).
      this.logger.warn(
        `Email for notification ${email.notificationId} not sent: first published ${Math.round((maxMessageAgeMs + tooOldBy) / 1_000)} s ago, ` +
          `older than EMAIL_MAX_MESSAGE_AGE_MS (${maxMessageAgeMs} ms); orders expires it (Failed_TTL)`,
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
        ...orderIdOf(context),
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

/** The `x-order-id` header orders sets (absent on emails from elsewhere: those are never withheld by a halt). */
function orderIdOf(context: KafkaContext): { orderId?: string } {
  const orderId = context.headers[ORDER_ID_HEADER];
  return orderId === undefined || orderId === '' ? {} : { orderId };
}
