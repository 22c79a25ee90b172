import { SendThrottle } from '../sending/send-throttle';
import { RateLimitController } from './rate-limit.controller';

describe(RateLimitController.name, () => {
  it('shows the pause, ends it early and releases a send held by it', async () => {
    const throttle = new SendThrottle({
      concurrency: 2,
      ratePerMinute: 0,
      maxHoldMs: 60_000,
      heartbeatEveryMs: 20,
    });
    const controller = new RateLimitController(throttle);
    expect(controller.show()).toEqual({ paused: false, pausedUntil: null, inFlight: 0, waitingForSlot: 0 });

    const until = Date.now() + 30_000;
    await throttle.pauseUntil(until, () => Promise.resolve());
    expect(controller.show()).toMatchObject({ paused: true, pausedUntil: new Date(until).toISOString() });

    let started = false;
    const held = throttle.acquire().then((release) => {
      started = true;
      release();
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(started).toBe(false);

    expect(controller.clear()).toEqual({ cleared: true, pausedUntil: new Date(until).toISOString() });
    await held;
    expect(started).toBe(true);
    expect(controller.show().paused).toBe(false);
    expect(controller.clear()).toEqual({ cleared: false, pausedUntil: null });
  });

  it('announces the next 429 again after an operator ended the pause', async () => {
    const throttle = new SendThrottle({ concurrency: 1, ratePerMinute: 0, maxHoldMs: 1_000 });
    const announced: number[] = [];
    const announce = (at: number): Promise<void> => {
      announced.push(at);
      return Promise.resolve();
    };
    const until = Date.now() + 30_000;
    await throttle.pauseUntil(until, announce);
    new RateLimitController(throttle).clear();
    await throttle.pauseUntil(until, announce);
    expect(announced).toEqual([until, until]);
  });
});
