import { HoldExceededError, SendThrottle, type SendThrottleOptions } from './send-throttle';

const START = Date.parse('2026-03-16T08:00:00.000Z');

function throttle(options: Partial<SendThrottleOptions> = {}): SendThrottle {
  return new SendThrottle({ concurrency: 4, ratePerMinute: 0, maxHoldMs: 10_000, ...options });
}

/** Resolves to the fake time at which the promise settled. */
function settledAt<T>(promise: Promise<T>): Promise<number> {
  return promise.then(
    () => Date.now(),
    () => Date.now(),
  );
}

describe(SendThrottle.name, () => {
  beforeEach(() => jest.useFakeTimers({ now: START }));
  afterEach(() => jest.useRealTimers());

  it('bounds the sends in flight', async () => {
    const gate = throttle({ concurrency: 2 });
    const first = await gate.acquire();
    await gate.acquire();
    let thirdStarted = false;
    const third = gate.acquire().then((release) => {
      thirdStarted = true;
      return release;
    });
    await jest.advanceTimersByTimeAsync(1_000);
    expect(thirdStarted).toBe(false);
    expect(gate.snapshot()).toMatchObject({ inFlight: 2, waitingForSlot: 1 });
    first();
    first(); // releasing twice frees one slot only
    await third;
    expect(gate.snapshot()).toMatchObject({ inFlight: 2, waitingForSlot: 0 });
  });

  it('holds sends back until a short pause ends, heartbeating meanwhile', async () => {
    const gate = throttle({ heartbeatEveryMs: 1_000 });
    await gate.pauseUntil(START + 5_000, () => Promise.resolve());
    expect(gate.snapshot().pausedUntil).toBe('2026-03-16T08:00:05.000Z');
    const heartbeat = jest.fn(() => Promise.resolve());
    const started = settledAt(gate.acquire({ heartbeat }));
    await jest.advanceTimersByTimeAsync(5_000);
    expect(await started).toBe(START + 5_000);
    expect(heartbeat.mock.calls.length).toBeGreaterThanOrEqual(4);
    expect(gate.snapshot().pausedUntil).toBeNull();
  });

  it('pauses at most an hour, whatever reset time ACS names', async () => {
    const gate = throttle({});
    await gate.pauseUntil(START + 30 * 86_400_000, () => Promise.resolve());
    expect(gate.snapshot().pausedUntil).toBe(new Date(START + 3_600_000).toISOString());
    const capped = throttle({ maxPauseMs: 120_000 });
    await capped.pauseUntil(START + 600_000, () => Promise.resolve());
    expect(capped.snapshot().pausedUntil).toBe(new Date(START + 120_000).toISOString());
  });

  it('refuses at once to hold a send past maxHoldMs, with the remaining pause as the delay', async () => {
    const gate = throttle({ concurrency: 1, maxHoldMs: 10_000 });
    await gate.pauseUntil(START + 60_000, () => Promise.resolve());
    const error = await gate.acquire().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HoldExceededError);
    expect(error).toMatchObject({ reason: 'paused', delayMs: 60_000 });
    // The refused send gave its concurrency slot back.
    expect(gate.snapshot().inFlight).toBe(0);
  });

  it('gives up holding when the pause is extended past the hold budget while waiting', async () => {
    const gate = throttle({ maxHoldMs: 10_000 });
    await gate.pauseUntil(START + 5_000, () => Promise.resolve());
    const waiting = gate.acquire().catch((e: unknown) => e);
    await jest.advanceTimersByTimeAsync(1_000);
    await gate.pauseUntil(START + 30_000, () => Promise.resolve());
    await jest.advanceTimersByTimeAsync(4_000);
    expect(await waiting).toMatchObject({ name: 'HoldExceededError', reason: 'paused', delayMs: 25_000 });
  });

  it('announces a pause once, and every caller waits for that announcement', async () => {
    const gate = throttle();
    let finishAnnouncement!: () => void;
    const announce = jest.fn(
      () =>
        new Promise<void>((resolve) => {
          finishAnnouncement = resolve;
        }),
    );
    const order: string[] = [];
    const first = gate.pauseUntil(START + 10_000, announce).then(() => order.push('first'));
    const second = gate.pauseUntil(START + 10_500, announce).then(() => order.push('second'));
    await jest.advanceTimersByTimeAsync(0);
    expect(announce).toHaveBeenCalledTimes(1);
    expect(order).toEqual([]);
    finishAnnouncement();
    await Promise.all([first, second]);
    expect(order).toEqual(['first', 'second']);

    // A clearly later reset time is news: announced again.
    const later = gate.pauseUntil(START + 20_000, announce);
    finishAnnouncement();
    await later;
    expect(announce).toHaveBeenCalledTimes(2);
    expect(announce).toHaveBeenLastCalledWith(START + 20_000);
  });

  it('forgets a failed announcement so that the next 429 announces again', async () => {
    const gate = throttle();
    await expect(
      gate.pauseUntil(START + 10_000, () => Promise.reject(new Error('broker down'))),
    ).rejects.toThrow('broker down');
    const announce = jest.fn(() => Promise.resolve());
    await gate.pauseUntil(START + 10_000, announce);
    expect(announce).toHaveBeenCalledTimes(1);
    // The pause itself held from the first 429 on.
    expect(gate.pausedUntil).toBe(START + 10_000);
  });

  it('spaces sends evenly under a client-side rate limit', async () => {
    const gate = throttle({ ratePerMinute: 60 });
    const starts = [settledAt(gate.acquire()), settledAt(gate.acquire()), settledAt(gate.acquire())];
    await jest.advanceTimersByTimeAsync(3_000);
    expect(await Promise.all(starts)).toEqual([START, START + 1_000, START + 2_000]);
  });

  it('refuses a rate-limit slot further away than the hold budget', async () => {
    const gate = throttle({ ratePerMinute: 6, maxHoldMs: 5_000 });
    await gate.acquire();
    await expect(gate.acquire()).rejects.toMatchObject({ reason: 'rate-limited', delayMs: 10_000 });
  });

  it('takes a fresh rate-limit slot when a pause began while a send waited for its slot', async () => {
    const gate = throttle({ ratePerMinute: 60, maxHoldMs: 9_000 });
    await gate.acquire(); // slot at START
    const second = settledAt(gate.acquire()); // slot at START + 1 s
    await jest.advanceTimersByTimeAsync(500);
    await gate.pauseUntil(START + 5_000, () => Promise.resolve());
    await jest.advanceTimersByTimeAsync(10_000);
    expect(await second).toBe(START + 5_000);
    expect(await settledAt(gate.acquire())).toBe(Date.now());
  });
});
