import { type MessageContext } from '../lib/consumer-runner';
import { type StringHeaders } from '../lib/headers';
import { TRACE_HEADERS } from '../lib/tracing';

/** The W3C trace context a message carried (`traceparent`, `tracestate`), as published. */
export interface MessageTraceContext {
  readonly traceparent?: string;
  readonly tracestate?: string;
}

/**
 * What `@Ctx()` gives a Kafka `@EventPattern` handler: where the message came from and which attempt this is —
 * the runner's `MessageContext`, plus the message's trace context. Deliberately not kafkajs' consumer: offsets,
 * commits, pauses and retries stay the runner's, so a handler cannot break the delivery guarantees.
 */
export class KafkaContext implements MessageContext {
  readonly topic: string;
  readonly receivedFrom: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: string | undefined;
  readonly headers: Readonly<StringHeaders>;
  readonly timestamp: string;
  readonly attempt: number;
  readonly maybeHandledBefore: boolean;
  readonly maxAttempts: number;
  readonly isLastAttempt: boolean;
  readonly traceContext: MessageTraceContext;
  private readonly source: MessageContext;

  constructor(source: MessageContext) {
    this.source = source;
    this.topic = source.topic;
    this.receivedFrom = source.receivedFrom;
    this.partition = source.partition;
    this.offset = source.offset;
    this.key = source.key;
    this.headers = source.headers;
    this.timestamp = source.timestamp;
    this.attempt = source.attempt;
    this.maybeHandledBefore = source.maybeHandledBefore;
    this.maxAttempts = source.maxAttempts;
    this.isLastAttempt = source.isLastAttempt;
    const trace: Record<string, string> = {};
    for (const name of TRACE_HEADERS) {
      const value = source.headers[name];
      if (value !== undefined) trace[name] = value;
    }
    this.traceContext = trace;
  }

  /** Keeps the group membership alive during a long handler (the runner also does so every few seconds). */
  heartbeat(): Promise<void> {
    return this.source.heartbeat();
  }
}

/** One message of a batch handed to a batch `@EventPattern` handler (`@Payload()` is an array of these). */
export interface KafkaBatchMessage<T> {
  readonly message: T;
  readonly context: KafkaContext;
}

/** What `@Ctx()` gives a batch handler: the partition the batch was read from. */
export class KafkaBatchContext {
  constructor(
    readonly topic: string,
    readonly receivedFrom: string,
    readonly partition: number,
    readonly size: number,
  ) {}
}
