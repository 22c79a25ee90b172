const WINDOW_MS = 60_000;
export const MAX_PER_MINUTE = 1_000_000;

export type RateLimitDecision =
  { readonly allowed: true } | { readonly allowed: false; readonly retryAfterSeconds: number };

/**
 * A sliding one-minute window over accepted sends, like an ACS resource's per-minute email quota: at most
 * `perMinute` acceptances in any 60 s. Keeps the last `perMinute` acceptance times in a ring, so each decision is
 * O(1) and memory is bounded by the limit.
 */
export class SlidingWindowRateLimiter {
  private stamps = new Float64Array(0);
  private head = 0;
  private count = 0;
  private limit: number | undefined;

  constructor(perMinute?: number) {
    this.setLimit(perMinute);
  }

  get perMinute(): number | undefined {
    return this.limit;
  }

  /** `undefined` or 0 switches the limit off. Changing the limit forgets the window. */
  setLimit(perMinute: number | undefined): void {
    if (
      perMinute !== undefined &&
      (!Number.isSafeInteger(perMinute) || perMinute < 0 || perMinute > MAX_PER_MINUTE)
    ) {
      throw new RangeError(`perMinute must be an integer between 0 and ${MAX_PER_MINUTE}, got ${perMinute}`);
    }
    this.limit = perMinute === 0 ? undefined : perMinute;
    this.stamps = new Float64Array(this.limit ?? 0);
    this.head = 0;
    this.count = 0;
  }

  reset(): void {
    this.setLimit(this.limit);
  }

  /** Takes one slot at `now` if the window has room. */
  tryAcquire(now: number): RateLimitDecision {
    const limit = this.limit;
    if (limit === undefined) return { allowed: true };
    if (this.count < limit) {
      this.stamps[(this.head + this.count) % limit] = now;
      this.count += 1;
      return { allowed: true };
    }
    const oldest = this.stamps[this.head] ?? 0;
    if (now - oldest >= WINDOW_MS) {
      this.stamps[this.head] = now;
      this.head = (this.head + 1) % limit;
      return { allowed: true };
    }
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((oldest + WINDOW_MS - now) / 1000)) };
  }
}
