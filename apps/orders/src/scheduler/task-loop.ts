import { type LoggerService } from '@nestjs/common';
import { boundedDelayMs, MAX_TIMER_DELAY_MS } from '@notifications/messaging';

export interface PeriodicTask {
  readonly name: string;
  readonly intervalMs: number;
  /** Delay before the first run (and before any trigger is honoured). */
  readonly startDelayMs?: number;
  /** Runs one unit of work; resolves true when more work is waiting (run again without waiting). */
  run(): Promise<boolean>;
}

export interface TaskStatistics {
  readonly runs: number;
  readonly failures: number;
  readonly lastRunAt?: string;
  readonly lastError?: string;
}

// A task that keeps reporting more work yields to the event loop after this long.
const MAX_BURST_MS = 1_000;

/**
 * Runs one task periodically, never overlapping itself: after a run, it waits the interval (or less, when
 * triggered), so a slow run delays the next instead of piling up. Failures are logged and counted; the loop
 * carries on.
 */
export class TaskLoop {
  private running = false;
  private current: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private triggered = false;
  private stats: { runs: number; failures: number; lastRunAt?: string; lastError?: string } = {
    runs: 0,
    failures: 0,
  };

  constructor(
    private readonly task: PeriodicTask,
    private readonly logger: LoggerService,
  ) {}

  get name(): string {
    return this.task.name;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.current = this.loop();
  }

  /** Runs the task as soon as possible (after the start delay), e.g. right after new work was committed. */
  trigger(): void {
    this.triggered = true;
    this.wake?.();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.current;
  }

  statistics(): TaskStatistics {
    return { ...this.stats };
  }

  private async loop(): Promise<void> {
    await this.sleep(this.task.startDelayMs ?? 0, false);
    while (this.running) {
      this.triggered = false;
      const burstStart = Date.now();
      let more = true;
      while (more && this.running && Date.now() - burstStart < MAX_BURST_MS) {
        more = await this.runOnce();
      }
      if (!this.running) break;
      if (more) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        continue;
      }
      if (!this.triggered) await this.sleep(this.task.intervalMs, true);
    }
  }

  private async runOnce(): Promise<boolean> {
    this.stats.runs += 1;
    this.stats.lastRunAt = new Date().toISOString();
    try {
      return await this.task.run();
    } catch (error) {
      this.stats.failures += 1;
      this.stats.lastError = error instanceof Error ? error.message : String(error);
      this.logger.error(`${this.task.name} failed: ${this.stats.lastError}`, 'Scheduler');
      return false;
    }
  }

  private sleep(ms: number, wakeable: boolean): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(this.timer);
        this.wake = undefined;
        resolve();
      };
      this.timer = setTimeout(done, boundedDelayMs(ms, MAX_TIMER_DELAY_MS));
      this.wake = wakeable ? done : (): void => (this.running ? undefined : done());
    });
  }
}
