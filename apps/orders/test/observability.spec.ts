import {
  parsePrometheusText,
  sampleValue,
  startTracing,
  type MetricSample,
  type ServiceStatus,
  type Tracing,
} from '@notifications/observability';
import { expectEventually } from '@notifications/testing';
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace';
import {
  API,
  ApiClient,
  createTestResources,
  emailOrder,
  startOrdersApp,
  type OrdersTestApp,
  type OrdersTestResources,
} from './support/orders-test-app';

const traceIdOf = (traceparent: string | undefined): string | undefined => traceparent?.split('-')[1];

describe('orders /metrics, /status and tracing', () => {
  const spans = new InMemorySpanExporter();
  let tracing: Tracing;
  let resources: OrdersTestResources;
  let server: OrdersTestApp;
  let api: ApiClient;

  beforeAll(async () => {
    tracing = startTracing({ service: 'orders', exporter: spans });
    resources = await createTestResources('obs');
    server = await startOrdersApp(resources);
    api = new ApiClient(server.baseUrl).as(resources.auth.token('ttd'));
  });

  afterAll(async () => {
    await server?.close();
    await resources?.cleanup();
    await tracing?.shutdown();
  });

  async function metrics(): Promise<MetricSample[]> {
    const response = await fetch(`${server.managementUrl}/metrics`);
    expect(response.status).toBe(200);
    return parsePrometheusText(await response.text());
  }

  it("carries one trace from POST /orders/email through the outbox, orders.pastdue and the email's outbox row to email.queue", async () => {
    const emails = await resources.kafka.read([resources.topics.emailQueue.name]);
    const pastDue = await resources.kafka.read([resources.topics.ordersPastDue.name]);

    const response = await api.post(`${API}/orders/email`, emailOrder());
    expect(response.status).toBe(202);

    await expectEventually(() => {
      expect(pastDue).toHaveLength(1);
      expect(emails).toHaveLength(1);
    });
    const post = spans
      .getFinishedSpans()
      .find((span) => span.kind === SpanKind.SERVER && span.name.startsWith('POST '));
    expect(post).toBeDefined();
    const traceId = post!.spanContext().traceId;
    expect(post!.name).toBe(`POST /${API.slice(1)}/orders/email`);
    expect(traceIdOf(pastDue[0]?.headers['traceparent'])).toBe(traceId);
    expect(traceIdOf(emails[0]?.headers['traceparent'])).toBe(traceId);
    // The hops in between are spans of the same trace: relay → process orders.pastdue → relay.
    const names = await expectEventually(() => {
      const inTrace = spans.getFinishedSpans().filter((span) => span.spanContext().traceId === traceId);
      const found = inTrace.map((span) => span.name);
      expect(found).toEqual(
        expect.arrayContaining([
          `publish ${resources.topics.ordersPastDue.name}`,
          `process ${resources.topics.ordersPastDue.name}`,
          `publish ${resources.topics.emailQueue.name}`,
        ]),
      );
      return found;
    });
    expect(names.length).toBeGreaterThanOrEqual(4);
  });

  it('exposes orders and notifications by status, the outbox backlog and the consumer series on /metrics', async () => {
    const samples = await expectEventually(async () => {
      const current = await metrics();
      expect(sampleValue(current, 'notifications_email_notifications', { status: 'Sending' })).toBe(1);
      expect(sampleValue(current, 'notifications_outbox_backlog')).toBe(0);
      return current;
    });
    expect(sampleValue(samples, 'notifications_orders', { status: 'Processed' })).toBe(1);
    expect(
      sampleValue(samples, 'notifications_messages_consumed_total', {
        topic: resources.topics.ordersPastDue.name,
      }),
    ).toBe(1);
    expect(
      sampleValue(samples, 'notifications_messages_produced_total', {
        topic: resources.topics.emailQueue.name,
      }),
    ).toBe(1);
    expect(sampleValue(samples, 'notifications_outbox_oldest_unpublished_age_seconds')).toBe(0);
    expect(
      samples.some((s) => s.name === 'process_cpu_user_seconds_total' && s.labels['service'] === 'orders'),
    ).toBe(true);
  });

  it('answers GET /status outside the API prefix', async () => {
    const response = await fetch(`${server.managementUrl}/status`);
    expect(response.status).toBe(200);
    const status = (await response.json()) as ServiceStatus;
    expect(status).toMatchObject({ service: 'orders', delivered: 1, inProcess: 0, lost: 0, deadLettered: 0 });
    expect(status.consumers).toEqual([
      expect.objectContaining({ groupId: resources.consumerGroupId, state: 'running' }),
      expect.objectContaining({ groupId: resources.intakeGroupId, state: 'running' }),
    ]);
  });
});
