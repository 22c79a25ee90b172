import { expectEventually } from '@notifications/testing';
import { type ReceivedRecord } from '@notifications/messaging/testing';
import { OrdersDb } from './support/db-helpers';
import { startChildApp, type ChildApp } from './support/child-app';
import {
  API,
  ApiClient,
  createTestResources,
  emailOrder,
  type OrdersTestResources,
} from './support/orders-test-app';

interface OutboxRow {
  message_key: string;
  published_at: Date | null;
  attempts: number;
}

describe('crash between claim and publish', () => {
  let resources: OrdersTestResources;
  const children: ChildApp[] = [];

  beforeAll(async () => {
    // A short session timeout, so the restarted process gets the dead one's partitions quickly.
    resources = await createTestResources('crash', { KAFKA_SESSION_TIMEOUT_MS: '6s' });
  });

  afterAll(async () => {
    for (const child of children) {
      if (child.process.exitCode === null && child.process.signalCode === null) child.process.kill('SIGKILL');
    }
    await Promise.all(children.map((child) => child.exited));
    await resources?.cleanup();
  });

  it('kill -9 after the claim committed and before the relay published: after a restart the order reaches orders.pastdue exactly once', async () => {
    const db = new OrdersDb(resources.db.dataSource);
    const pastDue: ReceivedRecord[] = await resources.kafka.read([resources.topics.ordersPastDue.name]);

    // 1. The relay of this process waits ten minutes: the claim commits, the publish never happens.
    const doomed = await startChildApp(resources, { ORDERS_RELAY_START_DELAY_MS: '10m' });
    children.push(doomed);
    const api = new ApiClient(doomed.baseUrl, resources.auth.token('ttd'));
    const created = await api.post<{ orderId: string }>(`${API}/orders/email`, emailOrder());
    expect(created.status).toBe(202);
    const { orderId } = created.body;

    await expectEventually(async () => {
      expect(await db.status(orderId)).toBe('Processing');
      const outbox: OutboxRow[] = await resources.db.dataSource.query(
        'SELECT message_key, published_at, attempts FROM outbox WHERE topic = $1',
        [resources.topics.ordersPastDue.name],
      );
      expect(outbox).toEqual([{ message_key: orderId, published_at: null, attempts: 0 }]);
    });
    expect(await resources.kafka.messageCount(resources.topics.ordersPastDue.name)).toBe(0);

    // 2. Crash.
    doomed.process.kill('SIGKILL');
    expect(await doomed.exited).toBe('SIGKILL');
    expect(await db.status(orderId)).toBe('Processing');

    // 3. Restart: the outbox row is relayed, the order processed.
    const restarted = await startChildApp(resources);
    children.push(restarted);
    await expectEventually(async () => expect(await db.status(orderId)).toBe('Processed'), {
      timeoutMs: 45_000,
    });
    await expectEventually(async () => {
      const outbox: OutboxRow[] = await resources.db.dataSource.query(
        'SELECT message_key, published_at, attempts FROM outbox WHERE topic = $1',
        [resources.topics.ordersPastDue.name],
      );
      expect(outbox).toEqual([{ message_key: orderId, published_at: expect.any(Date), attempts: 1 }]);
      expect(
        await resources.kafka.committedCount(resources.intakeGroupId, resources.topics.ordersPastDue.name),
      ).toBe(1);
    });
    expect(await resources.kafka.messageCount(resources.topics.ordersPastDue.name)).toBe(1);
    expect(pastDue.filter((record) => record.key === orderId)).toHaveLength(1);
    expect((await db.notifications(orderId)).map((n) => n.to_address)).toEqual(['ola.nordmann@example.com']);

    // 4. SIGTERM: Nest closes the app (scheduler, consumer, producer, database) and re-raises the signal.
    const stopping = Date.now();
    restarted.process.kill('SIGTERM');
    expect(await restarted.exited).toBe('SIGTERM');
    expect(Date.now() - stopping).toBeLessThan(15_000);
    expect(restarted.output()).not.toMatch(/ERROR/);
  });
});
