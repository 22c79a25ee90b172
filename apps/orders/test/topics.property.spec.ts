import { SendOperationResultContract } from '@notifications/contracts';
import { arbitraryRecords, expectEventually, fuzzSeed } from '@notifications/testing';
import { KafkaRuntime } from '@notifications/messaging';
import { consumedTopics } from './support/test-topics';
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

// Property-based: arbitrary bytes and arbitrary JSON on every topic orders consumes (and its retry topic) are
// each dead-lettered, the app keeps running, and valid messages are handled afterwards. The records are drawn
// from a seed the test's name shows (FUZZ_SEED=<seed> repeats a run).
const SEED = fuzzSeed();
const RECORDS_PER_TOPIC = 40;

describe(`orders consumers on arbitrary records (seed ${SEED})`, () => {
  let resources: OrdersTestResources;
  let server: OrdersTestApp;
  let api: ApiClient;
  let db: OrdersDb;

  beforeAll(async () => {
    resources = await createTestResources('topicfuzz');
    db = new OrdersDb(resources.db.dataSource);
    server = await startOrdersApp(resources);
    api = new ApiClient(server.baseUrl, resources.auth.token('ttd'));
  });

  afterAll(async () => {
    await server?.close();
    await resources?.cleanup();
  });

  it('dead-letters every arbitrary record on every consumed topic, and keeps handling valid messages', async () => {
    const topics = consumedTopics(resources.topics);
    const published = new Map<string, number>();
    let draw = SEED;
    for (const topic of topics) {
      for (const name of [topic.name, topic.retryTopic!]) {
        await resources.kafka.produceRaw(name, arbitraryRecords(RECORDS_PER_TOPIC, draw++));
      }
      published.set(topic.deadLetterTopic, 2 * RECORDS_PER_TOPIC);
    }

    for (const [deadLetterTopic, count] of published) {
      await expectEventually(
        async () => expect(await resources.kafka.messageCount(deadLetterTopic)).toBe(count),
        {
          timeoutMs: 60_000,
        },
      );
    }
    // Nothing crashed: the consumer still runs and the API still answers.
    expect(server.app.get(KafkaRuntime).consumerRunners[0]?.state).toBe('running');
    expect((await api.get(`${API}/orders?sendersReference=none`)).status).toBe(200);

    // Still consuming: an order goes through orders.pastdue, and a status update for its notification is applied.
    const placed = await api.post<{ orderId: string }>(`${API}/orders/email`, emailOrder());
    expect(placed.status).toBe(202);
    const orderId = placed.body.orderId;
    const [notification] = await expectEventually(
      async () => {
        const rows = await db.notifications(orderId);
        expect(rows.map((row) => row.result)).toEqual(['Sending']);
        return rows;
      },
      { timeoutMs: 60_000 },
    );
    await resources.kafka.produceRaw(resources.topics.emailStatusUpdated.name, [
      {
        key: notification!.id,
        value: SendOperationResultContract.serialize({
          notificationId: notification!.id,
          operationId: notification!.id,
          sendResult: 'Delivered',
        }),
      },
    ]);
    await expectEventually(async () => expect(await db.status(orderId)).toBe('Completed'), {
      timeoutMs: 60_000,
    });
    // Nothing valid was dead-lettered on the way.
    for (const [deadLetterTopic, count] of published) {
      expect(await resources.kafka.messageCount(deadLetterTopic)).toBe(count);
    }
  }, 180_000);
});
