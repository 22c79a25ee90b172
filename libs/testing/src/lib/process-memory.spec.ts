import { type ChildProcess, spawn } from 'node:child_process';
import { expectEventually } from './expect-eventually';
import { processMemory, resetPeakRss } from './process-memory';

describe('processMemory', () => {
  it("reads this process's resident, anonymous and peak memory from /proc", () => {
    const memory = processMemory(process.pid);
    expect(memory).toBeDefined();
    expect(memory?.rssMb).toBeGreaterThan(0);
    expect(memory?.anonMb).toBeGreaterThan(0);
    expect(memory?.anonMb).toBeLessThanOrEqual(memory?.rssMb ?? 0);
    expect(memory?.peakRssMb).toBeGreaterThanOrEqual(memory?.rssMb ?? 0);
  });

  it('is undefined for a process that does not exist', () => {
    // Above Linux's pid_max (at most 2^22), so never a live process.
    expect(processMemory(2 ** 23)).toBeUndefined();
  });
});

describe('resetPeakRss', () => {
  let child: ChildProcess | undefined;
  afterEach(() => child?.kill('SIGKILL'));

  it("restarts a process's peak from its current RSS", async () => {
    // A process that touched 128 MiB and gave it back: its peak stays far above its RSS until reset.
    child = spawn(
      process.execPath,
      [
        '--expose-gc',
        '-e',
        'let b = Buffer.alloc(128 * 2 ** 20, 1); b = null; gc(); setInterval(() => {}, 1000);',
      ],
      { stdio: 'ignore' },
    );
    const pid = child.pid ?? 0;
    await expectEventually(() => {
      const memory = processMemory(pid);
      expect((memory?.peakRssMb ?? 0) - (memory?.rssMb ?? 0)).toBeGreaterThan(100);
    });
    expect(resetPeakRss(pid)).toBe(true);
    const after = processMemory(pid);
    expect((after?.peakRssMb ?? 0) - (after?.rssMb ?? 0)).toBeLessThan(10);
  });

  it('is false for a process that does not exist', () => {
    expect(resetPeakRss(2 ** 23)).toBe(false);
  });
});
