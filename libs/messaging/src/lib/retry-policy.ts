export interface RetryPolicy {
  /** Total handler attempts including the first delivery; after the last one the message is dead-lettered. */
  readonly maxAttempts: number;
  readonly initialDelayMs: number;
  readonly multiplier: number;
  readonly maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 5,
  initialDelayMs: 1_000,
  multiplier: 4,
  maxDelayMs: 5 * 60_000,
};

/** Delay before attempt `nextAttempt` (2 = the first retry). A handler's own minimum wins when larger. */
export function retryDelayMs(policy: RetryPolicy, nextAttempt: number, minimumDelayMs?: number): number {
  const exponent = Math.max(0, nextAttempt - 2);
  const backoff = Math.min(policy.maxDelayMs, policy.initialDelayMs * policy.multiplier ** exponent);
  return Math.max(backoff, minimumDelayMs ?? 0);
}
