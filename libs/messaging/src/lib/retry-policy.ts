import { boundedDelayMs, DEFAULT_MAX_WAIT_MS, MAX_TIMER_DELAY_MS } from './bounded-delay';

export interface RetryPolicy {
  /** Total handler attempts including the first delivery; after the last one the message is dead-lettered. */
  readonly maxAttempts: number;
  readonly initialDelayMs: number;
  readonly multiplier: number;
  readonly maxDelayMs: number;
  /** Cap on a handler's own minimum delay (a provider's Retry-After); default an hour (`DEFAULT_MAX_WAIT_MS`). */
  readonly maxRetryAfterMs?: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 5,
  initialDelayMs: 1_000,
  multiplier: 4,
  maxDelayMs: 5 * 60_000,
};

/**
 * Delay before attempt `nextAttempt` (2 = the first retry). A handler's own minimum wins when larger, up to
 * `maxRetryAfterMs`; the result is a due time's distance, bounded like every timer (`boundedDelayMs`).
 */
export function retryDelayMs(policy: RetryPolicy, nextAttempt: number, minimumDelayMs?: number): number {
  const exponent = Math.max(0, nextAttempt - 2);
  const backoff = Math.min(policy.maxDelayMs, policy.initialDelayMs * policy.multiplier ** exponent);
  const minimum = boundedDelayMs(minimumDelayMs ?? 0, policy.maxRetryAfterMs ?? DEFAULT_MAX_WAIT_MS);
  return boundedDelayMs(Math.max(backoff, minimum), MAX_TIMER_DELAY_MS);
}
