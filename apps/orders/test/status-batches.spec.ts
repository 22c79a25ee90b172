import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { SendOperationResultContract, type SendOperationResult } from '@notifications/contracts';
import { createTestDatabase, type TestDatabase } from '@notifications/database/testing';
import { expectEventually } from '@notifications/testing';
import { loadOrdersConfig, type OrdersConfig } from '../src/config/orders.config';
import { ordersEntities } from '../src/store/entities';
import { ordersMigrations } from '../src/store/migrations';
import { UnitOfWork } from '../src/store/unit-of-work';
import { EmailNotificationRepository } from '../src/store/email-notification.repository';
import { EmailStatusService } from '../src/status/email-status.service';
import { OrderRepository } from '../src/store/order.repository';
import { type NotificationDraft } from '../src/domain/recipients';
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

const NO_BYTE_BOUND = 64 * 1024 * 1024;

interface Row {
  id: string;
  result: string;
  result_time: Date;
  next_attempt_at: Date;
  sending_since: Date | null;
  operation_id: string | null;
}

describe('status updates applied in batches, against PostgreSQL', () => {
  let db: TestDatabase;
  let uow: UnitOfWork;
  let config: OrdersConfig;
  let status: EmailStatusService;
  const orders = new OrderRepository();
  const notifications = new EmailNotificationRepository();

  beforeAll(async () => {
    Logger.overrideLogger(['error']);
    db = await createTestDatabase({
      prefix: 'orders_status_batches',
      migrations: ordersMigrations,
      entities: ordersEntities,
    });
    uow = new UnitOfWork(db.dataSource);
    config = loadOrdersConfig({
      APP_ENV: 'test',
      DATABASE_URL: db.url,
      ORDERS_TRANSIENT_RESEND_DELAY: '30s',
    });
  });

  afterAll(async () => {
    await db?.drop();
  });

  beforeEach(async () => {
    await db.dataSource.query('TRUNCATE orders CASCADE');
    status = new EmailStatusService(uow, notifications, orders, config);
  });

  afterEach(() => {
    jest.restoreAllMocks();
  });

  /** A Processed order with `count` notifications in Sending; returns the order id and the notification ids. */
  async function processedOrder(count: number): Promise<{ orderId: string; ids: string[] }> {
    const now = new Date();
    const orderId = randomUUID();
    await uow.run((tx) =>
      orders.insert(tx, {
        id: orderId,
        creator: 'ttd',
        requestedSendTime: new Date(now.getTime() - 1_000),
        created: now,
        recipients: [{ emailAddress: 'a@example.com' }],
        email: { fromAddress: 'noreply@altinn.cloud', subject: 'S', body: 'B', contentType: 'Plain' },
      }),
    );
    await db.dataSource.query(`UPDATE orders SET processing_status = 'Processed' WHERE id = $1`, [orderId]);
    const drafts: NotificationDraft[] = Array.from({ length: count }, (_, index) => ({
      recipientKey: `${orderId.slice(0, 8)}-${String(index).padStart(4, '0')}@example.com`,
      toAddress: `${orderId.slice(0, 8)}-${String(index).padStart(4, '0')}@example.com`,
      result: 'New',
    }));
    await uow.run((tx) => notifications.insertMany(tx, orderId, drafts, new Date(Date.now() + 3_600_000)));
    await uow.run((tx) => notifications.claimForSending(tx, 10_000, NO_BYTE_BOUND));
    const rows: { id: string }[] = await db.dataSource.query(
      'SELECT id FROM email_notifications WHERE order_id = $1 ORDER BY recipient_key',
      [orderId],
    );
    return { orderId, ids: rows.map((row) => row.id) };
  }

  async function rows(orderId: string): Promise<Map<string, Row>> {
    const found: Row[] = await db.dataSource.query(
      `SELECT id, result, result_time, next_attempt_at, sending_since, operation_id
         FROM email_notifications WHERE order_id = $1`,
      [orderId],
    );
    return new Map(found.map((row) => [row.id, row]));
  }

  async function orderStatus(orderId: string): Promise<string> {
    const found: { processing_status: string }[] = await db.dataSource.query(
      'SELECT processing_status FROM orders WHERE id = $1',
      [orderId],
    );
    return found[0]!.processing_status;
  }

  it('applies a mixed batch in offset order, forward only, and a redelivery of it changes nothing', async () => {
    const { orderId, ids } = await processedOrder(6);
    const [late, twice, byOperation, byRecordedOperation, transient, untouched] = ids as [
      string,
      string,
      string,
      string,
      string,
      string,
    ];
    // The poller stored an ACS operation id of its own for this one before the batch.
    await status.apply({
      notificationId: byRecordedOperation,
      operationId: 'acs-op-7',
      sendResult: 'Succeeded',
    });
    const unknown = randomUUID();
    const batch: SendOperationResult[] = [
      // A delivery report overtakes the poller's Succeeded.
      { notificationId: late, operationId: late, sendResult: 'Delivered' },
      { notificationId: late, operationId: late, sendResult: 'Succeeded' },
      // The same update twice.
      { notificationId: twice, operationId: twice, sendResult: 'Succeeded' },
      { notificationId: twice, operationId: twice, sendResult: 'Succeeded' },
      { notificationId: unknown, operationId: '', sendResult: 'Delivered' },
      // Delivery reports carrying only the operation id: the notification id itself, and one stored before.
      { operationId: byOperation.toUpperCase(), sendResult: 'Delivered' },
      { operationId: 'acs-op-7', sendResult: 'Failed_Bounced' },
      { operationId: 'acs-op-nobody', sendResult: 'Delivered' },
      { notificationId: transient, operationId: '', sendResult: 'Failed_TransientError' },
    ];

    const first = await status.applyBatch(batch);
    expect(first.outcomes).toEqual([
      { kind: 'applied', notificationId: late, orderId, result: 'Delivered', orderCompleted: false },
      { kind: 'ignored', notificationId: late, reason: 'Delivered is final' },
      { kind: 'applied', notificationId: twice, orderId, result: 'Succeeded', orderCompleted: false },
      { kind: 'ignored', notificationId: twice, reason: 'already Succeeded' },
      { kind: 'unknown-notification' },
      { kind: 'applied', notificationId: byOperation, orderId, result: 'Delivered', orderCompleted: false },
      {
        kind: 'applied',
        notificationId: byRecordedOperation,
        orderId,
        result: 'Failed_Bounced',
        orderCompleted: false,
      },
      { kind: 'unknown-notification' },
      { kind: 'resend', notificationId: transient, orderId },
    ]);
    expect(first.completedOrders).toEqual([]);
    const after = await rows(orderId);
    expect(Object.fromEntries([...after].map(([id, row]) => [id, row.result]))).toEqual({
      [late]: 'Delivered',
      [twice]: 'Succeeded',
      [byOperation]: 'Delivered',
      [byRecordedOperation]: 'Failed_Bounced',
      [transient]: 'New',
      [untouched]: 'Sending',
    });
    expect(after.get(late)).toMatchObject({ operation_id: late, sending_since: null });
    expect(after.get(byOperation)).toMatchObject({ operation_id: byOperation.toUpperCase() });
    expect(after.get(byRecordedOperation)).toMatchObject({ operation_id: 'acs-op-7' });
    // Back to New, due only after the resend delay (30 s here).
    const transientRow = after.get(transient)!;
    expect(transientRow.next_attempt_at.getTime()).toBeGreaterThan(Date.now() + 20_000);
    expect(transientRow.sending_since).toBeNull();
    expect(after.get(untouched)!.sending_since).not.toBeNull();

    // Redelivered as a whole: the same outcome in the database, nothing rewritten (result times included).
    const again = await status.applyBatch(batch);
    expect(again.outcomes.map((outcome) => outcome.kind)).toEqual([
      'ignored',
      'ignored',
      'ignored',
      'ignored',
      'unknown-notification',
      'ignored',
      'ignored',
      'unknown-notification',
      'ignored',
    ]);
    expect(await rows(orderId)).toEqual(after);
    expect(await orderStatus(orderId)).toBe('Processed');
  });

  it('composes several updates for one notification as if applied one after another', async () => {
    const { orderId, ids } = await processedOrder(3);
    const [resentThenSucceeded, succeededThenTransient, transientThenBounced] = ids as [
      string,
      string,
      string,
    ];
    const { outcomes } = await status.applyBatch([
      { notificationId: resentThenSucceeded, operationId: '', sendResult: 'Failed_TransientError' },
      { notificationId: resentThenSucceeded, operationId: 'op-a', sendResult: 'Succeeded' },
      { notificationId: succeededThenTransient, operationId: '', sendResult: 'Succeeded' },
      { notificationId: succeededThenTransient, operationId: '', sendResult: 'Failed_TransientError' },
      { notificationId: transientThenBounced, operationId: '', sendResult: 'Failed_TransientError' },
      // A second transient failure: the first already sent it back to New, so this belongs to an earlier attempt.
      { notificationId: transientThenBounced, operationId: '', sendResult: 'Failed_TransientError' },
    ]);
    expect(outcomes.map((outcome) => outcome.kind)).toEqual([
      'resend',
      'applied',
      'applied',
      'ignored',
      'resend',
      'ignored',
    ]);
    const after = await rows(orderId);
    expect(after.get(resentThenSucceeded)).toMatchObject({ result: 'Succeeded', operation_id: 'op-a' });
    expect(after.get(succeededThenTransient)).toMatchObject({ result: 'Succeeded' });
    expect(after.get(transientThenBounced)).toMatchObject({ result: 'New' });
  });

  it('costs one locking, one writing and one completing statement for a batch of 200 updates over two orders', async () => {
    const first = await processedOrder(100);
    const second = await processedOrder(100);
    const lock = jest.spyOn(notifications, 'lockForStatus');
    const write = jest.spyOn(notifications, 'applyStatusChanges');
    const complete = jest.spyOn(orders, 'completeManyIfDone');
    const batch = [...first.ids, ...second.ids].map((id): SendOperationResult => ({
      notificationId: id,
      operationId: id,
      sendResult: 'Delivered',
    }));
    const { completedOrders } = await status.applyBatch(batch);
    expect([...completedOrders].sort()).toEqual([first.orderId, second.orderId].sort());
    expect(lock).toHaveBeenCalledTimes(1);
    expect(write).toHaveBeenCalledTimes(1);
    expect(complete).toHaveBeenCalledTimes(1);
    expect(await orderStatus(first.orderId)).toBe('Completed');
    expect(await orderStatus(second.orderId)).toBe('Completed');
    // Redelivered: nothing to complete again.
    expect((await status.applyBatch(batch)).completedOrders).toEqual([]);
  });

  it('completes the order once when concurrent batches finish its last notifications, locking overlapping rows without deadlock', async () => {
    for (let round = 0; round < 5; round += 1) {
      const { orderId, ids } = await processedOrder(40);
      const updates = ids.map((id): SendOperationResult => ({
        notificationId: id,
        operationId: id,
        sendResult: 'Delivered',
      }));
      // Four batches: two halves, and the whole order once forwards and once backwards (overlapping locks).
      const results = await Promise.all([
        status.applyBatch(updates.slice(0, 20)),
        status.applyBatch(updates.slice(20)),
        status.applyBatch(updates),
        status.applyBatch([...updates].reverse()),
      ]);
      expect(await orderStatus(orderId)).toBe('Completed');
      expect(results.flatMap((result) => result.completedOrders)).toEqual([orderId]);
    }
  });
});

describe('status update batches through the real broker', () => {
  let resources: OrdersTestResources;
  let server: OrdersTestApp;
  let api: ApiClient;
  let db: OrdersDb;

  beforeAll(async () => {
    resources = await createTestResources('status-batches');
    db = new OrdersDb(resources.db.dataSource);
    server = await startOrdersApp(resources);
    api = new ApiClient(server.baseUrl, resources.auth.token('ttd'));
  });

  afterAll(async () => {
    await server?.close();
    await resources?.cleanup();
  });

  it('completes a 1 000-notification order exactly once from batches of status updates', async () => {
    const status = server.app.get(EmailStatusService);
    const batchSizes: number[] = [];
    const applyBatch = status.applyBatch.bind(status);
    jest.spyOn(status, 'applyBatch').mockImplementation(async (updates) => {
      batchSizes.push(updates.length);
      return applyBatch(updates);
    });
    const completions: string[] = [];
    const orders = server.app.get(OrderRepository);
    const completeManyIfDone = orders.completeManyIfDone.bind(orders);
    jest.spyOn(orders, 'completeManyIfDone').mockImplementation(async (tx, ids) => {
      const completed = await completeManyIfDone(tx, ids);
      completions.push(...completed);
      return completed;
    });
    // The sweeper's safety net (every 500 ms here) may complete the order between the last batch's commit and that
    // batch's completion statement; either way the order must be completed exactly once.
    let completedBySweeper = 0;
    const completeFinished = orders.completeFinished.bind(orders);
    jest.spyOn(orders, 'completeFinished').mockImplementation(async (tx, limit) => {
      const completed = await completeFinished(tx, limit);
      completedBySweeper += completed;
      return completed;
    });

    const recipients = Array.from({ length: 1_000 }, (_, index) => ({
      emailAddress: `batch-${String(index).padStart(4, '0')}@example.com`,
    }));
    const response = await api.post<{ orderId: string }>(`${API}/orders/email`, emailOrder({ recipients }));
    expect(response.status).toBe(202);
    const orderId = response.body.orderId;
    const ids = await expectEventually(
      async () => {
        const rows = await db.notifications(orderId);
        expect(rows).toHaveLength(1_000);
        expect(rows.every((row) => row.result === 'Sending')).toBe(true);
        return rows.map((row) => row.id);
      },
      { timeoutMs: 60_000 },
    );

    // Each notification: the poller's Succeeded and the delivery report, some of the reports first.
    const topic = resources.topics.emailStatusUpdated;
    const updates = ids.flatMap((id, index): SendOperationResult[] => {
      const succeeded: SendOperationResult = { notificationId: id, operationId: id, sendResult: 'Succeeded' };
      const delivered: SendOperationResult = { operationId: id, sendResult: 'Delivered' };
      return index % 4 === 0 ? [delivered, succeeded] : [succeeded, delivered];
    });
    await resources.kafka.produceRaw(
      topic.name,
      updates.map((update) => ({
        key: topic.keyOf(update) ?? '',
        value: SendOperationResultContract.serialize(update),
      })),
    );

    await expectEventually(
      async () => {
        expect(await db.status(orderId)).toBe('Completed');
        expect(await resources.kafka.committedCount(resources.consumerGroupId, topic.name)).toBe(
          await resources.kafka.messageCount(topic.name),
        );
      },
      { timeoutMs: 60_000 },
    );
    expect(new Set((await db.notifications(orderId)).map((row) => row.result))).toEqual(
      new Set(['Delivered']),
    );
    expect(completions.length + completedBySweeper).toBe(1);
    expect(completions.every((id) => id === orderId)).toBe(true);
    // Applied in batches, not one by one: fewer transactions than half the updates.
    expect(batchSizes.reduce((sum, size) => sum + size, 0)).toBeGreaterThanOrEqual(updates.length);
    expect(batchSizes.length).toBeLessThan(updates.length / 2);
  });
});
