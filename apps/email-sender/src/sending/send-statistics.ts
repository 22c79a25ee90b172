import { type EmailSendResult } from '@notifications/contracts';
import { Histogram, type HistogramSummary } from '@notifications/observability';

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
  /** Its order was halted: not sent, reported on email.withheld. */
  | 'withheld'
  /** ACS unavailable (5xx, no answer): the partition paused, the email is read again, no attempt spent. */
  | 'acsUnavailable';

export interface SendStatisticsSnapshot {
  readonly since: string;
  readonly outcomes: Readonly<Record<SendOutcomeKind, number>>;
  readonly results: Readonly<Partial<Record<EmailSendResult, number>>>;
  /** From the moment a handler got the email to the broker's ack of the accepted identifier. */
  readonly consumeToAccepted: HistogramSummary;
  readonly lastError: { readonly at: string; readonly reason: string } | null;
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
    withheld: 0,
    acsUnavailable: 0,
  };
}

/** Counters and the consume → accepted latency of this process, for `GET /stats` and the benchmark. */
export class SendStatistics {
  private since = new Date().toISOString();
  private outcomes: Record<SendOutcomeKind, number> = emptyOutcomes();
  private results: Partial<Record<EmailSendResult, number>> = {};
  private latency = Histogram.latency();
  private lastError: { at: string; reason: string } | null = null;

  /** Starts counting afresh (e.g. after a benchmark's warm-up). */
  reset(): void {
    this.since = new Date().toISOString();
    this.outcomes = emptyOutcomes();
    this.results = {};
    this.latency = Histogram.latency();
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
