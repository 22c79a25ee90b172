import { SendOperationResultContract, type SendOperationResult } from '@notifications/contracts';
import { KafkaRuntime } from '@notifications/messaging';
import { parsePrometheusText, sampleValue } from '@notifications/observability';
import {
  expectEventually,
  restartIsolatedPostgres,
  startIsolatedBroker,
  startIsolatedPostgres,
  stopIsolatedBroker,
  stopIsolatedPostgres,
  type IsolatedBroker,
  type IsolatedPostgres,
} from '@notifications/testing';
import { OrdersDb } from './support/db-helpers';
import {
  API,
  ApiClient,
  createTestResources,
  emailOrder,
  startOrdersApp,
  type OrdersTestApp,
  type OrdersTestResources,
} from './support/orders-test-app';

// Outages of the infrastructure orders depends on, on a PostgreSQL and a broker of the suite's own (crashed and
// stopped for real; the shared ones are never touched).

describe('orders through a PostgreSQL outage', () => {
  let postgres: IsolatedPostgres | undefined;
  let resources: OrdersTestResources;
  let server: OrdersTestApp | undefined;

  beforeAll(async () => {
    postgres = await startIsolatedPostgres('orders-outage');
    // Three attempts, 200 ms apart at first: without the pause, a 15 s outage would dead-letter every update.
    resources = await createTestResources(
      'pg-outage',
      { ORDERS_RETRY_MAX_ATTEMPTS: '3', ORDERS_RETRY_INITIAL_DELAY: '200ms' },
      2,
      postgres.url,
    );
    server = await startOrdersApp(resources);
  }, 240_000);

  afterAll(async () => {
    await server?.close();
    await resources?.cleanup();
    await stopIsolatedPostgres(postgres);
  }, 120_000);

  it('status updates that arrive while PostgreSQL is down spend no attempt, are not dead-lettered, and are all applied once it is back', async () => {
    const api = new ApiClient(server!.baseUrl, resources.auth.token('ttd'));
    const db = new OrdersDb(resources.db.dataSource);
    const created = await api.post<{ orderId: string }>(
      `${API}/orders/email`,
      emailOrder({
        recipients: [
          { emailAddress: 'outage-1@example.com' },
          { emailAddress: 'outage-2@example.com' },
          { emailAddress: 'outage-3@example.com' },
          { emailAddress: 'outage-4@example.com' },
        ],
      }),
    );
    expect(created.status).toBe(202);
    const notifications = await expectEventually(
      async () => {
        const rows = await db.notifications(created.body.orderId);
        expect(rows.map((row) => row.result)).toEqual(['Sending', 'Sending', 'Sending', 'Sending']);
        return rows;
      },
      { timeoutMs: 60_000 },
    );
    const runner = server!.app.get(KafkaRuntime).consumerRunners[0]!;

    // kill -9, and nothing listens on its port for 15 s.
    const outage = restartIsolatedPostgres(postgres!, { downMs: 15_000 });
    await expectEventually(() => expect(resources.db.dataSource.query('SELECT 1')).rejects.toThrow());
    const updates: SendOperationResult[] = notifications.map((row) => ({
      notificationId: row.id,
      operationId: row.id,
      sendResult: 'Succeeded',
    }));
    await resources.kafka.produceRaw(
      resources.topics.emailStatusUpdated.name,
      updates.map((update) => ({
        key: resources.topics.emailStatusUpdated.keyOf(update) ?? '',
        value: SendOperationResultContract.serialize(update),
      })),
    );
    // The consumer pauses the partitions it reads the updates from, for PostgreSQL.
    await expectEventually(() =>
      expect(runner.outagePaused()).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            topic: resources.topics.emailStatusUpdated.name,
            dependency: 'postgresql',
          }),
        ]),
      ),
    );
    postgres = await outage;

    await expectEventually(
      async () =>
        expect((await db.notifications(created.body.orderId)).map((row) => row.result)).toEqual([
          'Succeeded',
          'Succeeded',
          'Succeeded',
          'Succeeded',
        ]),
      { timeoutMs: 90_000 },
    );
    const { emailStatusUpdated } = resources.topics;
    await expectEventually(async () =>
      expect(await resources.kafka.committedCount(resources.consumerGroupId, emailStatusUpdated.name)).toBe(
        updates.length,
      ),
    );
    // No attempt spent: nothing went through the retry topic, nothing was dead-lettered.
    expect(await resources.kafka.messageCount(emailStatusUpdated.retryTopic!)).toBe(0);
    expect(await resources.kafka.messageCount(emailStatusUpdated.deadLetterTopic)).toBe(0);
    expect(runner.statistics()).toMatchObject({ retried: 0, deadLettered: 0 });
    // …and the pauses were counted on /metrics.
    const metrics = parsePrometheusText(await (await fetch(`${server!.managementUrl}/metrics`)).text());
    expect(
      sampleValue(metrics, 'notifications_consumer_pauses_total', {
        topic: emailStatusUpdated.name,
        reason: 'postgresql',
      }),
    ).toBeGreaterThan(0);
    expect((await fetch(`${server!.baseUrl}/health/live`)).status).toBe(200);
  }, 240_000);
});

describe('orders through a Kafka outage', () => {
  let broker: IsolatedBroker | undefined;
  let resources: OrdersTestResources;
  let server: OrdersTestApp | undefined;

  beforeAll(async () => {
    broker = await startIsolatedBroker('orders-outage');
    // KafkaTestEnvironment reads the brokers from the environment when it is created.
    const sharedBrokers = process.env['KAFKA_BROKERS'];
    process.env['KAFKA_BROKERS'] = broker.brokers;
    try {
      resources = await createTestResources('kafka-outage');
    } finally {
      if (sharedBrokers === undefined) delete process.env['KAFKA_BROKERS'];
      else process.env['KAFKA_BROKERS'] = sharedBrokers;
    }
    server = await startOrdersApp(resources);
  }, 240_000);

  afterAll(async () => {
    await server?.close();
    await resources?.db.drop();
    await stopIsolatedBroker(broker);
  }, 180_000);

  it('keeps the public API ready and accepting orders into the outbox while no broker answers', async () => {
    const api = new ApiClient(server!.baseUrl, resources.auth.token('ttd'));
    expect((await fetch(`${server!.baseUrl}/health/ready`)).status).toBe(200);

    await stopIsolatedBroker(broker);
    broker = undefined;
    const created = await api.post<{ orderId: string }>(`${API}/orders/email`, emailOrder());

    expect(created.status).toBe(202);
    // The relay has tried to publish it and failed: Kafka is down, and known to be.
    await expectEventually(
      async () => {
        const rows: { attempts: number; published_at: Date | null }[] = await resources.db.dataSource.query(
          'SELECT attempts, published_at FROM outbox WHERE message_key = $1',
          [created.body.orderId],
        );
        expect(rows).toEqual([{ attempts: expect.any(Number), published_at: null }]);
        expect(rows[0]!.attempts).toBeGreaterThan(0);
      },
      { timeoutMs: 90_000 },
    );
    const ready = await fetch(`${server!.baseUrl}/health/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ok', details: { database: { status: 'up' } } });
    expect((await api.post(`${API}/orders/email`, emailOrder())).status).toBe(202);
    // An outage is no reason to restart the pod either.
    expect((await fetch(`${server!.baseUrl}/health/live`)).status).toBe(200);
  }, 240_000);
});
