import { Injectable } from '@nestjs/common';
import { ContractViolationError, type GenericServiceUpdate } from '@notifications/contracts';
import { PermanentError } from '@notifications/messaging';
import { RateLimitService } from './rate-limit.service';

/** `altinn.platform.service.updated` (and its retry topic): records the email rate-limit pause. */
@Injectable()
export class ServiceUpdateConsumer {
  constructor(private readonly rateLimits: RateLimitService) {}

  async handle(update: GenericServiceUpdate): Promise<void> {
    try {
      await this.rateLimits.handle(update);
    } catch (error) {
      // A malformed ResourceLimitExceeded document fails the same way on every attempt.
      if (ContractViolationError.is(error)) throw new PermanentError(error.message, { cause: error });
      throw error;
    }
  }
}
