import { Injectable, Logger } from '@nestjs/common';
import {
  ACS_EMAIL_RESOURCE,
  EMAIL_SERVICE_UPDATE_SOURCE,
  parseResourceLimitExceeded,
  toDate,
  type GenericServiceUpdate,
} from '@notifications/contracts';
import { boundedDelayMs } from '@notifications/messaging';
import { UnitOfWork } from '../store/unit-of-work';
import { RateLimitRepository } from '../store/rate-limit.repository';

export type ServiceUpdateOutcome =
  | { readonly kind: 'paused'; readonly resource: string; readonly until: Date }
  | { readonly kind: 'ignored'; readonly reason: string };

/**
 * Records the email rate-limit pause announced on `altinn.platform.service.updated`. The topic is platform-wide:
 * updates from other sources, of other schemas or for other resources are not ours and are ignored.
 * A malformed `ResourceLimitExceeded` document throws ContractViolationError (the message is dead-lettered).
 */
@Injectable()
export class RateLimitService {
  private readonly logger = new Logger(RateLimitService.name);

  constructor(
    private readonly uow: UnitOfWork,
    private readonly pauses: RateLimitRepository,
  ) {}

  async handle(update: GenericServiceUpdate): Promise<ServiceUpdateOutcome> {
    if (update.source !== EMAIL_SERVICE_UPDATE_SOURCE) {
      return this.ignore(`source ${update.source} is not handled`);
    }
    if (update.schema !== 'ResourceLimitExceeded')
      return this.ignore(`schema ${update.schema} is not handled`);
    const data = parseResourceLimitExceeded(update);
    if (data.resource !== ACS_EMAIL_RESOURCE) return this.ignore(`resource ${data.resource} is not handled`);
    // A reset time from a message: at most an hour ahead (boundedDelayMs); a limit still in force is re-announced.
    const requested = toDate(data.resetTime).getTime();
    const until = await this.pauses.pauseUntil(
      this.uow.autoCommit,
      data.resource,
      new Date(Date.now() + boundedDelayMs(requested - Date.now())),
      update.source,
    );
    this.logger.warn(`Email sending paused until ${until.toISOString()} (ACS rate limit)`);
    return { kind: 'paused', resource: data.resource, until };
  }

  /**
   * Ends the email pause now (an operator's decision, e.g. after ACS raised the quota). Emails held back by the
   * pause are published again by the next publish cycle. Returns the end the pause had, if one was in force.
   */
  async endEmailPause(source: string): Promise<Date | undefined> {
    const previous = await this.pauses.endPause(this.uow.autoCommit, ACS_EMAIL_RESOURCE, source);
    if (previous !== undefined) {
      this.logger.warn(`Email rate-limit pause (until ${previous.toISOString()}) ended early by ${source}`);
    }
    return previous;
  }

  private ignore(reason: string): ServiceUpdateOutcome {
    this.logger.log(`Service update ignored: ${reason}`);
    return { kind: 'ignored', reason };
  }
}
