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
  /**
   * Upper bound on the encoded size of one produce request (every record + one record-batch header), and so of
   * every partition's record batch in it; a record that cannot fit alone is refused. Keep it under the broker's
   * `message.max.bytes` and every topic's `max.message.bytes`. Default {@link DEFAULT_MAX_BATCH_BYTES}.
   */
  readonly maxBatchBytes?: number;
}

/**
 * The broker checks each record batch against `message.max.bytes` (broker) / `max.message.bytes` (topic): "The
 * largest record batch size allowed by Kafka (after compression if compression is enabled)", default 1048588
 * (https://kafka.apache.org/documentation/#brokerconfigs_message.max.bytes,
 * https://kafka.apache.org/documentation/#topicconfigs_max.message.bytes) and answers MESSAGE_TOO_LARGE for the
 * whole partition's batch. kafkajs has no max-request-size setting (Java's `max.request.size`) and sends what it
 * is given in one batch per partition, so the producer splits requests itself. 1 000 000 leaves 48 kB under the
 * default for the estimate's slack (gzip's framing on incompressible data).
 */
export const DEFAULT_MAX_BATCH_BYTES = 1_000_000;

// Record batch v2 header: baseOffset 8, length 4, leaderEpoch 4, magic 1, crc 4, attributes 2, lastOffsetDelta 4,
// first/max timestamp 16, producerId 8, epoch 2, baseSequence 4, record count 4
// (https://kafka.apache.org/documentation/#recordbatch).
const RECORD_BATCH_HEADER_BYTES = 61;
// Per record: length, offsetDelta, key and value lengths and header count (varints, ≤ 5 bytes each), attributes
// (1) and timestampDelta (varlong, ≤ 10); per header its two length varints (https://kafka.apache.org/documentation/#record).
const RECORD_OVERHEAD_BYTES = 36;
const HEADER_OVERHEAD_BYTES = 10;

/**
 * Kafka error types after which kafkajs's idempotent producer cannot go on: kafkajs 2.2.4 neither bumps its epoch
 * nor resets sequence numbers on them (src/producer/sendMessages.js, eosManager), so every later send to the
 * partition fails the same way. Reported by name in the log and the recreation metric.
 */
const FATAL_PRODUCER_ERRORS: ReadonlySet<string> = new Set([
  'OUT_OF_ORDER_SEQUENCE_NUMBER',
  'DUPLICATE_SEQUENCE_NUMBER',
  'INVALID_PRODUCER_EPOCH',
  'UNKNOWN_PRODUCER_ID',
  'INVALID_PRODUCER_ID_MAPPING',
  'PRODUCER_FENCED',
]);

// The broker refused a batch for its size: the records may fit in smaller requests.
const TOO_LARGE_ERRORS: ReadonlySet<string> = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE']);

// Refusals caused by one record (its size or its content), not by the cluster or the principal: the batch is
// split until the record is alone, so its neighbours still go through.
const RECORD_ERRORS: ReadonlySet<string> = new Set([
  ...TOO_LARGE_ERRORS,
  'CORRUPT_MESSAGE',
  'INVALID_RECORD',
  'INVALID_TIMESTAMP',
]);

/** A record that cannot be published in any request: refused alone, never retried, its neighbours unaffected. */
export class RecordTooLargeError extends Error {
  override readonly name = 'RecordTooLargeError';

  constructor(
    readonly topic: string,
    /** The record's estimated encoded size. */
    readonly recordBytes: number,
    /** The limit it exceeded, when known (the broker does not say its limit). */
    readonly limitBytes: number | undefined,
    options: { cause?: unknown } = {},
  ) {
    super(
      limitBytes === undefined
        ? `Record of ${recordBytes} bytes for ${topic} refused by the broker as too large (MESSAGE_TOO_LARGE): ` +
            "it exceeds the topic's max.message.bytes"
        : `Record of ${recordBytes} bytes for ${topic} exceeds the producer's limit of ${limitBytes} bytes per ` +
            'record batch (kept under the broker/topic max.message.bytes)',
      options,
    );
  }
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
  private producer: Producer;
  private readonly compression: CompressionTypes;
  private readonly maxBatchMessages: number;
  private readonly maxBatchBytes: number;
  private queue: PendingPublish[] = [];
  private flushing = false;
  private connected = false;
  private connecting: Promise<void> | undefined;

  constructor(
    private readonly kafka: Kafka,
    private readonly logger: MessagingLogger,
    options: ProducerOptions = {},
    private readonly instrumentation: InstrumentationHub = new InstrumentationHub(),
  ) {
    this.producer = this.createProducer();
    this.compression = options.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None;
    this.maxBatchMessages = options.maxBatchMessages ?? 2_000;
    this.maxBatchBytes = options.maxBatchBytes ?? DEFAULT_MAX_BATCH_BYTES;
  }

  private createProducer(): Producer {
    return this.kafka.producer({
      idempotent: true,
      // The idempotent producer needs one in-flight request per connection to keep sequence numbers ordered.
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
    });
  }

  /** The largest record this producer sends (its request limit less one record-batch header). */
  get maxRecordBytes(): number {
    return this.maxBatchBytes - RECORD_BATCH_HEADER_BYTES;
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
    const bytes = encodedRecordBytes(raw);
    if (bytes + RECORD_BATCH_HEADER_BYTES > this.maxBatchBytes) {
      return Promise.reject(this.refuse(new RecordTooLargeError(topic, bytes, this.maxBatchBytes)));
    }
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
    let bytes = RECORD_BATCH_HEADER_BYTES;
    let count = 0;
    while (count < this.queue.length && count < this.maxBatchMessages) {
      const next = this.queue[count];
      if (next === undefined || bytes + next.bytes > this.maxBatchBytes) break;
      bytes += next.bytes;
      count += 1;
    }
    return this.queue.splice(0, count);
  }

  private countPublished(batch: readonly PendingPublish[]): void {
    if (!this.instrumentation.observesPublishes) return;
    for (const [topic, count] of countByTopic(batch)) this.instrumentation.messagesPublished(topic, count);
  }

  private refuse(error: RecordTooLargeError): RecordTooLargeError {
    this.logger.error('Kafka record refused: too large for any produce request', {
      topic: error.topic,
      bytes: error.recordBytes,
      ...(error.limitBytes === undefined ? {} : { limitBytes: error.limitBytes }),
    });
    this.instrumentation.recordRefused(error.topic, 'too-large');
    return error;
  }

  private async flushLoop(): Promise<void> {
    try {
      while (this.queue.length > 0) await this.send(this.takeBatch());
    } finally {
      this.flushing = false;
    }
  }

  /**
   * Sends one batch; settles every publish in it. When the broker refuses the batch for its size or for one of
   * its records, the halves are sent on their own (in order), so only the record at fault fails.
   */
  private async send(batch: readonly PendingPublish[], retryOnFreshProducer = true): Promise<void> {
    if (batch.length === 0) return;
    try {
      await this.connect();
      await this.producer.sendBatch({
        acks: -1,
        compression: this.compression,
        topicMessages: groupByTopic(batch),
      });
      for (const pending of batch) pending.resolve();
      this.countPublished(batch);
      return;
    } catch (error) {
      const refusal = brokerRefusal(error);
      await this.recreateAfterFailure(error, refusal);
      if (refusal !== undefined && RECORD_ERRORS.has(refusal.type) && batch.length > 1) {
        const middle = Math.ceil(batch.length / 2);
        await this.send(batch.slice(0, middle));
        await this.send(batch.slice(middle));
        return;
      }
      // The records were not at fault but the old producer's sequence state: once more on the new producer.
      if (refusal !== undefined && FATAL_PRODUCER_ERRORS.has(refusal.type) && retryOnFreshProducer) {
        await this.send(batch, false);
        return;
      }
      const only = batch.length === 1 ? batch[0] : undefined;
      const failure =
        only !== undefined && refusal !== undefined && TOO_LARGE_ERRORS.has(refusal.type)
          ? this.refuse(new RecordTooLargeError(only.topic, only.bytes, undefined, { cause: error }))
          : error;
      this.logger.error('Kafka publish failed', { error: errorText(error), messages: batch.length });
      for (const pending of batch) pending.reject(failure);
    }
  }

  /**
   * A failed produce request leaves kafkajs's sequence numbers unreliable: it rolls back the sequence of every
   * partition in the request to that broker, also of partitions the broker appended
   * (src/producer/sendMessages.js), and after the errors in {@link FATAL_PRODUCER_ERRORS} it never recovers. So
   * the producer is closed and replaced by a new one (a new producer id with fresh sequences) before anything else
   * is sent; a record the broker may have appended can then reach Kafka twice, which every consumer tolerates.
   */
  private async recreateAfterFailure(error: unknown, refusal: BrokerRefusal | undefined): Promise<void> {
    const reason = refusal?.type ?? errorName(error);
    const old = this.producer;
    this.producer = this.createProducer();
    this.connected = false;
    this.connecting = undefined;
    const log = refusal !== undefined && FATAL_PRODUCER_ERRORS.has(refusal.type) ? 'error' : 'warn';
    this.logger[log]('Kafka producer recreated after a failed produce request', { reason });
    this.instrumentation.producerRecreated(reason);
    try {
      await old.disconnect();
    } catch (disconnectError) {
      this.logger.debug('Closing the replaced Kafka producer failed', { error: errorText(disconnectError) });
    }
  }
}

interface BrokerRefusal {
  /** The Kafka error type, e.g. `MESSAGE_TOO_LARGE`. */
  readonly type: string;
  readonly retriable: boolean;
}

interface ErrorNode {
  readonly name?: unknown;
  readonly type?: unknown;
  readonly retriable?: unknown;
  readonly cause?: unknown;
  readonly originalError?: unknown;
}

/** The broker's error code inside a kafkajs error (wrapped in retrier and aggregate errors), if it answered one. */
function brokerRefusal(error: unknown, depth = 0): BrokerRefusal | undefined {
  if (typeof error !== 'object' || error === null || depth > 8) return undefined;
  const node = error as ErrorNode;
  if (node.name === 'KafkaJSProtocolError' && typeof node.type === 'string') {
    return { type: node.type, retriable: node.retriable === true };
  }
  return brokerRefusal(node.originalError, depth + 1) ?? brokerRefusal(node.cause, depth + 1);
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function byteLength(value: string | Buffer | null | undefined): number {
  if (value === null || value === undefined) return 0;
  return typeof value === 'string' ? Buffer.byteLength(value, 'utf8') : value.length;
}

/** An upper bound on the record's size in a v2 record batch (before compression, which never grows it much). */
export function encodedRecordBytes(message: RawMessage): number {
  let bytes = RECORD_OVERHEAD_BYTES + byteLength(message.key) + byteLength(message.value);
  for (const [name, value] of Object.entries(message.headers ?? {})) {
    bytes += HEADER_OVERHEAD_BYTES + byteLength(name) + byteLength(value);
  }
  return bytes;
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
