import { Injectable } from '@nestjs/common';
import { boundedDelayMs, MAX_TIMER_DELAY_MS } from '@notifications/messaging';

/** Time as the app sees it; unit tests substitute a manual clock. */
@Injectable()
export class Clock {
  now(): number {
    return Date.now();
  }

  sleep(ms: number): Promise<void> {
    return ms <= 0
      ? Promise.resolve()
      : new Promise((resolve) => setTimeout(resolve, boundedDelayMs(ms, MAX_TIMER_DELAY_MS)));
  }
}
