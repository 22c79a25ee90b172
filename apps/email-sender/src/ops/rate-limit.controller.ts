import { Controller, Delete, Get, Header } from '@nestjs/common';
import {
  type EmailSenderRateLimitClearResult,
  type EmailSenderRateLimitView,
} from '@notifications/contracts';
import { ManagementEndpoint } from '@notifications/observability';
import { SendThrottle } from '../sending/send-throttle';

/**
 * `GET|DELETE /internal/rate-limit` (for `npm run ops -- rate-limit`): this replica's in-process pause after an
 * ACS 429, during which it holds the emails it has read. Ending it here does not end the pause orders stored;
 * the CLI ends both. Management listener only (operator token).
 */
@ManagementEndpoint()
@Controller('internal/rate-limit')
export class RateLimitController {
  constructor(private readonly throttle: SendThrottle) {}

  @Get()
  @Header('Cache-Control', 'no-store')
  show(): EmailSenderRateLimitView {
    const snapshot = this.throttle.snapshot();
    return {
      paused: snapshot.pausedUntil !== null,
      pausedUntil: snapshot.pausedUntil,
      inFlight: snapshot.inFlight,
      waitingForSlot: snapshot.waitingForSlot,
    };
  }

  @Delete()
  clear(): EmailSenderRateLimitClearResult {
    const previous = this.throttle.endPause();
    return {
      cleared: previous !== undefined,
      pausedUntil: previous === undefined ? null : new Date(previous).toISOString(),
    };
  }
}
