import { expectEventually } from '@notifications/testing';
import { fastPipelineEnv } from './support/e2e-settings';
import { OtlpCollector } from './support/otlp-collector';
import { Pipeline } from './support/pipeline';

// One order's journey is one trace: the trace context travels from the API request through the orders outbox
// and every Kafka hop (`traceparent` headers) to email-sender, status-poller and back to orders.

describe('tracing across the pipeline', () => {
  let collector: OtlpCollector;
  let pipeline: Pipeline;

  beforeAll(async () => {
    collector = await OtlpCollector.start();
    const tracing = { OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint };
    pipeline = await Pipeline.start({
      label: 'tracing',
      partitions: 2,
      env: fastPipelineEnv({
        orders: tracing,
        'email-sender': tracing,
        // The trace returns to orders through status-poller's check of the operation. The delivery report comes
        // from Event Grid, outside the order's trace, and here it beats the check, which a remembered report
        // would skip: nothing is remembered in this test.
        'status-poller': { ...tracing, STATUS_CHECK_REPORTED_MEMORY: '0' },
      }),
    });
  });

  afterAll(async () => {
    await pipeline?.stop();
    await collector?.stop();
  });

  it('records one order as one trace spanning orders, email-sender and status-poller', async () => {
    const orderId = await pipeline.orders.postEmailOrder({
      recipients: [{ emailAddress: 'traced@example.org' }],
    });
    await expectEventually(
      async () => expect(await pipeline.orders.processingStatus(orderId)).toBe('Completed'),
      {
        timeoutMs: 60_000,
        intervalMs: 250,
      },
    );

    // Spans are exported in batches about a second after they end: wait for the last hop (back in orders).
    await expectEventually(
      () => {
        const post = collector.spans.find(
          (span) => span.service === 'orders' && span.name === 'POST /notifications/api/v1/orders/email',
        );
        expect(post).toBeDefined();
        const spans = collector.spans.filter((span) => span.traceId === post!.traceId);
        expect(spans.map((span) => `${span.service}: ${span.name}`)).toEqual(
          expect.arrayContaining([
            expect.stringMatching(/^orders: process altinn\.notifications\.orders\.pastdue\./),
            expect.stringMatching(/^email-sender: process altinn\.notifications\.email\.queue\./),
            expect.stringMatching(
              /^status-poller: process altinn\.notifications\.email\.sending\.accepted\./,
            ),
            expect.stringMatching(/^orders: process altinn\.notifications\.email\.status\.updated\./),
          ]),
        );
        // Every span but the request's own hangs off another span of the same trace.
        const ids = new Set(spans.map((span) => span.spanId));
        const roots = spans.filter((span) => span.parentSpanId === undefined || !ids.has(span.parentSpanId));
        expect(roots.map((span) => `${span.service}: ${span.name}`)).toEqual([
          'orders: POST /notifications/api/v1/orders/email',
        ]);
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
  });
});
