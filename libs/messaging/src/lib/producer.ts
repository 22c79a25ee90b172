import { type TopicDefinition } from '@notifications/contracts';
import { CompressionTypes, type Kafka, type Message, type Producer, type TopicMessages } from 'kafkajs';
import { InstrumentationHub } from './instrumentation';
import { type MessagingLogger } from './logger';
import { withTraceHeaders } from './tracing';

export interface PublishOptions {
  /** Overrides the key the topic definition derives from the message. */
  readonly key?: string;
  readonly headers?: Record<string, string>;
}

export interface RawMessage {
  readonly key: string | Buffer | null;
  readonly value: string | Buffer | null;
  readonly headers?: Record<string, string>;
}

export interface ProducerOptions {
  readonly compression?: 'none' | 'gzip';
  /** Upper bound on messages per produce request when publishes are coalesced. */
  readonly maxBatchMessages?: number;
  /** Upper bound on payload bytes per produce request when publishes are coalesced. */
  readonly maxBatchBytes?: number;
}

interface PendingPublish {
  readonly topic: string;
  readonly message: Message;
  readonly bytes: number;
  resolve(): void;
  reject(error: unknown): void;
}

/**
 * One long-lived idempotent producer per process (`acks=all`, the idempotent producer's retries), so a resolved
 * `publish` means the broker has the message.
 *
 * Publishes made while a produce request is in flight are coalesced into the next request (like Kafka's
 * `linger.ms`, but adaptive: no added latency when idle, large requests under load). Requests go out one at a
 * time in call order, which keeps per-key order and lets the idempotent producer's sequence numbers stay valid.
 */
export class MessageProducer {
  private readonly producer: Producer;
  private readonly compression: CompressionTypes;
  private readonly maxBatchMessages: number;
  private readonly maxBatchBytes: number;
  private queue: PendingPublish[] = [];
  private flushing = false;
  private connected = false;
  private connecting: Promise<void> | undefined;

  constructor(
    kafka: Kafka,
    private readonly logger: MessagingLogger,
    options: ProducerOptions = {},
    private readonly instrumentation: InstrumentationHub = new InstrumentationHub(),
  ) {
    this.producer = kafka.producer({
      idempotent: true,
      // The idempotent producer needs one in-flight request per connection to keep sequence numbers ordered.
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
    });
    this.compression = options.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None;
    this.maxBatchMessages = options.maxBatchMessages ?? 2_000;
    this.maxBatchBytes = options.maxBatchBytes ?? 4 * 1024 * 1024;
  }

  get isConnected(): boolean {
    return this.connected;
  }

  async connect(): Promise<void> {
    if (this.connected) return;
    this.connecting ??= this.producer.connect().then(
      () => {
        this.connected = true;
        this.connecting = undefined;
      },
      (error: unknown) => {
        this.connecting = undefined;
        throw error;
      },
    );
    await this.connecting;
  }

  /**
   * Publishes a message checked against the topic's contract; resolves once the broker acknowledged it. The active
   * trace context (if tracing is on) travels along as `traceparent`/`tracestate` headers.
   */
  publish<T>(topic: TopicDefinition<T>, message: T, options: PublishOptions = {}): Promise<void> {
    let value: string;
    try {
      value = topic.contract.serialize(message);
    } catch (error) {
      // A contract violation here is a bug in the caller; report it through the promise like any publish failure.
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    const key = options.key ?? topic.keyOf(message) ?? null;
    return this.enqueue(topic.name, { key, value, headers: withTraceHeaders(options.headers) });
  }

  /** Publishes many messages to one topic; resolves when all are acknowledged. */
  async publishAll<T>(
    topic: TopicDefinition<T>,
    messages: readonly T[],
    options: PublishOptions = {},
  ): Promise<void> {
    await Promise.all(messages.map((message) => this.publish(topic, message, options)));
  }

  /**
   * Forwards bytes unchanged (retry and dead-letter routing, replays, the outbox relay); no contract check on
   * purpose. Headers are sent as given: a copy keeps its original `traceparent`; when there is none, the active
   * context's is added.
   */
  publishRaw(topicName: string, message: RawMessage): Promise<void> {
    const headers = withTraceHeaders(message.headers);
    return this.enqueue(topicName, headers === message.headers ? message : { ...message, headers });
  }

  /**
   * Waits (bounded) for queued publishes, then closes the connection. Publishes still queued after the bound are
   * rejected, so their callers know the broker never acknowledged them.
   */
  async disconnect(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while ((this.queue.length > 0 || this.flushing) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const abandoned = this.queue.splice(0);
    for (const pending of abandoned)
      pending.reject(new Error('Producer disconnected before the broker acknowledged'));
    if (abandoned.length > 0)
      this.logger.warn('Producer closed with unacknowledged publishes', { count: abandoned.length });
    this.connected = false;
    await this.producer.disconnect();
  }

  private enqueue(topic: string, raw: RawMessage): Promise<void> {
    const message: Message = { key: raw.key, value: raw.value, headers: raw.headers };
    const bytes = (raw.value?.length ?? 0) + (raw.key?.length ?? 0);
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ topic, message, bytes, resolve, reject });
      if (!this.flushing) {
        this.flushing = true;
        // Defer to the end of the current tick so publishes made together travel together.
        setImmediate(() => void this.flushLoop());
      }
    });
  }

  private takeBatch(): PendingPublish[] {
    let bytes = 0;
    let count = 0;
    while (count < this.queue.length && count < this.maxBatchMessages) {
      const next = this.queue[count];
      if (next === undefined || (count > 0 && bytes + next.bytes > this.maxBatchBytes)) break;
      bytes += next.bytes;
      count += 1;
    }
    return this.queue.splice(0, count);
  }

  private countPublished(batch: readonly PendingPublish[]): void {
    if (!this.instrumentation.observesPublishes) return;
    for (const [topic, count] of countByTopic(batch)) this.instrumentation.messagesPublished(topic, count);
  }

  private async flushLoop(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.takeBatch();
        try {
          await this.connect();
          await this.producer.sendBatch({
            acks: -1,
            compression: this.compression,
            topicMessages: groupByTopic(batch),
          });
          for (const pending of batch) pending.resolve();
          this.countPublished(batch);
        } catch (error) {
          this.logger.error('Kafka publish failed', {
            error: error instanceof Error ? error.message : String(error),
            messages: batch.length,
          });
          for (const pending of batch) pending.reject(error);
        }
      }
    } finally {
      this.flushing = false;
    }
  }
}

function countByTopic(batch: readonly PendingPublish[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const { topic } of batch) counts.set(topic, (counts.get(topic) ?? 0) + 1);
  return counts;
}

function groupByTopic(batch: readonly PendingPublish[]): TopicMessages[] {
  const byTopic = new Map<string, Message[]>();
  for (const { topic, message } of batch) {
    const messages = byTopic.get(topic);
    if (messages) messages.push(message);
    else byTopic.set(topic, [message]);
  }
  return [...byTopic].map(([topic, messages]) => ({ topic, messages }));
}
