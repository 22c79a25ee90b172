import { Logger } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { type SendNotificationOperationIdentifier } from '@notifications/contracts';
import { KafkaController, type KafkaContext } from '@notifications/messaging/nest';
import { DELAY_TIERS_KEY } from './delay-tiers';
import { StatusPollingService } from './status-polling.service';

/**
 * Consumes `email.sending.accepted` (and its retry topic) and every delay tier, in one consumer group
 * (`altinn.notifications.status-poller`). Thin: a validated message in, the polling service's outcome out.
 */
@KafkaController()
export class SendingAcceptedConsumer {
  private readonly logger = new Logger(SendingAcceptedConsumer.name);

  constructor(private readonly polling: StatusPollingService) {}

  @EventPattern('emailSendingAccepted')
  accepted(
    @Payload() message: SendNotificationOperationIdentifier,
    @Ctx() context: KafkaContext,
  ): Promise<void> {
    return this.check(message, context);
  }

  /** Operations back from waiting in a delay tier (each tier is gated by `x-due-at`). */
  @EventPattern(DELAY_TIERS_KEY)
  due(@Payload() message: SendNotificationOperationIdentifier, @Ctx() context: KafkaContext): Promise<void> {
    return this.check(message, context);
  }

  private async check(message: SendNotificationOperationIdentifier, context: KafkaContext): Promise<void> {
    const outcome = await this.polling.poll(message, context.headers);
    if (outcome.action === 'finished' || outcome.action === 'gave-up') {
      this.logger.debug(
        `Operation ${message.operationId}: ${outcome.sendResult} (${outcome.detail}) from ${context.receivedFrom}`,
      );
    }
  }
}
