import { Injectable, Logger } from '@nestjs/common';
import { type SendOperationResult } from '@notifications/contracts';
import { TransientError, type BatchOutcome } from '@notifications/messaging';
import { EmailStatusService, type StatusOutcome } from './email-status.service';

/** `email.status.updated` (and its retry topic): applies send results to notifications. */
@Injectable()
export class EmailStatusConsumer {
  private readonly logger = new Logger(EmailStatusConsumer.name);

  constructor(private readonly status: EmailStatusService) {}

  async handle(update: SendOperationResult): Promise<void> {
    const error = this.failureOf(update, await this.status.apply(update));
    if (error !== undefined) throw error;
  }

  /** A fetched batch in one transaction; an update whose notification is unknown is retried on its own. */
  async handleBatch(updates: readonly SendOperationResult[]): Promise<BatchOutcome> {
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
