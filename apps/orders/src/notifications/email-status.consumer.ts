import { Injectable, Logger } from '@nestjs/common';
import { type SendOperationResult } from '@notifications/contracts';
import { TransientError } from '@notifications/messaging';
import { EmailStatusService } from './email-status.service';

/** `email.status.updated` (and its retry topic): applies send results to notifications. */
@Injectable()
export class EmailStatusConsumer {
  private readonly logger = new Logger(EmailStatusConsumer.name);

  constructor(private readonly status: EmailStatusService) {}

  async handle(update: SendOperationResult): Promise<void> {
    const outcome = await this.status.apply(update);
    switch (outcome.kind) {
      case 'unknown-notification':
        // Possibly ahead of the transaction that creates it (or not ours at all): retry with delay, then the
        // runtime dead-letters it.
        throw new TransientError(
          `No email notification for ${update.notificationId ?? `operation ${update.operationId}`}`,
        );
      case 'ignored':
        this.logger.debug(
          `Status ${update.sendResult} for ${outcome.notificationId} ignored: ${outcome.reason}`,
        );
        return;
      case 'resend':
      case 'applied':
        return;
    }
  }
}
