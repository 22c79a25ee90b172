import { type EmailSendResult } from '@notifications/contracts';

/** What happened to one consumed email. */
export type SendOutcomeKind =
  | 'accepted'
  /** A redelivered or retried email whose operation ACS already had: reported accepted, not POSTed again. */
  | 'alreadyAccepted'
  | 'rejected'
  | 'rateLimited'
  | 'retryScheduled'
  | 'gaveUp'
  | 'heldBack'
  /** ACS unavailable (5xx, no answer): the partition paused, the email is read again, no attempt spent. */
  | 'acsUnavailable';

export interface LatencySummary {
  readonly count: number;
  readonly p50Ms: number | null;
  readonly p90Ms: number | null;
  readonly p99Ms: number | null;
  readonly maxMs: number | null;
}

export interface SendStatisticsSnapshot {
  readonly since: string;
  readonly outcomes: Readonly<Record<SendOutcomeKind, number>>;
  readonly results: Readonly<Partial<Record<EmailSendResult, number>>>;
  /** From the moment a handler got the email to the broker's ack of the accepted identifier. */
  readonly consumeToAccepted: LatencySummary;
  readonly lastError: { readonly at: string; readonly reason: string } | null;
}

// Log-spaced buckets (about 4 % wide) from 0.1 ms to ~28 h: constant memory however many emails go through,
// percentiles within a few percent.
const GROWTH = 1.04;
const MIN_MS = 0.1;
const BUCKETS = Math.ceil(Math.log(1e8 / MIN_MS) / Math.log(GROWTH)) + 1;

/** A latency histogram with fixed memory. */
export class LatencyHistogram {
  private readonly counts = new Array<number>(BUCKETS).fill(0);
  private total = 0;
  private max = 0;

  record(ms: number): void {
    const value = Math.max(ms, 0);
    const index =
      value <= MIN_MS ? 0 : Math.min(BUCKETS - 1, Math.ceil(Math.log(value / MIN_MS) / Math.log(GROWTH)));
    this.counts[index] = (this.counts[index] ?? 0) + 1;
    this.total += 1;
    this.max = Math.max(this.max, value);
  }

  /** The upper bound of the bucket holding the q-quantile (0 < q ≤ 1), capped at the largest value seen. */
  quantile(q: number): number | null {
    if (this.total === 0) return null;
    const rank = Math.max(1, Math.ceil(q * this.total));
    let seen = 0;
    for (let index = 0; index < BUCKETS; index += 1) {
      seen += this.counts[index] ?? 0;
      if (seen >= rank) return Math.min(this.max, MIN_MS * GROWTH ** index);
    }
    return this.max;
  }

  summary(): LatencySummary {
    const round = (value: number | null): number | null =>
      value === null ? null : Math.round(value * 10) / 10;
    return {
      count: this.total,
      p50Ms: round(this.quantile(0.5)),
      p90Ms: round(this.quantile(0.9)),
      p99Ms: round(this.quantile(0.99)),
      maxMs: this.total === 0 ? null : round(this.max),
    };
  }
}

function emptyOutcomes(): Record<SendOutcomeKind, number> {
  return {
    accepted: 0,
    alreadyAccepted: 0,
    rejected: 0,
    rateLimited: 0,
    retryScheduled: 0,
    gaveUp: 0,
    heldBack: 0,
    acsUnavailable: 0,
  };
}

/** Counters and the consume → accepted latency of this process, for `GET /stats` and the benchmark. */
export class SendStatistics {
  private since = new Date().toISOString();
  private outcomes: Record<SendOutcomeKind, number> = emptyOutcomes();
  private results: Partial<Record<EmailSendResult, number>> = {};
  private latency = new LatencyHistogram();
  private lastError: { at: string; reason: string } | null = null;

  /** Starts counting afresh (e.g. after a benchmark's warm-up). */
  reset(): void {
    this.since = new Date().toISOString();
    this.outcomes = emptyOutcomes();
    this.results = {};
    this.latency = new LatencyHistogram();
    this.lastError = null;
  }

  accepted(latencyMs: number): void {
    this.outcomes.accepted += 1;
    this.latency.record(latencyMs);
  }

  outcome(kind: Exclude<SendOutcomeKind, 'accepted'>, reason?: string): void {
    this.outcomes[kind] += 1;
    if (reason !== undefined) this.lastError = { at: new Date().toISOString(), reason };
  }

  resultPublished(result: EmailSendResult): void {
    this.results[result] = (this.results[result] ?? 0) + 1;
  }

  snapshot(): SendStatisticsSnapshot {
    return {
      since: this.since,
      outcomes: { ...this.outcomes },
      results: { ...this.results },
      consumeToAccepted: this.latency.summary(),
      lastError: this.lastError,
    };
  }
}
