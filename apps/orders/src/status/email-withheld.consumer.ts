import { EventPattern, Payload } from '@nestjs/microservices';
import { type EmailWithheld } from '@notifications/contracts';
import { type BatchOutcome } from '@notifications/messaging';
import {
  KafkaController,
  type KafkaBatchMessage,
  type KafkaHandlerExtras,
} from '@notifications/messaging/nest';
import { pauseOnDatabaseOutage } from '../store/database-outage';
import { EmailStatusService } from './email-status.service';

/**
 * `email.withheld` (and its retry topic): emails email-sender did not send because their order was halted become
 * `Cancelled` (README "Halt"), a fetched batch per transaction.
 */
@KafkaController()
export class EmailWithheldConsumer {
  constructor(private readonly status: EmailStatusService) {}

  @EventPattern('emailWithheld')
  async handle(@Payload() report: EmailWithheld): Promise<void> {
    await pauseOnDatabaseOutage(() => this.status.applyWithheld([report]));
  }

  @EventPattern('emailWithheld', { batch: true } satisfies KafkaHandlerExtras)
  async handleBatch(@Payload() messages: readonly KafkaBatchMessage<EmailWithheld>[]): Promise<BatchOutcome> {
    await pauseOnDatabaseOutage(() => this.status.applyWithheld(messages.map(({ message }) => message)));
    return { failures: new Map() };
  }
}
