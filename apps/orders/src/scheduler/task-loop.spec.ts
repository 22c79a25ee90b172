import { expectEventually } from '@notifications/testing';
import { TaskLoop } from './task-loop';

const silent = { log: () => undefined, error: () => undefined, warn: () => undefined };

describe(TaskLoop.name, () => {
  it('never overlaps itself, runs again at once while there is more work, and stops after the current run', async () => {
    let running = 0;
    let maxRunning = 0;
    let runs = 0;
    // While set, the next run blocks until released (a slow run).
    let blockNextRun = false;
    let release: (() => void) | undefined;
    const loop = new TaskLoop(
      {
        name: 'work',
        intervalMs: 60_000,
        run: async () => {
          running += 1;
          maxRunning = Math.max(maxRunning, running);
          if (blockNextRun) {
            blockNextRun = false;
            await new Promise<void>((resolve) => (release = resolve));
          } else {
            await new Promise((resolve) => setImmediate(resolve));
          }
          running -= 1;
          runs += 1;
          return runs < 5;
        },
      },
      silent,
    );
    const turnsOfTheEventLoop = async (turns: number): Promise<void> => {
      for (let turn = 0; turn < turns; turn += 1) await new Promise((resolve) => setImmediate(resolve));
    };

    // A slow first run: triggers and a second start meanwhile must not start another run beside it.
    blockNextRun = true;
    loop.start();
    await expectEventually(() => expect(release).toBeDefined());
    loop.start();
    for (let trigger = 0; trigger < 5; trigger += 1) loop.trigger();
    await turnsOfTheEventLoop(20);
    expect(running).toBe(1);
    release!();
    // More work: it runs again at once (the interval is a minute), one run at a time; then once more for the
    // triggers that came during the slow run (all five together), and then it waits.
    await expectEventually(() => expect(runs).toBe(6));
    await turnsOfTheEventLoop(20);
    expect(runs).toBe(6);
    expect(maxRunning).toBe(1);
    loop.trigger();
    await expectEventually(() => expect(runs).toBe(7));

    // stop() during a run waits for that run to finish, and nothing runs after it.
    release = undefined;
    blockNextRun = true;
    loop.trigger();
    await expectEventually(() => expect(release).toBeDefined());
    let stopped = false;
    const stopping = loop.stop().then(() => (stopped = true));
    await turnsOfTheEventLoop(20);
    expect(stopped).toBe(false);
    expect(running).toBe(1);
    release!();
    await stopping;
    expect(running).toBe(0);
    expect(runs).toBe(8);
    loop.trigger();
    await turnsOfTheEventLoop(20);
    expect(maxRunning).toBe(1);
    expect(loop.statistics()).toMatchObject({ runs: 8, failures: 0 });
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
