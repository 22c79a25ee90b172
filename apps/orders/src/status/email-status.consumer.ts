import { Logger } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { type SendOperationResult } from '@notifications/contracts';
import { TransientError, type BatchOutcome } from '@notifications/messaging';
import {
  KafkaController,
  type KafkaBatchMessage,
  type KafkaHandlerExtras,
} from '@notifications/messaging/nest';
import { pauseOnDatabaseOutage } from '../store/database-outage';
import { EmailStatusService, type StatusOutcome } from './email-status.service';

/**
 * `email.status.updated` (and its retry topic): applies send results to notifications, a fetched batch at a time
 * (its size: ORDERS_STATUS_BATCH_SIZE, bound at start-up). If a batch fails as a whole, the runner hands its
 * messages to `handle` one at a time, so each failing update alone is retried or dead-lettered.
 */
@KafkaController()
export class EmailStatusConsumer {
  private readonly logger = new Logger(EmailStatusConsumer.name);

  constructor(private readonly status: EmailStatusService) {}

  @EventPattern('emailStatusUpdated')
  handle(@Payload() update: SendOperationResult): Promise<void> {
    return pauseOnDatabaseOutage(async () => {
      const error = this.failureOf(update, await this.status.apply(update));
      if (error !== undefined) throw error;
    });
  }

  /** A fetched batch in one transaction; an update whose notification is unknown is retried on its own. */
  @EventPattern('emailStatusUpdated', { batch: true } satisfies KafkaHandlerExtras)
  handleBatch(@Payload() messages: readonly KafkaBatchMessage<SendOperationResult>[]): Promise<BatchOutcome> {
    return pauseOnDatabaseOutage(() => this.applyBatch(messages.map(({ message }) => message)));
  }

  private async applyBatch(updates: readonly SendOperationResult[]): Promise<BatchOutcome> {
    const { outcomes } = await this.status.applyBatch(updates);
    const failures = new Map<number, unknown>();
    outcomes.forEach((outcome, index) => {
      const error = this.failureOf(updates[index] as SendOperationResult, outcome);
      if (error !== undefined) failures.set(index, error);
    });
    return { failures };
  }

  private failureOf(update: SendOperationResult, outcome: StatusOutcome): Error | undefined {
    switch (outcome.kind) {
      case 'unknown-notification':
        // Possibly ahead of the transaction that creates it (or not ours at all): retry with delay, then the
        // runtime dead-letters it.
        return new TransientError(
          `No email notification for ${update.notificationId ?? `operation ${update.operationId}`}`,
        );
      case 'ignored':
        this.logger.debug(
          `Status ${update.sendResult} for ${outcome.notificationId} ignored: ${outcome.reason}`,
        );
        return undefined;
      case 'resend':
      case 'applied':
        return undefined;
    }
  }
}
