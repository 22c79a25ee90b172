import {
  EmailWithheldContract,
  HALT_PROPAGATION_MS,
  OrderHaltedContract,
  ORDER_ID_HEADER,
  OrderWithStatusResponse,
  ProblemDetailsResponse,
} from '@notifications/contracts';
import { expectEventually } from '@notifications/testing';
import { type ReceivedRecord } from '@notifications/messaging/testing';
import { type Tx, UnitOfWork } from '../src/store/unit-of-work';
import { OrderRepository } from '../src/store/order.repository';
import { EmailNotificationRepository } from '../src/store/email-notification.repository';
import { OutboxRepository } from '../src/store/outbox.repository';
import { PastDueService } from '../src/intake/past-due.service';
import { toNotificationOrder } from '../src/domain/notification-order.mapper';
import { expectShape } from './support/assertions';
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

/**
 * PUT …/orders/{id}/halt against the real app, PostgreSQL and Kafka (README "Halt"). The scheduler is off so each
 * test arranges its order's notifications and outbox rows by hand: some never claimed, some claimed with their
 * email still in the outbox, one claimed and "published" (no outbox row left), as a halt may find them.
 */
describe('halting an order mid-flight', () => {
  let resources: OrdersTestResources;
  let server: OrdersTestApp;
  let ttd: ApiClient;
  let nav: ApiClient;
  let operator: ApiClient;
  let db: OrdersDb;
  let uow: UnitOfWork;
  let halts: ReceivedRecord[];
  const orders = new OrderRepository();
  const notifications = new EmailNotificationRepository();
  const outbox = new OutboxRepository();

  beforeAll(async () => {
    resources = await createTestResources('halt', { ORDERS_SCHEDULER_ENABLED: 'false' });
    server = await startOrdersApp(resources);
    const anonymous = new ApiClient(server.baseUrl);
    ttd = anonymous.as(resources.auth.token('ttd'));
    nav = anonymous.as(resources.auth.token('nav'));
    operator = new ApiClient(server.managementUrl, resources.auth.operatorToken());
    db = new OrdersDb(resources.db.dataSource);
    uow = new UnitOfWork(resources.db.dataSource);
    halts = await resources.kafka.read([resources.topics.ordersHalted.name]);
  });

  afterAll(async () => {
    await server?.close();
    await resources?.cleanup();
  });

  /**
   * An order of `recipients` recipients (`prefix-0@example.com`, …) in Processing whose first `created` notifications
   * exist as New, as intake leaves it after a slice; `then` goes on in the same transaction.
   */
  async function orderInIntake<T>(
    prefix: string,
    sizes: { readonly recipients: number; readonly created: number },
    then: (tx: Tx, orderId: string) => Promise<T>,
  ): Promise<T> {
    const address = (index: number): string => `${prefix}-${index}@example.com`;
    const orderId = await db.insertOrder(
      Array.from({ length: sizes.recipients }, (_, index) => ({ emailAddress: address(index) })),
    );
    return uow.run(async (tx) => {
      await tx.manager.query(`UPDATE orders SET processing_status = 'Processing' WHERE id = $1`, [orderId]);
      await notifications.insertMany(
        tx,
        orderId,
        Array.from({ length: sizes.created }, (_, index) => ({
          recipientKey: address(index),
          toAddress: address(index),
          result: 'New' as const,
        })),
        new Date(Date.now() + 86_400_000),
      );
      return then(tx, orderId);
    });
  }

  /**
   * A Processed order of `recipients` notifications: 2 claimed with their emails in the outbox, 1 claimed whose
   * email was published (its outbox row is gone), the rest New. Returns the ids of the claimed ones.
   */
  function processedOrder(recipients: number): Promise<{ orderId: string; published: string }> {
    return orderInIntake('halt', { recipients, created: recipients }, async (tx, orderId) => {
      await orders.finishProcessing(tx, orderId, 'Processed');
      const claimed = await notifications.claimForSending(tx, 3, NO_BYTE_BOUND);
      const [published, ...queued] = claimed.map((notification) => notification.id);
      await outbox.add(
        tx,
        queued.map((id) => ({
          topic: resources.topics.emailQueue.name,
          key: id,
          payload: '{}',
          headers: { [ORDER_ID_HEADER]: orderId },
        })),
      );
      return { orderId, published: published as string };
    });
  }

  async function results(orderId: string): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    for (const row of await db.notifications(orderId)) counts[row.result] = (counts[row.result] ?? 0) + 1;
    return counts;
  }

  it('withholds every unsent email at once, keeps the published one in flight, and publishes the halt before answering', async () => {
    const { orderId, published } = await processedOrder(8);

    const requestedAt = performance.now();
    const response = await ttd.put(`${API}/orders/${orderId}/halt`);
    // The answer waits out the time email-sender replicas may take to learn of the halt (README "Halt").
    expect(performance.now() - requestedAt).toBeGreaterThanOrEqual(HALT_PROPAGATION_MS);

    expect(response.status).toBe(200);
    const view = expectShape(OrderWithStatusResponse, response.body);
    expect(view.processingStatus.status).toBe('Processed');
    expect(view.processingStatus.description).toMatch(/being halted/);
    expect(view.halted).toEqual({ at: expect.any(String), sent: 0, withheld: 7, inFlight: 1 });
    expect(await results(orderId)).toEqual({ Cancelled: 7, Sending: 1 });
    // The two queued emails left the outbox with their notifications; nothing else of the order is queued.
    const queued: unknown[] = await resources.db.dataSource.query(
      'SELECT 1 FROM outbox WHERE topic = $1 AND published_at IS NULL',
      [resources.topics.emailQueue.name],
    );
    expect(queued).toHaveLength(0);
    // Acknowledged only once Kafka has the record (the producer awaits acks=all before the answer is sent).
    const record = halts.find((halt) => halt.key === orderId);
    expect(record).toBeDefined();
    expect(OrderHaltedContract.parse(record?.value ?? '')).toEqual({
      orderId,
      haltedAt: view.halted?.at,
    });

    // email-sender withholds the published email: the order ends Cancelled with final counts.
    await resources.kafka.produceRaw(resources.topics.emailWithheld.name, [
      { key: published, value: EmailWithheldContract.serialize({ notificationId: published, orderId }) },
    ]);
    const final = await expectEventually(async () => {
      const status = await ttd.get(`${API}/orders/${orderId}/status`);
      const body = expectShape(OrderWithStatusResponse, status.body);
      expect(body.processingStatus.status).toBe('Cancelled');
      return body;
    });
    expect(final.halted).toEqual({ at: view.halted?.at, sent: 0, withheld: 8, inFlight: 0 });
    expect(final.processingStatus.description).toMatch(/halted/);
  });

  it('records the real send result of an email that was in flight, replacing Cancelled but never the reverse', async () => {
    const { orderId, published } = await processedOrder(4);
    expect((await ttd.put(`${API}/orders/${orderId}/halt`)).status).toBe(200);
    const status = resources.topics.emailStatusUpdated;

    // The in-flight email was sent after all: Succeeded, then Delivered; a late withheld report changes nothing.
    await resources.kafka.produceRaw(status.name, [
      {
        key: published,
        value: status.contract.serialize({
          notificationId: published,
          operationId: published,
          sendResult: 'Succeeded',
        }),
      },
    ]);
    await expectEventually(async () =>
      expect(await results(orderId)).toEqual({ Cancelled: 3, Succeeded: 1 }),
    );
    await resources.kafka.produceRaw(resources.topics.emailWithheld.name, [
      { key: published, value: EmailWithheldContract.serialize({ notificationId: published, orderId }) },
    ]);
    await resources.kafka.produceRaw(status.name, [
      {
        key: published,
        value: status.contract.serialize({
          notificationId: published,
          operationId: published,
          sendResult: 'Delivered',
        }),
      },
    ]);
    const final = await expectEventually(async () => {
      const body = expectShape(
        OrderWithStatusResponse,
        (await ttd.get(`${API}/orders/${orderId}/status`)).body,
      );
      expect(body.processingStatus.status).toBe('Cancelled');
      return body;
    });
    expect(await results(orderId)).toEqual({ Cancelled: 3, Delivered: 1 });
    expect(final.halted).toMatchObject({ sent: 1, withheld: 3, inFlight: 0 });
    expect(final.notificationsStatusSummary.email).toMatchObject({ generated: 4, succeeded: 1 });
  });

  it('waits for a claim in progress and then withholds what it queued (the outbox rows it wrote are deleted)', async () => {
    const orderId = await orderInIntake('race', { recipients: 4, created: 4 }, async (tx, id) => {
      await orders.finishProcessing(tx, id, 'Processed');
      return id;
    });
    // A claimer's transaction: New → Sending and their outbox rows, not committed until the halt is waiting.
    let commitClaim!: () => void;
    const claimHeld = new Promise<void>((resolve) => (commitClaim = resolve));
    let claimedIds: string[] = [];
    const claimed = new Promise<void>((resolveClaimed) => {
      void uow.run(async (tx) => {
        const rows = await notifications.claimForSending(tx, 100, NO_BYTE_BOUND);
        claimedIds = rows.filter((row) => row.orderId === orderId).map((row) => row.id);
        await outbox.add(
          tx,
          rows.map((row) => ({ topic: resources.topics.emailQueue.name, key: row.id, payload: '{}' })),
        );
        resolveClaimed();
        await claimHeld;
      });
    });
    await claimed;
    expect(claimedIds).toHaveLength(4);

    const halting = ttd.put(`${API}/orders/${orderId}/halt`);
    // The halt waits for the claimer's row locks: nothing is answered while the claim is open.
    await expectEventually(async () => {
      const waiting: unknown[] = await resources.db.dataSource.query(
        `SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
      );
      expect(waiting.length).toBeGreaterThan(0);
    });
    commitClaim();
    const response = await halting;

    expect(response.status).toBe(200);
    expect(expectShape(OrderWithStatusResponse, response.body).halted).toMatchObject({
      withheld: 4,
      inFlight: 0,
    });
    expect(await results(orderId)).toEqual({ Cancelled: 4 });
    const queued: unknown[] = await resources.db.dataSource.query(
      'SELECT 1 FROM outbox WHERE message_key = ANY($1::text[])',
      [claimedIds],
    );
    expect(queued).toEqual([]);
  });

  it("never sends a halted order's email again: a transient failure and a stale Sending end Cancelled", async () => {
    const { orderId, published } = await processedOrder(3);
    const { orderId: staleOrder, published: stale } = await processedOrder(3);
    for (const id of [orderId, staleOrder])
      expect((await ttd.put(`${API}/orders/${id}/halt`)).status).toBe(200);
    const status = resources.topics.emailStatusUpdated;
    await resources.kafka.produceRaw(status.name, [
      {
        key: published,
        value: status.contract.serialize({
          notificationId: published,
          operationId: '',
          sendResult: 'Failed_TransientError',
        }),
      },
    ]);
    await expectEventually(async () => expect(await results(orderId)).toEqual({ Cancelled: 3 }));
    expect(await db.status(orderId)).toBe('Cancelled');

    // Its email or its result was lost: the sweeper's re-drive cancels it instead of queueing it again.
    await resources.db.dataSource.query(
      `UPDATE email_notifications SET sending_since = now() - interval '1 hour' WHERE id = $1`,
      [stale],
    );
    expect(
      await uow.run((tx) => notifications.redriveStaleSending(tx, 60_000, 3, 100)),
    ).toBeGreaterThanOrEqual(1);
    expect(await results(staleOrder)).toEqual({ Cancelled: 3 });
  });

  it('never queues a notification of a halted order, even one back in New after a race with the halt', async () => {
    const { orderId } = await processedOrder(3);
    expect((await ttd.put(`${API}/orders/${orderId}/halt`)).status).toBe(200);
    // As a transient failure's resend decided just before the halt committed would leave it.
    const [raced] = await resources.db.dataSource.query<{ id: string }[]>(
      `UPDATE email_notifications SET result = 'New', next_attempt_at = now()
        WHERE id = (SELECT id FROM email_notifications WHERE order_id = $1 AND result = 'Cancelled' LIMIT 1)
        RETURNING id`,
      [orderId],
    );
    expect((await operator.post(`${API}/trigger/sendemail`)).status).toBe(200);
    expect(await results(orderId)).toEqual({ Cancelled: 2, Sending: 1 });
    const queued: unknown[] = await resources.db.dataSource.query(
      'SELECT 1 FROM outbox WHERE message_key = $1',
      [raced?.id],
    );
    expect(queued).toEqual([]);
  });

  it('ends a Registered or Processing order without notifications Cancelled at once', async () => {
    const registered = await db.insertOrder([{ emailAddress: 'a@example.com' }]);
    const processing = await db.insertOrder([{ emailAddress: 'b@example.com' }]);
    await resources.db.dataSource.query(`UPDATE orders SET processing_status = 'Processing' WHERE id = $1`, [
      processing,
    ]);
    for (const orderId of [registered, processing]) {
      const response = await ttd.put(`${API}/orders/${orderId}/halt`);
      expect(response.status).toBe(200);
      const view = expectShape(OrderWithStatusResponse, response.body);
      expect(view.processingStatus.status).toBe('Cancelled');
      expect(view.halted).toMatchObject({ sent: 0, withheld: 0, inFlight: 0 });
    }
    // Intake locks the order and goes on only while it is Processing (past-due.service): nothing is created.
    expect(await db.notifications(processing)).toEqual([]);
  });

  /** Intake of an order that is Processing (scheduler off: called as the `orders.pastdue` consumer would). */
  async function runIntake(orderId: string): Promise<Awaited<ReturnType<PastDueService['processOrder']>>> {
    const order = await orders.find(uow.autoCommit, orderId);
    if (order === undefined) throw new Error(`order ${orderId} not found`);
    return server.app
      .get(PastDueService)
      .processOrder(toNotificationOrder({ ...order, recipientCount: 0 }, false));
  }

  it("commits a large order's intake slice by slice: no transaction spans the order", async () => {
    const recipients = 12_000;
    const orderId = await db.insertOrder(
      Array.from({ length: recipients }, (_, index) => ({ emailAddress: `slices-${index}@example.com` })),
    );
    await resources.db.dataSource.query(`UPDATE orders SET processing_status = 'Processing' WHERE id = $1`, [
      orderId,
    ]);
    expect(await runIntake(orderId)).toMatchObject({ kind: 'processed', created: recipients });
    // xmin is the transaction that wrote the row (nothing updates them here: the scheduler is off): 5 000 a slice.
    const [transactions] = await resources.db.dataSource.query<{ count: number }[]>(
      'SELECT count(DISTINCT xmin::text)::int AS count FROM email_notifications WHERE order_id = $1',
      [orderId],
    );
    expect(transactions?.count).toBe(3);
    expect(await db.status(orderId)).toBe('Processed');
    // The other tests claim the oldest New notifications: these must not be among them.
    await resources.db.dataSource.query(
      `UPDATE email_notifications SET result = 'Cancelled' WHERE order_id = $1`,
      [orderId],
    );
  });

  it('stops an intake halted between two slices: what was created is withheld or in flight, the rest never created', async () => {
    // As a large order looks when its first slice has committed (one email already published) and the next has
    // not started.
    const orderId = await orderInIntake('between', { recipients: 8, created: 3 }, async (tx, id) => {
      await notifications.claimForSending(tx, 1, NO_BYTE_BOUND);
      return id;
    });
    const response = await ttd.put(`${API}/orders/${orderId}/halt`);
    expect(response.status).toBe(200);
    const view = expectShape(OrderWithStatusResponse, response.body);
    // Not Cancelled yet: an email is on its way, and the order ends when its result is in (as a Processed one).
    expect(view.processingStatus.status).toBe('Processed');
    expect(view.halted).toMatchObject({ sent: 0, withheld: 2, inFlight: 1 });
    // The rest of the intake: its next slice locks the order and finds it no longer Processing.
    expect(await runIntake(orderId)).toEqual({ kind: 'skipped', status: 'Processed' });
    expect(await results(orderId)).toEqual({ Cancelled: 2, Sending: 1 });
  });

  it('is idempotent: a second halt answers the same and publishes the same record again', async () => {
    const { orderId } = await processedOrder(3);
    const first = expectShape(OrderWithStatusResponse, (await ttd.put(`${API}/orders/${orderId}/halt`)).body);
    const second = await ttd.put(`${API}/orders/${orderId}/halt`);
    expect(second.status).toBe(200);
    expect(expectShape(OrderWithStatusResponse, second.body)).toEqual(first);
    await expectEventually(() => expect(halts.filter((halt) => halt.key === orderId)).toHaveLength(2));
    const values = new Set(halts.filter((halt) => halt.key === orderId).map((halt) => halt.value));
    expect(values.size).toBe(1);
  });

  it('answers 409 for a final order that was not halted, and 404 to another organisation and for unknown ids', async () => {
    const completed = await db.insertOrder([{ emailAddress: 'c@example.com' }]);
    await resources.db.dataSource.query(`UPDATE orders SET processing_status = 'Completed' WHERE id = $1`, [
      completed,
    ]);
    const conflict = await ttd.put(`${API}/orders/${completed}/halt`);
    expect(conflict.status).toBe(409);
    expect(conflict.contentType).toMatch(/^application\/problem\+json/);
    expect(expectShape(ProblemDetailsResponse, conflict.body).detail).toMatch(/Completed/);

    const cancelled = await ttd.post<{ orderId: string }>(
      `${API}/orders/email`,
      emailOrder({ requestedSendTime: '2099-01-01T00:00:00Z' }),
    );
    expect((await ttd.put(`${API}/orders/${cancelled.body.orderId}/cancel`)).status).toBe(200);
    expect((await ttd.put(`${API}/orders/${cancelled.body.orderId}/halt`)).status).toBe(409);

    const { orderId } = await processedOrder(2);
    expect((await nav.put(`${API}/orders/${orderId}/halt`)).status).toBe(404);
    expect(await results(orderId)).toEqual({ Sending: 2 });
    expect((await ttd.put(`${API}/orders/7b8a4f34-6f2d-4a61-9a3e-7a1c1f1f0a11/halt`)).status).toBe(404);
    expect((await ttd.put(`${API}/orders/not-a-uuid/halt`)).status).toBe(404);
  });

  it("lets an operator halt any organisation's order on the management listener (PUT internal/orders/{id}/halt)", async () => {
    const { orderId } = await processedOrder(5);
    expect(
      (await new ApiClient(server.managementUrl).put(`${API}/internal/orders/${orderId}/halt`)).status,
    ).toBe(401);
    const response = await operator.put(`${API}/internal/orders/${orderId}/halt`);
    expect(response.status).toBe(200);
    expect(expectShape(OrderWithStatusResponse, response.body).halted).toMatchObject({
      withheld: 4,
      inFlight: 1,
    });
    expect((await operator.put(`${API}/internal/orders/${orderId}/halt`)).status).toBe(200);
    expect(
      (await operator.put(`${API}/internal/orders/7b8a4f34-6f2d-4a61-9a3e-7a1c1f1f0a11/halt`)).status,
    ).toBe(404);
    // The public route is not served on the management listener, nor the operators' route on the public one.
    expect((await ttd.put(`${API}/internal/orders/${orderId}/halt`)).status).toBe(404);
  });
});
