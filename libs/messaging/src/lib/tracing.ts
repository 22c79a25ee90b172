import {
  type Context,
  type Span,
  SpanKind,
  SpanStatusCode,
  context,
  propagation,
  trace,
  type Tracer,
} from '@opentelemetry/api';
import { type StringHeaders } from './headers';

/**
 * W3C trace context in Kafka headers (`traceparent`, `tracestate`) through `@opentelemetry/api` only: with no SDK
 * installed every call here is a no-op (and {@link isTracingActive} lets the hot path skip even those), so the lib
 * costs nothing when tracing is off. An app turns tracing on by installing the SDK (libs/observability).
 */
export const TRACE_HEADERS = ['traceparent', 'tracestate'] as const;

const TRACER_NAME = '@notifications/messaging';

export function messagingTracer(): Tracer {
  return trace.getTracer(TRACER_NAME);
}

/** Whether a propagator is installed (the SDK is on); without one there is nothing to inject or extract. */
export function isTracingActive(): boolean {
  return propagation.fields().length > 0;
}

/** The active context as headers (`traceparent`, `tracestate`), or undefined when there is no active span. */
export function activeTraceHeaders(active: Context = context.active()): StringHeaders | undefined {
  if (trace.getSpan(active) === undefined) return undefined;
  const carrier: StringHeaders = {};
  propagation.inject(active, carrier);
  return carrier.traceparent === undefined ? undefined : carrier;
}

/** `headers` plus the active trace context; the caller's own `traceparent` wins (e.g. a relayed outbox row). */
export function withTraceHeaders(headers: Readonly<StringHeaders> | undefined): StringHeaders | undefined {
  if (headers?.traceparent !== undefined || !isTracingActive()) return headers;
  const trace = activeTraceHeaders();
  return trace === undefined ? headers : { ...headers, ...trace };
}

/** Runs `fn` with the context carried by `headers` (no span of its own); for relays and replays. */
export function contextFromHeaders(headers: Readonly<StringHeaders>): Context {
  return propagation.extract(context.active(), headers);
}

/**
 * Runs the processing of a consumed message in a `process <topic>` consumer span whose parent is the producer's
 * context from the message headers, so the message's trace continues here. Retried and dead-lettered copies keep
 * the original `traceparent`, so every attempt joins the same trace.
 */
export async function inConsumerSpan<T>(
  topic: string,
  attributes: Record<string, string | number>,
  headers: Readonly<StringHeaders>,
  run: (span: Span) => Promise<T>,
): Promise<T> {
  return inConsumerBatchSpan(topic, attributes, [headers], run);
}

/**
 * Runs the processing of a batch of consumed messages in one `process <topic>` consumer span. Its parent is the
 * first message's producer context (so a batch of one continues that message's trace exactly like
 * {@link inConsumerSpan}), and it links the other messages' contexts, as the OpenTelemetry messaging conventions
 * describe for batch processing (links to the message contexts,
 * https://opentelemetry.io/docs/specs/semconv/messaging/messaging-spans/#batch-processing).
 */
export async function inConsumerBatchSpan<T>(
  topic: string,
  attributes: Record<string, string | number>,
  headers: readonly Readonly<StringHeaders>[],
  run: (span: Span) => Promise<T>,
): Promise<T> {
  const active = context.active();
  const contexts = headers.map((carrier) => propagation.extract(active, carrier));
  const parent = contexts[0] ?? active;
  const links = contexts.slice(1).flatMap((linked) => {
    const spanContext = trace.getSpanContext(linked);
    return spanContext === undefined ? [] : [{ context: spanContext }];
  });
  const span = messagingTracer().startSpan(
    `process ${topic}`,
    { kind: SpanKind.CONSUMER, attributes: { 'messaging.system': 'kafka', ...attributes }, links },
    parent,
  );
  try {
    return await context.with(trace.setSpan(parent, span), () => run(span));
  } catch (error) {
    span.setStatus({
      code: SpanStatusCode.ERROR,
      message: error instanceof Error ? error.message : String(error),
    });
    throw error;
  } finally {
    span.end();
  }
}
