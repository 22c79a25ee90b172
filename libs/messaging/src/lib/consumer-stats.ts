/**
 * Counters a consumer keeps about its own work, in the spirit of Aidbox's `$status`: delivered, in process,
 * retried, dead-lettered, and the last errors. `lost` exists to be watched: it counts messages whose processing
 * finished — so their offset became committable — without a recorded outcome (handled, retried or
 * dead-lettered). The runtime has no path that does that, so anything but 0 is a bug.
 */
export interface RecentError {
  readonly at: string;
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly error: string;
}

export interface ConsumerStatsSnapshot {
  readonly startedAt: string;
  readonly received: number;
  readonly handled: number;
  readonly inProcess: number;
  readonly retried: number;
  readonly deadLettered: number;
  readonly lost: number;
  readonly recentErrors: readonly RecentError[];
}

export class ConsumerStats {
  private readonly startedAt = new Date().toISOString();
  private received = 0;
  private handled = 0;
  private inProcess = 0;
  private retried = 0;
  private deadLettered = 0;
  private lost = 0;
  private readonly recentErrors: RecentError[] = [];

  constructor(private readonly keepErrors = 20) {}

  messageReceived(): void {
    this.received += 1;
    this.inProcess += 1;
  }

  messageHandled(): void {
    this.handled += 1;
    this.inProcess -= 1;
  }

  messageRetried(): void {
    this.retried += 1;
    this.inProcess -= 1;
  }

  messageDeadLettered(): void {
    this.deadLettered += 1;
    this.inProcess -= 1;
  }

  /** The outcome could not be recorded; the message stays uncommitted and will be read again. */
  messageAbandoned(): void {
    this.inProcess -= 1;
  }

  /** Processing finished (the offset will be committed) but no outcome was recorded: a bug in the runtime. */
  messageLost(): void {
    this.lost += 1;
    this.inProcess -= 1;
  }

  errorSeen(error: RecentError): void {
    this.recentErrors.push(error);
    if (this.recentErrors.length > this.keepErrors) this.recentErrors.shift();
  }

  snapshot(): ConsumerStatsSnapshot {
    return {
      startedAt: this.startedAt,
      received: this.received,
      handled: this.handled,
      inProcess: this.inProcess,
      retried: this.retried,
      deadLettered: this.deadLettered,
      lost: this.lost,
      recentErrors: [...this.recentErrors],
    };
  }
}
