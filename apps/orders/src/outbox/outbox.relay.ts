import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  MessageProducer,
  RecordTooLargeError,
  isTracingActive,
  messagingTracer,
} from '@notifications/messaging';
import { SpanKind, SpanStatusCode, context, propagation, trace } from '@opentelemetry/api';
import { ORDERS_CONFIG } from '../common/tokens';
import { errorMessage } from '../common/dependency-unavailable.error';
import { type OrdersConfig } from '../config/orders.config';
import { UnitOfWork } from '../database/unit-of-work';
import { OutboxRepository, type ClaimedOutboxMessage } from './outbox.repository';
import { storedTraceHeaders } from './trace-context';

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
 * Publishes outbox rows to Kafka: lease a batch (SKIP LOCKED, so replicas and parallel loops share the work),
 * publish it through the process's idempotent producer (coalesced into few requests), then mark the rows sent.
 * A relay that dies after the lease leaves its rows to be re-driven when the lease runs out; a message can then
 * reach Kafka twice, never zero times, and every consumer of these topics is idempotent.
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
    const maxBytes = this.config.scheduler.outboxBatchBytes;
    const messages = await this.uow.run((tx) =>
      this.outbox.claim(tx, limit, this.config.scheduler.outboxLeaseMs, maxBytes),
    );
    if (messages.length === 0) return { claimed: 0, published: 0, failed: 0, refused: 0, more: false };
    const results = await Promise.allSettled(messages.map((message) => this.publish(message)));
    const published: string[] = [];
    const failed: ClaimedOutboxMessage[] = [];
    const refused: { readonly message: ClaimedOutboxMessage; readonly error: RecordTooLargeError }[] = [];
    let firstError: unknown;
    results.forEach((result, index) => {
      const message = messages[index] as ClaimedOutboxMessage;
      if (result.status === 'fulfilled') published.push(message.id);
      else if (result.reason instanceof RecordTooLargeError) refused.push({ message, error: result.reason });
      else {
        failed.push(message);
        firstError ??= result.reason;
      }
    });
    await this.outbox.markPublished(this.uow.autoCommit, published);
    for (const { message, error } of refused) {
      await this.outbox.markRefused(this.uow.autoCommit, [message.id], error.message);
      this.logger.error(
        `Outbox: message ${message.id} for ${message.topic} refused for good, not retried: ${error.message}`,
      );
    }
    if (failed.length > 0) {
      const attempts = Math.max(...failed.map((message) => message.attempts));
      const retryAfterMs = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * attempts);
      await this.outbox.markFailed(
        this.uow.autoCommit,
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
        headers: { 'x-outbox-id': message.id, ...traceHeaders },
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
