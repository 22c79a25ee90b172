import { WeightedSemaphore } from './weighted-semaphore';

describe(WeightedSemaphore.name, () => {
  it('admits weights while they fit and the rest once units are released, in arrival order', async () => {
    const semaphore = new WeightedSemaphore(10);
    const first = await semaphore.acquire(6, { timeoutMs: 0 });
    expect(first).toBeDefined();
    const admitted: string[] = [];
    const large = semaphore.acquire(8, { timeoutMs: 10_000 }).then((release) => {
      admitted.push('large');
      return release;
    });
    // 3 would fit now, but it does not overtake the large waiter.
    const small = semaphore.acquire(3, { timeoutMs: 10_000 }).then((release) => {
      admitted.push('small');
      return release;
    });
    expect(semaphore.queued).toBe(2);
    first?.();
    const largeRelease = await large;
    expect(admitted).toEqual(['large']);
    expect(semaphore.inUse).toBe(8);
    largeRelease?.();
    (await small)?.();
    expect(admitted).toEqual(['large', 'small']);
    expect(semaphore.inUse).toBe(0);
  });

  it('gives up after the timeout, and lets the waiters behind it in', async () => {
    const semaphore = new WeightedSemaphore(10);
    const held = await semaphore.acquire(5, { timeoutMs: 0 });
    const tooLarge = semaphore.acquire(10, { timeoutMs: 20 });
    const fits = semaphore.acquire(5, { timeoutMs: 10_000 });
    expect(await tooLarge).toBeUndefined();
    const release = await fits;
    expect(release).toBeDefined();
    expect(semaphore.inUse).toBe(10);
    held?.();
    release?.();
  });

  it('gives up when aborted', async () => {
    const semaphore = new WeightedSemaphore(1);
    const held = await semaphore.acquire(1, { timeoutMs: 0 });
    const controller = new AbortController();
    const waiting = semaphore.acquire(1, { timeoutMs: 10_000, signal: controller.signal });
    controller.abort();
    expect(await waiting).toBeUndefined();
    expect(semaphore.queued).toBe(0);
    held?.();
  });

  it('takes a weight above the capacity as the whole capacity, and a release only once', async () => {
    const semaphore = new WeightedSemaphore(4);
    const release = await semaphore.acquire(100, { timeoutMs: 0 });
    expect(semaphore.inUse).toBe(4);
    release?.();
    release?.();
    expect(semaphore.inUse).toBe(0);
  });

  it('refuses a capacity that is not a positive integer', () => {
    expect(() => new WeightedSemaphore(0)).toThrow(RangeError);
    expect(() => new WeightedSemaphore(1.5)).toThrow(RangeError);
  });
});
