import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { DELIVERY_REPORT_KEY_HEADER, redactConfig } from '@notifications/config';
import { setTimeout as sleep } from 'node:timers/promises';
import { CLOCK, type Clock } from '../common/clock';
import { DueQueue } from '../common/due-queue';
import { EMULATOR_CONFIG, type EmulatorConfig } from '../config/emulator.config';
import type { DeliveryReportStatus, StatusMix } from '../scripting/rule.schema';
import { pickStatus } from '../scripting/status-mix';
import { deliveryReportEvent } from './event-grid-event';

export interface DeliveryReportSettings {
  readonly webhookUrl: string | undefined;
  readonly statusMix: StatusMix;
  readonly delayMs: number;
}

export interface DeliveryReportCounters {
  /** Events planned (one per recipient of a succeeded operation) while a webhook was set. */
  readonly scheduled: number;
  /** Events the webhook acknowledged with a 2xx. */
  readonly delivered: number;
  /** Events given up on: attempts exhausted, a non-retriable answer, or the outbox full. */
  readonly failed: number;
  /** Events dropped because the webhook was unset (or a reset happened) before they were sent. */
  readonly discarded: number;
  /** HTTP requests made to the webhook, including retries. */
  readonly attempts: number;
  readonly retries: number;
  /** Events waiting for their due time or for a free delivery slot. */
  readonly pending: number;
  readonly inFlightRequests: number;
  readonly lastError?: string;
}

interface PendingReport {
  readonly operationId: string;
  readonly sender: string;
  readonly recipients: readonly { address: string; status: DeliveryReportStatus }[];
  readonly attemptedAt: number;
}

/** One recipient's event, waiting for a delivery slot; serialised only when its batch is formed. */
interface OutboxEvent {
  readonly report: PendingReport;
  readonly recipient: { address: string; status: DeliveryReportStatus };
}

/** A batch as posted: the JSON array, kept as text so that retries resend exactly the same events. */
interface Batch {
  readonly body: string;
  readonly events: number;
}

// Event Grid does not retry these answers: the subscriber said the event itself is unacceptable.
const NON_RETRIABLE = new Set([400, 403, 413]);
const MAX_OUTBOX = 1_000_000;
const MAX_BACKOFF_MS = 5000;

/**
 * Posts Event Grid `EmailDeliveryReportReceived` events to a webhook once an operation has succeeded, as an ACS
 * resource with an Event Grid subscription would. One timer serves every pending report (a heap by due time),
 * firing at most once per `tickMs`, so that many operations share a tick; deliveries run with bounded
 * concurrency and retry with exponential backoff.
 *
 * Events go out in batches (a JSON array of up to `batchSize` events and about `batchKb` KB), as Event Grid
 * delivers to a subscription with batching enabled: "Max events per batch" (1–5 000, never exceeded) and
 * "Preferred batch size in kilobytes" (a target ceiling; a single larger event still goes alone), see
 * https://learn.microsoft.com/azure/event-grid/delivery-and-retry#batched-event-delivery. A batch is formed from
 * the events due at a tick, as Event Grid forms one from the events available: it does not wait for more.
 */
@Injectable()
export class DeliveryReportService implements OnApplicationShutdown {
  private readonly logger = new Logger(DeliveryReportService.name);
  private settings: DeliveryReportSettings;
  private readonly due = new DueQueue<PendingReport>();
  /** Events before `outboxHead` were taken into batches; their entries are cleared to undefined. */
  private outbox: (OutboxEvent | undefined)[] = [];
  private outboxHead = 0;
  private inFlight = 0;
  /** Events (one per recipient) of the reports in `due`. */
  private dueEvents = 0;
  private timer: NodeJS.Timeout | undefined;
  private armedFor = Number.POSITIVE_INFINITY;
  /** When the timer last fired: the next tick is at least `tickMs` later. */
  private lastTickAt = Number.NEGATIVE_INFINITY;
  private abort = new AbortController();
  private counters = emptyCounters();
  private lastError: string | undefined;
  /** Bumped by reset(), so that deliveries started before it do not count afterwards. */
  private generation = 0;

  constructor(
    @Inject(EMULATOR_CONFIG) private readonly config: EmulatorConfig,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {
    this.settings = this.initialSettings();
  }

  get enabled(): boolean {
    return this.settings.webhookUrl !== undefined;
  }

  view(): DeliveryReportSettings & {
    batchSize: number;
    batchKb: number;
    tickMs: number;
    concurrency: number;
    maxAttempts: number;
    timeoutMs: number;
  } {
    const { batchSize, batchKb, tickMs, concurrency, maxAttempts, timeoutMs } = this.config.deliveryReports;
    return {
      ...this.settings,
      // The URL usually carries the subscriber's `accesskey`; never echo it.
      webhookUrl:
        this.settings.webhookUrl === undefined ? undefined : String(redactConfig(this.settings.webhookUrl)),
      batchSize,
      batchKb,
      tickMs,
      concurrency,
      maxAttempts,
      timeoutMs,
    };
  }

  configure(change: { webhookUrl?: string | null; statusMix?: StatusMix; delayMs?: number }): void {
    this.settings = {
      webhookUrl:
        change.webhookUrl === undefined ? this.settings.webhookUrl : (change.webhookUrl ?? undefined),
      statusMix: change.statusMix ?? this.settings.statusMix,
      delayMs: change.delayMs ?? this.settings.delayMs,
    };
    this.logger.log(`delivery reports: ${JSON.stringify(this.view())}`);
  }

  /**
   * Plans one report per recipient of a succeeded operation, due `delayMs` after it completes. `ruleMix` (from
   * the rule that decided the send) applies to the recipients that rule's pattern matches; the others get the
   * default mix.
   */
  onSucceeded(report: {
    operationId: string;
    sender: string;
    recipients: readonly string[];
    completesAt: number;
    rule?: { pattern: RegExp; mix: StatusMix | undefined };
  }): void {
    if (!this.enabled) return;
    const { rule } = report;
    const recipients = report.recipients.map((address) => {
      const mix = rule?.mix !== undefined && rule.pattern.test(address) ? rule.mix : this.settings.statusMix;
      return { address, status: pickStatus(mix, report.operationId, address) };
    });
    const dueAt = report.completesAt + this.settings.delayMs;
    this.due.push(dueAt, {
      operationId: report.operationId,
      sender: report.sender,
      recipients,
      attemptedAt: report.completesAt,
    });
    this.counters.scheduled += recipients.length;
    this.dueEvents += recipients.length;
    this.arm();
  }

  counts(): DeliveryReportCounters {
    return {
      ...this.counters,
      pending: this.pendingEvents(),
      inFlightRequests: this.inFlight,
      ...(this.lastError === undefined ? {} : { lastError: this.lastError }),
    };
  }

  /** Forgets pending reports and counters; with `settings`, also returns to the start-up settings. */
  reset(settings = false): void {
    this.generation += 1;
    this.due.clear();
    this.dueEvents = 0;
    this.outbox = [];
    this.outboxHead = 0;
    this.lastTickAt = Number.NEGATIVE_INFINITY;
    this.counters = emptyCounters();
    this.lastError = undefined;
    if (settings) this.settings = this.initialSettings();
  }

  onApplicationShutdown(): void {
    this.abort.abort();
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private initialSettings(): DeliveryReportSettings {
    const { webhookUrl, statusMix, delayMs } = this.config.deliveryReports;
    return { webhookUrl, statusMix, delayMs };
  }

  private pendingEvents(): number {
    return this.outbox.length - this.outboxHead + this.dueEvents;
  }

  private arm(): void {
    const due = this.due.peekDueAt();
    if (due === undefined) return;
    const next = Math.max(due, this.lastTickAt + this.config.deliveryReports.tickMs);
    if (next >= this.armedFor) return;
    clearTimeout(this.timer);
    this.armedFor = next;
    this.timer = setTimeout(() => this.fire(), Math.max(0, next - this.clock.now()));
    this.timer.unref();
  }

  private fire(): void {
    this.timer = undefined;
    this.armedFor = Number.POSITIVE_INFINITY;
    const now = this.clock.now();
    this.lastTickAt = now;
    for (const report of this.due.popDue(now)) {
      this.dueEvents -= report.recipients.length;
      for (const recipient of report.recipients) {
        if (this.outbox.length - this.outboxHead >= MAX_OUTBOX) {
          this.counters.failed += 1;
          this.lastError = `outbox full (${MAX_OUTBOX} events)`;
          continue;
        }
        this.outbox.push({ report, recipient });
      }
    }
    this.pump();
    this.arm();
  }

  private pump(): void {
    const { concurrency } = this.config.deliveryReports;
    while (this.inFlight < concurrency && this.outboxHead < this.outbox.length) {
      const batch = this.nextBatch();
      if (this.outboxHead === this.outbox.length) {
        this.outbox = [];
        this.outboxHead = 0;
      } else if (this.outboxHead >= 65_536 && this.outboxHead * 2 >= this.outbox.length) {
        // While the webhook lags behind the sends the outbox never drains: compact it as it is consumed, or the
        // array would grow with the whole run.
        this.outbox = this.outbox.slice(this.outboxHead);
        this.outboxHead = 0;
      }
      this.inFlight += 1;
      const generation = this.generation;
      void this.deliver(batch, generation).finally(() => {
        this.inFlight -= 1;
        if (!this.abort.signal.aborted) this.pump();
      });
    }
  }

  /** Takes up to `batchSize` events, stopping before the body would pass `batchKb` (but at least one event). */
  private nextBatch(): Batch {
    const { batchSize, batchKb, resourceId } = this.config.deliveryReports;
    const maxBytes = batchKb * 1024;
    const now = this.clock.now();
    const parts: string[] = [];
    let bytes = 2;
    while (parts.length < batchSize && this.outboxHead < this.outbox.length) {
      const next = this.outbox[this.outboxHead];
      if (next === undefined) break;
      const json = JSON.stringify(
        deliveryReportEvent({
          resourceId,
          operationId: next.report.operationId,
          sender: next.report.sender,
          recipient: next.recipient.address,
          status: next.recipient.status,
          attemptedAt: next.report.attemptedAt,
          now,
        }),
      );
      const size = Buffer.byteLength(json);
      if (parts.length > 0 && bytes + 1 + size > maxBytes) break;
      bytes += size + (parts.length > 0 ? 1 : 0);
      parts.push(json);
      this.outbox[this.outboxHead] = undefined;
      this.outboxHead += 1;
    }
    return { body: `[${parts.join(',')}]`, events: parts.length };
  }

  private async deliver(batch: Batch, generation: number): Promise<void> {
    const { maxAttempts, timeoutMs, accessKey } = this.config.deliveryReports;
    const { body } = batch;
    const current = () => generation === this.generation;
    for (let attempt = 1; ; attempt += 1) {
      const url = this.settings.webhookUrl;
      if (url === undefined || !current()) {
        if (current()) this.counters.discarded += batch.events;
        return;
      }
      this.counters.attempts += 1;
      if (attempt > 1) this.counters.retries += 1;
      let retriable = true;
      try {
        const response = await fetch(url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            // Headers Event Grid sets on webhook deliveries.
            'aeg-event-type': 'Notification',
            'aeg-subscription-name': 'ACS-EMULATOR',
            'aeg-delivery-count': String(attempt - 1),
            // The subscription's static, secret delivery property
            // (https://learn.microsoft.com/azure/event-grid/delivery-properties).
            ...(accessKey === undefined ? {} : { [DELIVERY_REPORT_KEY_HEADER]: accessKey }),
          },
          body,
          signal: AbortSignal.any([this.abort.signal, AbortSignal.timeout(timeoutMs)]),
        });
        await response.body?.cancel();
        if (response.ok) {
          if (current()) this.counters.delivered += batch.events;
          return;
        }
        retriable = !NON_RETRIABLE.has(response.status);
        this.lastError = `webhook answered HTTP ${response.status}`;
      } catch (error) {
        if (this.abort.signal.aborted) return;
        this.lastError = `webhook request failed: ${error instanceof Error ? error.message : String(error)}`;
      }
      if (!retriable || attempt >= maxAttempts) {
        if (current()) this.counters.failed += batch.events;
        this.logger.warn(
          `gave up on ${batch.events} delivery report(s) after ${attempt} attempt(s): ${this.lastError}`,
        );
        return;
      }
      try {
        await sleep(Math.min(MAX_BACKOFF_MS, 200 * 2 ** (attempt - 1)), undefined, {
          signal: this.abort.signal,
        });
      } catch {
        return;
      }
    }
  }
}

function emptyCounters(): {
  scheduled: number;
  delivered: number;
  failed: number;
  discarded: number;
  attempts: number;
  retries: number;
} {
  return { scheduled: 0, delivered: 0, failed: 0, discarded: 0, attempts: 0, retries: 0 };
}
