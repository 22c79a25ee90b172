import { Controller, Delete, Get, Header } from '@nestjs/common';
import { ManagementEndpoint } from '@notifications/observability';
import { SendThrottle } from '../sending/send-throttle';

export interface EmailSenderRateLimitView {
  readonly paused: boolean;
  readonly pausedUntil: string | null;
  /** Sends running now, and handlers waiting for a send slot (held by a pause or the rate limit among them). */
  readonly inFlight: number;
  readonly waitingForSlot: number;
}

export interface EmailSenderRateLimitClearResult {
  readonly cleared: boolean;
  /** The end the pause had, when one was in force. */
  readonly pausedUntil: string | null;
}

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
