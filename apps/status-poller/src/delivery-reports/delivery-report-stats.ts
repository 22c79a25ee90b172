import { Injectable } from '@nestjs/common';
import { type EmailSendResult } from '@notifications/contracts';

export interface DeliveryReportStatsSnapshot {
  readonly requests: number;
  readonly validations: number;
  readonly published: Readonly<Partial<Record<EmailSendResult, number>>>;
  /** Delivery reports whose status SPEC does not map (e.g. `OutForDelivery`), per status; not published. */
  readonly unknownStatuses: Readonly<Record<string, number>>;
  /** Other event types (e.g. engagement reports), per type; not published. */
  readonly ignoredEventTypes: Readonly<Record<string, number>>;
  /** Events from another resource than ACS_RESOURCE_ID (or naming none); neither published nor retried. */
  readonly foreignEvents: number;
  readonly rejected: {
    readonly unauthorized: number;
    readonly malformed: number;
    readonly tooManyEvents: number;
    readonly unavailable: number;
  };
}

// Statuses and event types come from outside: count at most this many distinct names, the rest as "(other)".
const MAX_DISTINCT_NAMES = 50;

function increment(counts: Record<string, number>, name: string): void {
  const key = name in counts || Object.keys(counts).length < MAX_DISTINCT_NAMES ? name : '(other)';
  counts[key] = (counts[key] ?? 0) + 1;
}

@Injectable()
export class DeliveryReportStats {
  private requests = 0;
  private validations = 0;
  private readonly publishedByResult: Partial<Record<EmailSendResult, number>> = {};
  private readonly unknownStatuses: Record<string, number> = {};
  private readonly ignoredEventTypes: Record<string, number> = {};
  private foreignEvents = 0;
  private readonly rejected = { unauthorized: 0, malformed: 0, tooManyEvents: 0, unavailable: 0 };

  request(): void {
    this.requests += 1;
  }

  validation(): void {
    this.validations += 1;
  }

  published(result: EmailSendResult): void {
    this.publishedByResult[result] = (this.publishedByResult[result] ?? 0) + 1;
  }

  unknownStatus(status: string): void {
    increment(this.unknownStatuses, status);
  }

  ignored(eventType: string): void {
    increment(this.ignoredEventTypes, eventType);
  }

  foreign(): void {
    this.foreignEvents += 1;
  }

  rejectedRequest(reason: 'unauthorized' | 'malformed' | 'tooManyEvents' | 'unavailable'): void {
    this.rejected[reason] += 1;
  }

  snapshot(): DeliveryReportStatsSnapshot {
    return {
      requests: this.requests,
      validations: this.validations,
      published: { ...this.publishedByResult },
      unknownStatuses: { ...this.unknownStatuses },
      ignoredEventTypes: { ...this.ignoredEventTypes },
      foreignEvents: this.foreignEvents,
      rejected: { ...this.rejected },
    };
  }
}
