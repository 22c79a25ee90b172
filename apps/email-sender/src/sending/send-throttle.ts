import { boundedDelayMs, MAX_TIMER_DELAY_MS } from '@notifications/messaging';

/**
 * Thrown when a send could not start within the hold budget (a rate-limit pause or the client-side rate limit
 * would keep it waiting longer): the message should be retried after `delayMs` instead of held in memory.
 */
export class HoldExceededError extends Error {
  override readonly name = 'HoldExceededError';

  constructor(
    readonly delayMs: number,
    readonly reason: 'paused' | 'rate-limited',
  ) {
    super(
      reason === 'paused'
        ? `Sending is paused by an ACS rate limit for another ${Math.ceil(delayMs / 1_000)} s`
        : `The client-side rate limit has no free slot for another ${Math.ceil(delayMs / 1_000)} s`,
    );
  }
}

export interface SendThrottleOptions {
  /** Sends in flight at once. */
  readonly concurrency: number;
  /** Client-side rate limit; 0 = none. */
  readonly ratePerMinute: number;
  /** The longest a message waits in process for a pause to end or a rate-limit slot; beyond → HoldExceededError. */
  readonly maxHoldMs: number;
  /** How often a waiting handler reports that it is alive. */
  readonly heartbeatEveryMs?: number;
  /** Longest rate-limit pause, whatever reset time ACS names (ACS_MAX_RETRY_AFTER_MS; default an hour). */
  readonly maxPauseMs?: number;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

export interface HoldContext {
  /** Keeps the consumer's group membership alive while the message waits. */
  heartbeat?(): Promise<void>;
}

export interface ThrottleSnapshot {
  readonly pausedUntil: string | null;
  readonly inFlight: number;
  readonly waitingForSlot: number;
  readonly concurrency: number;
  readonly ratePerMinute: number;
}

/** Gives a send permission to start; call it once the send is over. */
export type ReleaseSend = () => void;

// A second 429 whose reset time is within this of the one already announced does not announce again.
const ANNOUNCE_SLACK_MS = 1_000;

/**
 * Everything that decides *when* a send may start, shared by every handler of the process:
 *
 * - a concurrency bound (a semaphore) on sends in flight;
 * - the rate-limit pause: after a 429 nothing is sent until the reset time. A message that would wait at most
 *   `maxHoldMs` is held here (so the queue behind it is held too); a longer wait is refused with
 *   HoldExceededError so it can go to the retry topic, due at the reset time;
 * - an optional client-side rate limit, as evenly spaced start slots (never more than N in any minute).
 */
export class SendThrottle {
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly intervalMs: number;
  private readonly heartbeatEveryMs: number;
  private pausedUntilMs = 0;
  /** Bumped when an operator ends a pause early, so sends held by it stop waiting. */
  private pauseGeneration = 0;
  private announcement: { readonly until: number; readonly done: Promise<void> } | undefined;
  private nextSlotAt = 0;
  private active = 0;
  private readonly queue: (() => void)[] = [];

  constructor(private readonly options: SendThrottleOptions) {
    if (!Number.isInteger(options.concurrency) || options.concurrency < 1) {
      throw new RangeError(`concurrency must be a positive integer, got ${options.concurrency}`);
    }
    this.now = options.now ?? Date.now;
    this.sleep =
      options.sleep ??
      ((ms) => new Promise((resolve) => setTimeout(resolve, boundedDelayMs(ms, MAX_TIMER_DELAY_MS))));
    this.intervalMs = options.ratePerMinute > 0 ? 60_000 / options.ratePerMinute : 0;
    this.heartbeatEveryMs = options.heartbeatEveryMs ?? 3_000;
  }

  /** Epoch ms until which sending is paused (0 when it is not). */
  get pausedUntil(): number {
    return this.pausedUntilMs > this.now() ? this.pausedUntilMs : 0;
  }

  snapshot(): ThrottleSnapshot {
    const paused = this.pausedUntil;
    return {
      pausedUntil: paused === 0 ? null : new Date(paused).toISOString(),
      inFlight: this.active,
      waitingForSlot: this.queue.length,
      concurrency: this.options.concurrency,
      ratePerMinute: this.options.ratePerMinute,
    };
  }

  /**
   * Waits until a send may start: a free concurrency slot, no pause in force, a rate-limit slot.
   * @throws HoldExceededError when the pause or the rate limit would hold the message beyond `maxHoldMs`.
   */
  async acquire(hold: HoldContext = {}): Promise<ReleaseSend> {
    await this.enter();
    try {
      await this.waitForTurn(hold);
    } catch (error) {
      this.leave();
      throw error;
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.leave();
    };
  }

  /**
   * Pauses sending until `resetAt` and makes sure the pause was announced: runs `announce` unless an announcement
   * of (about) the same or a later reset time is already done or under way, and resolves once it is done —
   * so a caller that publishes its own Failed_TransientError afterwards keeps the order "pause, then failure".
   * A failed announcement is forgotten, so the next 429 tries again.
   */
  async pauseUntil(requestedResetAt: number, announce: (resetAt: number) => Promise<void>): Promise<void> {
    // A reset time comes from ACS (Retry-After): at most an hour ahead (boundedDelayMs); then a send tries again.
    const now = this.now();
    const resetAt = now + boundedDelayMs(requestedResetAt - now, this.options.maxPauseMs);
    this.pausedUntilMs = Math.max(this.pausedUntilMs, resetAt);
    const current = this.announcement;
    if (current && resetAt <= current.until + ANNOUNCE_SLACK_MS) {
      await current.done;
      return;
    }
    const done = announce(resetAt).catch((error: unknown) => {
      if (this.announcement?.done === done) this.announcement = undefined;
      throw error;
    });
    this.announcement = { until: resetAt, done };
    await done;
  }

  /**
   * Ends a pause now (an operator's decision, e.g. after ACS raised the quota): held sends start within one
   * heartbeat interval, and the next 429 is announced again. Returns the end the pause had, if one was in force.
   */
  endPause(): number | undefined {
    const pausedUntil = this.pausedUntil;
    this.pausedUntilMs = 0;
    this.announcement = undefined;
    this.pauseGeneration += 1;
    return pausedUntil === 0 ? undefined : pausedUntil;
  }

  private async waitForTurn(hold: HoldContext): Promise<void> {
    const deadline = this.now() + this.options.maxHoldMs;
    let slotTaken = false;
    for (;;) {
      const now = this.now();
      const pausedFor = this.pausedUntilMs - now;
      if (pausedFor > 0) {
        if (now + pausedFor > deadline) throw new HoldExceededError(pausedFor, 'paused');
        // A slot taken before the pause began is stale by the time it ends; take a fresh one then.
        slotTaken = false;
        await this.hold(pausedFor, hold, this.pauseGeneration);
        continue;
      }
      if (slotTaken || this.intervalMs === 0) return;
      const slotAt = Math.max(now, this.nextSlotAt);
      if (slotAt > deadline) throw new HoldExceededError(slotAt - now, 'rate-limited');
      this.nextSlotAt = slotAt + this.intervalMs;
      slotTaken = true;
      if (slotAt > now) await this.hold(slotAt - now, hold);
      // Loop once more: a pause may have begun while this send waited for its slot.
    }
  }

  private async hold(ms: number, hold: HoldContext, pauseGeneration?: number): Promise<void> {
    let left = ms;
    while (left > 0) {
      const step = Math.min(left, this.heartbeatEveryMs);
      await this.sleep(step);
      left -= step;
      if (pauseGeneration !== undefined && pauseGeneration !== this.pauseGeneration) return;
      if (left > 0 && hold.heartbeat) {
        // A failed heartbeat means a rebalance; the consumer runner deals with it, the wait goes on.
        await hold.heartbeat().catch(() => undefined);
      }
    }
  }

  private enter(): Promise<void> {
    if (this.active < this.options.concurrency) {
      this.active += 1;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.queue.push(resolve));
  }

  private leave(): void {
    const next = this.queue.shift();
    // Hand the slot straight to the next waiter (active stays the same), else free it.
    if (next) next();
    else this.active -= 1;
  }
}
