import { retryDelayMs, type RetryPolicy } from './retry-policy';

const policy: RetryPolicy = { maxAttempts: 5, initialDelayMs: 1_000, multiplier: 2, maxDelayMs: 5_000 };

describe(retryDelayMs.name, () => {
  it('grows the delay by the multiplier from the first retry', () => {
    expect([2, 3, 4].map((attempt) => retryDelayMs(policy, attempt))).toEqual([1_000, 2_000, 4_000]);
  });

  it('caps the delay', () => {
    expect(retryDelayMs(policy, 10)).toBe(5_000);
  });

  it("honours a handler's minimum delay when it is longer", () => {
    expect(retryDelayMs(policy, 2, 60_000)).toBe(60_000);
    expect(retryDelayMs(policy, 3, 10)).toBe(2_000);
  });
});
