import { type TracingSettings } from '@notifications/config';
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  SimpleSpanProcessor,
  TracerProvider,
  type SpanExporter,
} from '@opentelemetry/sdk-trace';

export interface Tracing {
  readonly enabled: boolean;
  /** Exports what is buffered, then stops; call on shutdown. */
  shutdown(): Promise<void>;
}

export interface StartTracingOptions extends Partial<TracingSettings> {
  /** The app's name: `service.name` unless OTEL_SERVICE_NAME (`serviceName`) says otherwise. */
  readonly service: string;
  /** Instead of OTLP (tests: an InMemorySpanExporter); exported span by span, without batching. */
  readonly exporter?: SpanExporter;
}

const disabled: Tracing = { enabled: false, shutdown: () => Promise.resolve() };

/**
 * Installs the OpenTelemetry SDK globally: W3C trace-context propagation (`traceparent`/`tracestate`), an
 * AsyncLocalStorage context manager and a tracer provider exporting to `<endpoint>/v1/traces` as OTLP/HTTP JSON.
 * Call it before Nest starts. When tracing is off nothing is installed: the `@opentelemetry/api` calls in the
 * messaging lib and the HTTP middleware stay no-ops.
 */
export function startTracing(options: StartTracingOptions): Tracing {
  const exporter =
    options.exporter ??
    (options.enabled === true && options.endpoint !== undefined
      ? new OTLPTraceExporter({ url: `${options.endpoint}/v1/traces` })
      : undefined);
  if (exporter === undefined) return disabled;
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': options.serviceName ?? options.service }),
    spanProcessors: [
      options.exporter === undefined
        ? // Exported every second (not the default five) so a test collecting spans waits less.
          new BatchSpanProcessor({ exporter, scheduledDelayMillis: 1_000 })
        : new SimpleSpanProcessor({ exporter }),
    ],
  });
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  return {
    enabled: true,
    async shutdown() {
      await provider.shutdown();
      trace.disable();
      propagation.disable();
      context.disable();
    },
  };
}
