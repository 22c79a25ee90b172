import { Injectable } from '@nestjs/common';
import { type EmailSendResult } from '@notifications/contracts';
import { Histogram } from '@notifications/observability';
import { durationLabel } from './delay-tiers';

export interface LatenessSummary {
  readonly count: number;
  /** Checks that started before their due time (never expected; counted to be watched). */
  readonly early: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly meanMs: number;
}

export interface PollingStatsSnapshot {
  readonly startedAt: string;
  /** Messages taken from `email.sending.accepted` and the delay tiers. */
  readonly messages: number;
  /** Messages sent to a delay tier to wait, per tier. */
  readonly waits: Readonly<Record<string, number>>;
  /** Messages held in process until due (at most STATUS_CHECK_MAX_HOLD_MS, or STATUS_CHECK_BATCH_HOLD_MS in a batch). */
  readonly held: number;
  readonly checks: number;
  /** Checks skipped because this replica had already published the operation's final delivery report. */
  readonly skippedReported: number;
  readonly checksInFlight: number;
  /** Final results published by polling, per result (give-ups included). */
  readonly results: Readonly<Partial<Record<EmailSendResult, number>>>;
  readonly stillRunning: number;
  readonly transientErrors: number;
  readonly gaveUp: number;
  /** How far behind its due time each check started. */
  readonly lateness: LatenessSummary;
  readonly lastTransientError?: string;
}

/** Counters of the polling side, for `GET /stats` (and the benchmark). */
@Injectable()
export class PollingStats {
  private startedAt = new Date().toISOString();
  private messages = 0;
  private waits: Record<string, number> = {};
  private held = 0;
  private checks = 0;
  private skipped = 0;
  private checksInFlight = 0;
  private results: Partial<Record<EmailSendResult, number>> = {};
  private stillRunning = 0;
  private transientErrors = 0;
  private gaveUp = 0;
  private lastTransientError: string | undefined;
  private readonly lateness = Histogram.latency();

  messageReceived(): void {
    this.messages += 1;
  }

  waiting(tierMs: number): void {
    const label = durationLabel(tierMs);
    this.waits[label] = (this.waits[label] ?? 0) + 1;
  }

  heldInProcess(): void {
    this.held += 1;
  }

  checkStarted(latenessMs: number): void {
    this.checks += 1;
    this.checksInFlight += 1;
    this.lateness.record(latenessMs);
  }

  skippedReported(): void {
    this.skipped += 1;
  }

  checkFinished(): void {
    this.checksInFlight -= 1;
  }

  resultPublished(result: EmailSendResult, gaveUp: boolean): void {
    this.results[result] = (this.results[result] ?? 0) + 1;
    if (gaveUp) this.gaveUp += 1;
  }

  rescheduled(reason: 'running' | 'transient', detail?: string): void {
    if (reason === 'running') this.stillRunning += 1;
    else {
      this.transientErrors += 1;
      this.lastTransientError = detail;
    }
  }

  /** Starts counting afresh (the benchmark measures phases separately). */
  reset(): void {
    this.startedAt = new Date().toISOString();
    this.messages = 0;
    this.waits = {};
    this.held = 0;
    this.checks = 0;
    this.skipped = 0;
    this.results = {};
    this.stillRunning = 0;
    this.transientErrors = 0;
    this.gaveUp = 0;
    this.lastTransientError = undefined;
    this.lateness.reset();
  }

  snapshot(): PollingStatsSnapshot {
    return {
      startedAt: this.startedAt,
      messages: this.messages,
      waits: { ...this.waits },
      held: this.held,
      checks: this.checks,
      skippedReported: this.skipped,
      checksInFlight: this.checksInFlight,
      results: { ...this.results },
      stillRunning: this.stillRunning,
      transientErrors: this.transientErrors,
      gaveUp: this.gaveUp,
      lateness: latenessSummary(this.lateness),
      ...(this.lastTransientError === undefined ? {} : { lastTransientError: this.lastTransientError }),
    };
  }
}

/** 0 rather than null while empty: the benchmark and dashboards read numbers. */
function latenessSummary(histogram: Histogram): LatenessSummary {
  const { count, p50Ms, p90Ms, p99Ms, maxMs, meanMs } = histogram.summary();
  return {
    count,
    early: histogram.negatives,
    p50Ms: p50Ms ?? 0,
    p90Ms: p90Ms ?? 0,
    p99Ms: p99Ms ?? 0,
    maxMs: maxMs ?? 0,
    meanMs: meanMs ?? 0,
  };
}
