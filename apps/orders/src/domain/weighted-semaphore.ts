/** Gives back what `acquire` granted; calling it again does nothing. */
export type Release = () => void;

export interface AcquireOptions {
  /** Give up after waiting this long (0: only if the weight fits now; Infinity: never). */
  readonly timeoutMs: number;
  /** Give up when aborted (e.g. the client went away while waiting). */
  readonly signal?: AbortSignal;
}

interface Waiter {
  readonly weight: number;
  readonly grant: (release: Release) => void;
}

/**
 * At most `capacity` units held at once (bytes of request bodies, recipients being expanded). Waiters are served
 * in arrival order: a small weight never overtakes a large one that waits, so a large one cannot starve. A weight
 * above the capacity is taken as the capacity (it then runs alone instead of never).
 */
export class WeightedSemaphore {
  private held = 0;
  private readonly waiting: Waiter[] = [];

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
    }
  }

  /** Units held now. */
  get inUse(): number {
    return this.held;
  }

  /** Waiters not yet admitted. */
  get queued(): number {
    return this.waiting.length;
  }

  /** A release once `weight` units are free; undefined when the wait timed out or was aborted. */
  acquire(weight: number, options: AcquireOptions): Promise<Release | undefined> {
    const units = Math.min(Math.max(0, Math.ceil(weight)), this.capacity);
    if (this.waiting.length === 0 && this.held + units <= this.capacity) {
      return Promise.resolve(this.take(units));
    }
    if (options.signal?.aborted === true || options.timeoutMs <= 0) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const waiter: Waiter = {
        weight: units,
        grant: (release) => {
          settle();
          resolve(release);
        },
      };
      const giveUp = (): void => {
        const index = this.waiting.indexOf(waiter);
        if (index < 0) return;
        this.waiting.splice(index, 1);
        settle();
        resolve(undefined);
        // The head may have been all that held smaller waiters back.
        this.admitWaiting();
      };
      const timer = Number.isFinite(options.timeoutMs) ? setTimeout(giveUp, options.timeoutMs) : undefined;
      const settle = (): void => {
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', giveUp);
      };
      options.signal?.addEventListener('abort', giveUp, { once: true });
      this.waiting.push(waiter);
    });
  }

  private take(units: number): Release {
    this.held += units;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.held -= units;
      this.admitWaiting();
    };
  }

  private admitWaiting(): void {
    for (;;) {
      const next = this.waiting[0];
      if (next === undefined || this.held + next.weight > this.capacity) return;
      this.waiting.shift();
      next.grant(this.take(next.weight));
    }
  }
}
