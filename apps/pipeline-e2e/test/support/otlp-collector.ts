import { createServer, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';

/** One span as the apps export it (OTLP/HTTP JSON), with the service that exported it. */
export interface CollectedSpan {
  readonly service: string;
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId?: string;
  readonly name: string;
}

interface OtlpTraces {
  readonly resourceSpans?: readonly {
    readonly resource?: { readonly attributes?: readonly { key: string; value: { stringValue?: string } }[] };
    readonly scopeSpans?: readonly {
      readonly spans?: readonly { traceId: string; spanId: string; parentSpanId?: string; name: string }[];
    }[];
  }[];
}

/**
 * A minimal OpenTelemetry collector: accepts OTLP/HTTP JSON on `/v1/traces` (what the apps export when
 * `OTEL_EXPORTER_OTLP_ENDPOINT` is set) and keeps the spans in memory for assertions.
 */
export class OtlpCollector {
  readonly spans: CollectedSpan[] = [];
  private readonly server: Server;

  private constructor() {
    this.server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        if (request.url === '/v1/traces') this.collect(body);
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
  }

  static async start(): Promise<OtlpCollector> {
    const collector = new OtlpCollector();
    await new Promise<void>((resolve) => collector.server.listen(0, '127.0.0.1', resolve));
    return collector;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise((resolve) => this.server.close(resolve));
  }

  private collect(body: string): void {
    const traces = JSON.parse(body) as OtlpTraces;
    for (const resourceSpans of traces.resourceSpans ?? []) {
      const service =
        resourceSpans.resource?.attributes?.find((attribute) => attribute.key === 'service.name')?.value
          .stringValue ?? 'unknown';
      for (const scope of resourceSpans.scopeSpans ?? []) {
        for (const span of scope.spans ?? []) {
          this.spans.push({
            service,
            traceId: span.traceId,
            spanId: span.spanId,
            ...(span.parentSpanId ? { parentSpanId: span.parentSpanId } : {}),
            name: span.name,
          });
        }
      }
    }
  }
}
