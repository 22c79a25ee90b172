import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  MessageProducer,
  RecordTooLargeError,
  isTracingActive,
  messagingTracer,
} from '@notifications/messaging';
import { SpanKind, SpanStatusCode, context, propagation, trace } from '@opentelemetry/api';
import { ORDERS_CONFIG } from '../config/tokens';
import { errorMessage } from '../domain/dependency-unavailable.error';
import { type OrdersConfig } from '../config/orders.config';
import { UnitOfWork } from '../store/unit-of-work';
import { OutboxRepository, type ClaimedOutboxMessage } from '../store/outbox.repository';
import { storedTraceHeaders } from '../store/trace-context';

export interface RelayOutcome {
  readonly claimed: number;
  readonly published: number;
  /** Not published this time; claimable again after a back-off. */
  readonly failed: number;
  /** Never publishable (too large for the broker): parked with the reason, not retried. */
  readonly refused: number;
  /** The claim stopped at its row or byte bound: more rows may be waiting. */
  readonly more: boolean;
}

// After a failed publish, a row waits this long (× attempts, capped) before it is tried again.
const RETRY_BASE_MS = 1_000;
const RETRY_MAX_MS = 60_000;

/**
 * Publishes outbox rows to Kafka in one transaction per batch: lock claimable rows (SKIP LOCKED, so replicas and
 * parallel loops share the work), publish them through the process's idempotent producer (coalesced into few
 * requests, in id order), then delete the published rows (or mark them, while `ORDERS_OUTBOX_RETENTION` keeps them)
 * and back off the failed ones, and commit. Nothing is written before the publish: a relay that dies or whose
 * transaction fails leaves every row of its batch claimable as it was, so a message can reach Kafka twice, never
 * zero times, and every consumer of these topics is idempotent. A row costs one insert and one delete (one update
 * more while kept), whatever the backlog.
 */
@Injectable()
export class OutboxRelay {
  private readonly logger = new Logger(OutboxRelay.name);

  constructor(
    private readonly uow: UnitOfWork,
    private readonly outbox: OutboxRepository,
    private readonly producer: MessageProducer,
    @Inject(ORDERS_CONFIG) private readonly config: OrdersConfig,
  ) {}

  async relayBatch(limit = this.config.scheduler.outboxBatchSize): Promise<RelayOutcome> {
    const { outboxBatchBytes: maxBytes, outboxLeaseMs: leaseMs, outboxRetentionMs } = this.config.scheduler;
    return this.uow.run(async (tx): Promise<RelayOutcome> => {
      // Backstop for a relay that stops answering while holding its rows: PostgreSQL ends the transaction.
      await this.outbox.holdAtMost(tx, 2 * leaseMs);
      const messages = await this.outbox.claim(tx, limit, maxBytes);
      if (messages.length === 0) return { claimed: 0, published: 0, failed: 0, refused: 0, more: false };
      const results = await settledWithin(
        messages.map((message) => this.publish(message)),
        leaseMs,
      );
      const published: string[] = [];
      const failed: ClaimedOutboxMessage[] = [];
      const refused: { readonly message: ClaimedOutboxMessage; readonly error: RecordTooLargeError }[] = [];
      let firstError: unknown;
      results.forEach((result, index) => {
        const message = messages[index] as ClaimedOutboxMessage;
        if (result.status === 'fulfilled') published.push(message.id);
        else if (result.reason instanceof RecordTooLargeError)
          refused.push({ message, error: result.reason });
        else {
          failed.push(message);
          firstError ??= result.reason;
        }
      });
      await this.outbox.markPublished(tx, published, outboxRetentionMs);
      for (const { message, error } of refused) {
        await this.outbox.markRefused(tx, [message.id], error.message);
        this.logger.error(
          `Outbox: message ${message.id} for ${message.topic} refused for good, not retried: ${error.message}`,
        );
      }
      if (failed.length > 0) {
        const attempts = Math.max(...failed.map((message) => message.attempts));
        const retryAfterMs = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * attempts);
        await this.outbox.markFailed(
          tx,
          failed.map((message) => message.id),
          errorMessage(firstError),
          retryAfterMs,
        );
        this.logger.error(
          `Outbox: ${failed.length} of ${messages.length} message(s) not published (${errorMessage(firstError)}); retry in ${retryAfterMs} ms`,
        );
      }
      const claimedBytes = messages.reduce((sum, message) => sum + Buffer.byteLength(message.payload), 0);
      return {
        claimed: messages.length,
        published: published.length,
        failed: failed.length,
        refused: refused.length,
        // The claim stops before the row that would pass `maxBytes`, so a cut claim holds at least that much.
        more: messages.length >= limit || claimedBytes >= maxBytes,
      };
    });
  }

  /**
   * Publishes with the trace context stored with the row (the request or message that wrote it), inside a
   * `publish <topic>` producer span of that trace when tracing is on, so the relay's hop shows in the trace.
   */
  private async publish(message: ClaimedOutboxMessage): Promise<void> {
    const stored = storedTraceHeaders(message.traceContext);
    const send = (traceHeaders: Record<string, string>): Promise<void> =>
      this.producer.publishRaw(message.topic, {
        key: message.key ?? null,
        value: message.payload,
        headers: { ...message.headers, 'x-outbox-id': message.id, ...traceHeaders },
      });
    if (stored['traceparent'] === undefined || !isTracingActive()) return send(stored);
    const parent = propagation.extract(context.active(), stored);
    const span = messagingTracer().startSpan(
      `publish ${message.topic}`,
      {
        kind: SpanKind.PRODUCER,
        attributes: {
          'messaging.system': 'kafka',
          'messaging.destination.name': message.topic,
          'messaging.operation.type': 'send',
          'outbox.id': message.id,
          'outbox.attempt': message.attempts,
        },
      },
      parent,
    );
    const headers: Record<string, string> = {};
    propagation.inject(trace.setSpan(parent, span), headers);
    try {
      await send(headers);
    } catch (error) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: errorMessage(error) });
      throw error;
    } finally {
      span.end();
    }
  }
}

/**
 * Like Promise.allSettled, but a promise still pending after `ms` counts as rejected: the relay's transaction holds
 * its rows only so long, and a publish that completes later anyway makes a duplicate, which consumers absorb.
 */
async function settledWithin<T>(
  promises: readonly Promise<T>[],
  ms: number,
): Promise<PromiseSettledResult<T>[]> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<'expired'>((resolve) => {
    timer = setTimeout(() => resolve('expired'), ms);
  });
  const outcomes: (PromiseSettledResult<T> | undefined)[] = promises.map(() => undefined);
  const tracked = promises.map((promise, index) =>
    promise.then(
      (value) => {
        outcomes[index] = { status: 'fulfilled', value };
      },
      (reason: unknown) => {
        outcomes[index] = { status: 'rejected', reason };
      },
    ),
  );
  try {
    await Promise.race([Promise.all(tracked), expired]);
  } finally {
    clearTimeout(timer);
  }
  const late = new Error(`not acknowledged within ${ms} ms (ORDERS_OUTBOX_LEASE)`);
  return outcomes.map((outcome) => outcome ?? { status: 'rejected', reason: late });
}
