import { expectEventually } from '@notifications/testing';
import { TaskLoop } from './task-loop';

const silent = { log: () => undefined, error: () => undefined, warn: () => undefined };

describe(TaskLoop.name, () => {
  it('never overlaps itself, runs again at once while there is more work, and stops after the current run', async () => {
    let running = 0;
    let maxRunning = 0;
    let runs = 0;
    const loop = new TaskLoop(
      {
        name: 'work',
        intervalMs: 60_000,
        run: async () => {
          running += 1;
          maxRunning = Math.max(maxRunning, running);
          await new Promise((resolve) => setImmediate(resolve));
          running -= 1;
          runs += 1;
          return runs < 5;
        },
      },
      silent,
    );
    loop.start();
    await expectEventually(() => expect(runs).toBe(5));
    expect(maxRunning).toBe(1);
    loop.trigger();
    await expectEventually(() => expect(runs).toBe(6));
    await loop.stop();
    expect(running).toBe(0);
    expect(loop.statistics()).toMatchObject({ runs: 6, failures: 0 });
  });

  it('carries on after a failing run and counts it', async () => {
    let runs = 0;
    const loop = new TaskLoop(
      {
        name: 'flaky',
        intervalMs: 10,
        run: async () => {
          runs += 1;
          if (runs === 1) throw new Error('database unavailable');
          return false;
        },
      },
      silent,
    );
    loop.start();
    await expectEventually(() => expect(runs).toBeGreaterThanOrEqual(3));
    await loop.stop();
    expect(loop.statistics()).toMatchObject({ failures: 1, lastError: 'database unavailable' });
  });

  it('waits for the start delay before the first run, even when triggered', async () => {
    let runs = 0;
    const loop = new TaskLoop(
      { name: 'delayed', intervalMs: 10, startDelayMs: 60_000, run: async () => ((runs += 1), false) },
      silent,
    );
    loop.start();
    loop.trigger();
    await new Promise((resolve) => setImmediate(resolve));
    await loop.stop();
    expect(runs).toBe(0);
  });
});
