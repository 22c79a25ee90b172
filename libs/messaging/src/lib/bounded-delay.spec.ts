import { boundedDelayMs, DEFAULT_MAX_WAIT_MS, MAX_TIMER_DELAY_MS } from './bounded-delay';
import { retryDelayMs } from './retry-policy';

describe(boundedDelayMs.name, () => {
  it('caps at an hour by default, or at the given maximum', () => {
    expect(boundedDelayMs(5_000)).toBe(5_000);
    expect(boundedDelayMs(30 * 86_400_000)).toBe(DEFAULT_MAX_WAIT_MS);
    expect(boundedDelayMs(10_000, 2_000)).toBe(2_000);
  });

  it('never hands a timer more than 2^31-1 ms, nor NaN or a negative delay', () => {
    expect(boundedDelayMs(Number.MAX_SAFE_INTEGER, Number.POSITIVE_INFINITY)).toBe(MAX_TIMER_DELAY_MS);
    expect(boundedDelayMs(Number.NaN)).toBe(0);
    expect(boundedDelayMs(-5)).toBe(0);
    expect(boundedDelayMs(Number.POSITIVE_INFINITY)).toBe(DEFAULT_MAX_WAIT_MS);
  });
});

describe(retryDelayMs.name, () => {
  const policy = { maxAttempts: 5, initialDelayMs: 1_000, multiplier: 4, maxDelayMs: 300_000 };

  it("lets a handler's minimum (a Retry-After) win, up to the policy's cap (an hour by default)", () => {
    expect(retryDelayMs(policy, 2, 60_000)).toBe(60_000);
    expect(retryDelayMs(policy, 2, 7 * 86_400_000)).toBe(DEFAULT_MAX_WAIT_MS);
    expect(retryDelayMs({ ...policy, maxRetryAfterMs: 120_000 }, 2, 600_000)).toBe(120_000);
  });
});
