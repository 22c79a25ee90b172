import { EventPattern, Payload } from '@nestjs/microservices';
import { ContractViolationError, type GenericServiceUpdate } from '@notifications/contracts';
import { PermanentError } from '@notifications/messaging';
import { KafkaController } from '@notifications/messaging/nest';
import { pauseOnDatabaseOutage } from '../store/database-outage';
import { RateLimitService } from './rate-limit.service';

/** `altinn.platform.service.updated` (and its retry topic): records the email rate-limit pause. */
@KafkaController()
export class ServiceUpdateConsumer {
  constructor(private readonly rateLimits: RateLimitService) {}

  @EventPattern('platformServiceUpdated')
  handle(@Payload() update: GenericServiceUpdate): Promise<void> {
    return pauseOnDatabaseOutage(() => this.record(update));
  }

  private async record(update: GenericServiceUpdate): Promise<void> {
    try {
      await this.rateLimits.handle(update);
    } catch (error) {
      // A malformed ResourceLimitExceeded document fails the same way on every attempt.
      if (ContractViolationError.is(error)) throw new PermanentError(error.message, { cause: error });
      throw error;
    }
  }
}
