import { Logger } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { type SendNotificationOperationIdentifier } from '@notifications/contracts';
import { type BatchOutcome } from '@notifications/messaging';
import {
  KafkaController,
  type KafkaBatchMessage,
  type KafkaContext,
  type KafkaHandlerExtras,
} from '@notifications/messaging/nest';
import { DELAY_TIERS_KEY } from './delay-tiers';
import { StatusPollingService, type PollOutcome } from './status-polling.service';

/**
 * Consumes `email.sending.accepted` (and its retry topic) and every delay tier, in one consumer group
 * (`altinn.notifications.status-poller`). Thin: a validated message in, the polling service's outcome out.
 */
@KafkaController()
export class SendingAcceptedConsumer {
  private readonly logger = new Logger(SendingAcceptedConsumer.name);

  constructor(private readonly polling: StatusPollingService) {}

  /** The runner's per-message path: used when a batch as a whole failed (see `acceptedBatch`). */
  @EventPattern('emailSendingAccepted')
  async accepted(
    @Payload() message: SendNotificationOperationIdentifier,
    @Ctx() context: KafkaContext,
  ): Promise<void> {
    this.logOutcome(message, await this.polling.poll(message, context.headers), context);
  }

  /**
   * A fetched batch at a time: first checks are held here until due rather than sent through a delay tier
   * (`StatusPollingService.pollBatch`). A message whose outcome could not be published is reported as failed,
   * and the runner retries it alone.
   */
  @EventPattern('emailSendingAccepted', { batch: true } satisfies KafkaHandlerExtras)
  async acceptedBatch(
    @Payload() messages: readonly KafkaBatchMessage<SendNotificationOperationIdentifier>[],
  ): Promise<BatchOutcome> {
    const settled = await this.polling.pollBatch(
      messages.map(({ message, context }) => ({ message, headers: context.headers })),
    );
    const failures = new Map<number, unknown>();
    messages.forEach(({ message, context }, index) => {
      const result = settled[index];
      // A message without an outcome must not count as handled: the runner would commit past it.
      if (result === undefined) failures.set(index, new Error('the batch gave this message no outcome'));
      else if (result.status === 'rejected') failures.set(index, result.reason);
      else this.logOutcome(message, result.value, context);
    });
    return { failures };
  }

  /** Operations back from waiting in a delay tier (each tier is gated by `x-due-at`). */
  @EventPattern(DELAY_TIERS_KEY)
  async due(
    @Payload() message: SendNotificationOperationIdentifier,
    @Ctx() context: KafkaContext,
  ): Promise<void> {
    this.logOutcome(message, await this.polling.poll(message, context.headers), context);
  }

  private logOutcome(
    message: SendNotificationOperationIdentifier,
    outcome: PollOutcome,
    context: KafkaContext,
  ): void {
    if (outcome.action === 'finished' || outcome.action === 'gave-up') {
      this.logger.debug(
        `Operation ${message.operationId}: ${outcome.sendResult} (${outcome.detail}) from ${context.receivedFrom}`,
      );
    }
  }
}
