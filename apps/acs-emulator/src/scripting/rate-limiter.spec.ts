import { SlidingWindowRateLimiter } from './rate-limiter';

describe(SlidingWindowRateLimiter.name, () => {
  it('allows everything without a limit', () => {
    const limiter = new SlidingWindowRateLimiter();
    for (let i = 0; i < 1000; i += 1) expect(limiter.tryAcquire(0).allowed).toBe(true);
  });

  it('allows N per sliding minute and says when the oldest slot frees up', () => {
    const limiter = new SlidingWindowRateLimiter(3);
    expect([0, 10_000, 20_000].map((t) => limiter.tryAcquire(t).allowed)).toEqual([true, true, true]);

    expect(limiter.tryAcquire(30_000)).toEqual({ allowed: false, retryAfterSeconds: 30 });
    expect(limiter.tryAcquire(59_999)).toEqual({ allowed: false, retryAfterSeconds: 1 });
    expect(limiter.tryAcquire(60_000)).toEqual({ allowed: true });
    // Now the window holds 10 s, 20 s and 60 s.
    expect(limiter.tryAcquire(65_000)).toEqual({ allowed: false, retryAfterSeconds: 5 });
    expect(limiter.tryAcquire(70_000)).toEqual({ allowed: true });
  });

  it('forgets the window when the limit changes, and 0 switches it off', () => {
    const limiter = new SlidingWindowRateLimiter(1);
    limiter.tryAcquire(0);
    expect(limiter.tryAcquire(1).allowed).toBe(false);

    limiter.setLimit(2);
    expect(limiter.tryAcquire(2).allowed).toBe(true);
    limiter.setLimit(0);
    expect(limiter.perMinute).toBeUndefined();
    expect(limiter.tryAcquire(3).allowed).toBe(true);
    expect(() => limiter.setLimit(-1)).toThrow(RangeError);
  });
});
