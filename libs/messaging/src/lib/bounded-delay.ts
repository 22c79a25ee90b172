/**
 * Node's timers take at most 2^31-1 ms (~24.8 days): a longer delay fires after 1 ms with a
 * TimeoutOverflowWarning, which turns "wait a month" into a busy loop.
 */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

/**
 * How long anything told from outside to wait — a Retry-After, a rate-limit reset time, a retry's due time
 * (`x-due-at`) — may make us wait at most, unless configured otherwise: an hour. A provider's answer or a header
 * far in the future must not park a partition or pause sending for days; after the cap the work is simply tried
 * again, and a still-valid limit answers with a new wait.
 */
export const DEFAULT_MAX_WAIT_MS = 3_600_000;

/**
 * The one clamp for every computed or external delay before it reaches a timer or a due time: NaN and negative
 * values become 0, anything above `maxMs` (default {@link DEFAULT_MAX_WAIT_MS}) becomes `maxMs`, and `maxMs`
 * itself never exceeds {@link MAX_TIMER_DELAY_MS}.
 */
export function boundedDelayMs(ms: number, maxMs: number = DEFAULT_MAX_WAIT_MS): number {
  const cap = Math.min(Math.max(0, maxMs), MAX_TIMER_DELAY_MS);
  if (!(ms > 0)) return 0;
  return Math.min(ms, cap);
}
