import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { createTestDatabase, type TestDatabase } from '@notifications/database/testing';
import { expectEventually } from '@notifications/testing';
import { NotificationOrderContract } from '@notifications/contracts';
import { loadOrdersConfig, type OrdersConfig } from '../src/config/orders.config';
import { ordersEntities } from '../src/store/entities';
import { ordersMigrations } from '../src/store/migrations';
import { UnitOfWork, type Tx } from '../src/store/unit-of-work';
import { EmailNotificationRepository } from '../src/store/email-notification.repository';
import { EmailStatusService } from '../src/status/email-status.service';
import { type NewEmailOrder } from '../src/domain/order.model';
import { OrderRepository } from '../src/store/order.repository';
import { OutboxRepository } from '../src/store/outbox.repository';
import { type NotificationDraft } from '../src/domain/recipients';
import { OrderClaimService } from '../src/intake/order-claim.service';
import { RateLimitRepository } from '../src/store/rate-limit.repository';
import { SweeperService } from '../src/scheduler/sweeper.service';
import { SubscriptionDeliveryRepository } from '../src/store/subscription-delivery.repository';
import { SubscriptionDeliveryMetrics } from '../src/subscriptions/subscription-delivery.metrics';
import { Registry } from 'prom-client';
import { Topics } from '@notifications/contracts';

// Claims in the tests below that are not about the byte bound.
const NO_BYTE_BOUND = 64 * 1024 * 1024;

/** Holds a transaction open until released, so that a second claimer runs while the first one's locks are held. */
function gate(): { wait: Promise<void>; open(): void } {
  let open!: () => void;
  const wait = new Promise<void>((resolve) => (open = resolve));
  return { wait, open };
}

describe('repositories against PostgreSQL', () => {
  let db: TestDatabase;
  let uow: UnitOfWork;
  let config: OrdersConfig;
  const orders = new OrderRepository();
  const notifications = new EmailNotificationRepository();
  const outbox = new OutboxRepository();
  const pauses = new RateLimitRepository();

  beforeAll(async () => {
    Logger.overrideLogger(['error']);
    db = await createTestDatabase({
      prefix: 'orders_repositories',
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

  interface PlanNode {
    readonly 'Node Type': string;
    readonly 'Index Name'?: string;
    readonly Plans?: readonly PlanNode[];
  }

  /**
   * The plan PostgreSQL chose for the claim statement `claim` runs (the `WITH due AS …` one), explained in the
   * claim's own transaction (so with the planner settings the repository set for it), as the chain of node types
   * from the top down to the scan of `index`. What the claims' cost rests on is this plan: an ordered index scan
   * under the LIMIT stops after about `limit` live entries and marks the dead ones it passes killed, while a bitmap
   * scan (+ sort) reads every entry, dead ones included, on every claim. The entries actually read also depend on
   * when PostgreSQL may kill dead entries (no older snapshot anywhere that could still see them), which a busy
   * shared server delays — measured by `npm run bench` (rows read per notification, per index), not here.
   */
  async function claimPlanDownTo(index: string, claim: (tx: Tx) => Promise<unknown>): Promise<string[]> {
    return uow.run(async (tx) => {
      const statements: { sql: string; parameters: unknown[] }[] = [];
      const manager = new Proxy(tx.manager, {
        get(target, property) {
          if (property === 'query')
            return (sql: string, parameters: unknown[] = []) => {
              statements.push({ sql, parameters });
              return target.query(sql, parameters);
            };
          const value: unknown = Reflect.get(target, property, target);
          return typeof value === 'function'
            ? (value as (...args: unknown[]) => unknown).bind(target)
            : value;
        },
      });
      await claim({ manager });
      const statement = statements.find(({ sql }) => sql.trimStart().startsWith('WITH due AS'));
      if (statement === undefined) throw new Error('the claim ran no `WITH due AS` statement');
      const [row] = await tx.manager.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }[]>(
        `EXPLAIN (FORMAT JSON) ${statement.sql}`,
        statement.parameters,
      );
      const path = (node: PlanNode): string[] | undefined => {
        if (node['Index Name'] === index) return [node['Node Type']];
        for (const [position, child] of (node.Plans ?? []).entries()) {
          const below = path(child);
          // A join's outer side drives it (in its order, stopping when the rows above stop); the inner one is
          // scanned again per outer row.
          const side =
            node.Plans !== undefined && node.Plans.length > 1
              ? position === 0
                ? ' (outer)'
                : ' (inner)'
              : '';
          if (below !== undefined) return [`${node['Node Type']}${side}`, ...below];
        }
        return undefined;
      };
      const found = row === undefined ? undefined : path(row['QUERY PLAN'][0].Plan);
      if (found === undefined) throw new Error(`the claim's plan does not use ${index}`);
      return found;
    });
  }

  /** The scan of the queue index: an ordered index scan right under a LIMIT (nothing sorts in between). */
  function expectOrderedIndexScanUnderLimit(plan: readonly string[]): void {
    expect(plan.at(-1)).toBe('Index Scan');
    const limit = plan.lastIndexOf('Limit');
    expect(limit).toBeGreaterThanOrEqual(0);
    // Between the LIMIT and the scan only row locking (FOR UPDATE SKIP LOCKED) and joins the scan drives may sit.
    const between = plan.slice(limit + 1, -1);
    expect(between.filter((node) => node !== 'LockRows' && node !== 'Nested Loop (outer)')).toEqual([]);
  }

  function newOrder(overrides: Partial<NewEmailOrder> = {}): NewEmailOrder {
    const now = new Date();
    return {
      id: randomUUID(),
      creator: 'ttd',
      requestedSendTime: new Date(now.getTime() - 1_000),
      created: now,
      recipients: [{ emailAddress: 'a@example.com' }],
      email: { fromAddress: 'noreply@altinn.cloud', subject: 'S', body: 'B', contentType: 'Plain' },
      ...overrides,
    };
  }

  async function insertOrders(count: number, overrides: Partial<NewEmailOrder> = {}): Promise<string[]> {
    const created = Array.from({ length: count }, () => newOrder(overrides));
    await uow.run(async (tx) => {
      for (const order of created) await orders.insert(tx, order);
    });
    return created.map((order) => order.id);
  }

  async function setStatus(orderId: string, status: string): Promise<void> {
    await db.dataSource.query('UPDATE orders SET processing_status = $2 WHERE id = $1', [orderId, status]);
  }

  async function statusOf(orderId: string): Promise<string> {
    const rows: { processing_status: string }[] = await db.dataSource.query(
      'SELECT processing_status FROM orders WHERE id = $1',
      [orderId],
    );
    return rows[0]!.processing_status;
  }

  async function addNotifications(
    orderId: string,
    count: number,
    expiry = new Date(Date.now() + 3_600_000),
  ): Promise<string[]> {
    const batch = randomUUID().slice(0, 8);
    const drafts: NotificationDraft[] = Array.from({ length: count }, (_, index) => ({
      recipientKey: `${batch}-${String(index).padStart(4, '0')}@example.com`,
      toAddress: `${batch}-${String(index).padStart(4, '0')}@example.com`,
      result: 'New',
    }));
    await uow.run((tx) => notifications.insertMany(tx, orderId, drafts, expiry));
    const rows: { id: string }[] = await db.dataSource.query(
      'SELECT id FROM email_notifications WHERE order_id = $1 AND recipient_key LIKE $2 ORDER BY recipient_key',
      [orderId, `${batch}-%`],
    );
    return rows.map((row) => row.id);
  }

  async function resultOf(notificationId: string): Promise<string> {
    const rows: { result: string }[] = await db.dataSource.query(
      'SELECT result FROM email_notifications WHERE id = $1',
      [notificationId],
    );
    return rows[0]!.result;
  }

  describe(OrderRepository.name, () => {
    beforeEach(async () => {
      await db.dataSource.query('TRUNCATE orders CASCADE');
    });

    it('two concurrent claimers never claim the same order (FOR UPDATE SKIP LOCKED)', async () => {
      const due = await insertOrders(30);
      await insertOrders(5, { requestedSendTime: new Date(Date.now() + 3_600_000) });
      const held = gate();
      const claimedFirst = gate();
      const first = uow.run(async (tx) => {
        const claimed = await orders.claimDue(tx, 20, 0, NO_BYTE_BOUND);
        claimedFirst.open();
        await held.wait;
        return claimed;
      });
      // While the first claimer still holds its 20 rows (its claim has returned, its transaction is open), the
      // second gets only the other 10, without waiting. (Waiting for the table's RowShareLock instead raced: that
      // lock is taken before the rows are, and on a loaded machine the second claim got in between.)
      await claimedFirst.wait;
      const second = await uow.run((tx) => orders.claimDue(tx, 20, 0, NO_BYTE_BOUND));
      held.open();
      const firstIds = (await first).map((order) => order.id);
      const secondIds = second.map((order) => order.id);
      expect(firstIds).toHaveLength(20);
      expect(secondIds).toHaveLength(10);
      expect(new Set([...firstIds, ...secondIds])).toEqual(new Set(due));
    });

    it('claimers racing in a loop claim every due order exactly once', async () => {
      const due = await insertOrders(200);
      const claimLoop = async (): Promise<string[]> => {
        const mine: string[] = [];
        for (;;) {
          const claimed = await uow.run((tx) => orders.claimDue(tx, 7, 0, NO_BYTE_BOUND));
          if (claimed.length === 0) return mine;
          mine.push(...claimed.map((order) => order.id));
        }
      };
      const results = await Promise.all([claimLoop(), claimLoop(), claimLoop()]);
      const all = results.flat();
      expect(all).toHaveLength(due.length);
      expect(new Set(all)).toEqual(new Set(due));
      const statuses: { processing_status: string; n: number }[] = await db.dataSource.query(
        'SELECT processing_status, count(*)::int AS n FROM orders GROUP BY processing_status',
      );
      expect(statuses).toEqual([{ processing_status: 'Processing', n: 200 }]);
    });

    it('carries recipients inline only up to the limit', async () => {
      const [small] = await insertOrders(1, { recipients: [{ emailAddress: 'a@example.com' }] });
      const [large] = await insertOrders(1, {
        recipients: Array.from({ length: 3 }, (_, i) => ({ emailAddress: `r${i}@example.com` })),
      });
      const claimed = await uow.run((tx) => orders.claimDue(tx, 10, 2, NO_BYTE_BOUND));
      const byId = new Map(claimed.map((order) => [order.id, order]));
      expect(byId.get(small!)?.recipients).toEqual([{ emailAddress: 'a@example.com' }]);
      expect(byId.get(large!)?.recipients).toBeUndefined();
      expect(byId.get(large!)?.recipientCount).toBe(3);
    });

    it("reads an order's recipients a slice at a time, in the order given, without reading them whole", async () => {
      const recipients = [
        { emailAddress: 'first@example.com' },
        { nationalIdentityNumber: '07837399275' },
        { organizationNumber: '910111222', emailAddress: 'org@example.com' },
        { emailAddress: 'fourth@example.com' },
        { emailAddress: 'last@example.com' },
      ];
      const [id] = await insertOrders(1, { recipients });
      const slices = [];
      for (let start = 0; start < recipients.length; start += 2) {
        slices.push(await orders.recipientSlice(uow.autoCommit, id!, start, 2));
      }
      expect(slices).toEqual([recipients.slice(0, 2), recipients.slice(2, 4), recipients.slice(4)]);
      expect(await orders.recipientSlice(uow.autoCommit, id!, 5, 2)).toEqual([]);
      expect(await orders.recipientSlice(uow.autoCommit, randomUUID(), 0, 2)).toEqual([]);

      const order = await orders.findToExpand(uow.autoCommit, id!);
      expect(order).toMatchObject({ id, recipientCount: 5, processingStatus: 'Registered' });
      expect(order).not.toHaveProperty('recipients');
    });

    it('requeues a failed order as Registered, not claimable before its delay', async () => {
      const [id] = await insertOrders(1);
      await uow.run((tx) => orders.claimDue(tx, 10, 0, NO_BYTE_BOUND));
      expect(await uow.run((tx) => orders.requeue(tx, id!, 'profile down', 60_000))).toBe(true);
      expect(await statusOf(id!)).toBe('Registered');
      expect(await uow.run((tx) => orders.claimDue(tx, 10, 0, NO_BYTE_BOUND))).toEqual([]);
      await db.dataSource.query(`UPDATE orders SET not_before = now() - interval '1 second' WHERE id = $1`, [
        id,
      ]);
      expect((await uow.run((tx) => orders.claimDue(tx, 10, 0, NO_BYTE_BOUND))).map((o) => o.id)).toEqual([
        id,
      ]);
    });

    it('re-claims orders stuck in Processing beyond the bound', async () => {
      const [stuck, fresh] = await insertOrders(2);
      await uow.run((tx) => orders.claimDue(tx, 10, 0, NO_BYTE_BOUND));
      await db.dataSource.query(`UPDATE orders SET claimed_at = now() - interval '1 hour' WHERE id = $1`, [
        stuck,
      ]);
      const reclaimed = await uow.run((tx) => orders.claimStale(tx, 600_000, 10, 0));
      expect(reclaimed.map((order) => order.id)).toEqual([stuck]);
      expect(await uow.run((tx) => orders.claimStale(tx, 600_000, 10, 0))).toEqual([]);
      expect(await statusOf(fresh!)).toBe('Processing');
    });

    it('claims due orders up to a byte bound on their email text, always at least one', async () => {
      const body = 'ж'.repeat(50_000);
      await insertOrders(5, {
        email: { fromAddress: 'noreply@altinn.cloud', subject: 'S', body, contentType: 'Plain' },
      });
      const textBytes = 1 + Buffer.byteLength(body);
      const claimedBy = (maxBytes: number): Promise<number> =>
        uow.run(async (tx) => (await orders.claimDue(tx, 100, 0, maxBytes)).length);

      expect(await claimedBy(2 * textBytes)).toBe(2);
      expect(await claimedBy(1)).toBe(1);
      expect(await claimedBy(NO_BYTE_BOUND)).toBe(2);
    });

    it('cancels only Registered orders of the creator', async () => {
      const [id] = await insertOrders(1);
      expect(await uow.run((tx) => orders.cancel(tx, id!, 'nav'))).toEqual({ kind: 'not-found' });
      expect(await uow.run((tx) => orders.cancel(tx, id!, 'ttd'))).toEqual({ kind: 'cancelled' });
      expect(await uow.run((tx) => orders.cancel(tx, id!, 'ttd'))).toEqual({
        kind: 'not-cancellable',
        status: 'Cancelled',
      });
    });
  });

  describe(EmailNotificationRepository.name, () => {
    let orderId: string;

    beforeEach(async () => {
      await db.dataSource.query('TRUNCATE orders CASCADE');
      [orderId] = (await insertOrders(1)) as [string];
    });

    it('creates nothing twice for the same order and address', async () => {
      const drafts: NotificationDraft[] = [
        { recipientKey: 'a@example.com', toAddress: 'a@example.com', result: 'New' },
        {
          recipientKey: 'nin:02028012345',
          nationalIdentityNumber: '02028012345',
          result: 'Failed_RecipientReserved',
        },
      ];
      const expiry = new Date(Date.now() + 3_600_000);
      expect(await uow.run((tx) => notifications.insertMany(tx, orderId, drafts, expiry))).toBe(2);
      expect(await uow.run((tx) => notifications.insertMany(tx, orderId, drafts, expiry))).toBe(0);
      expect(await uow.run((tx) => notifications.counts(tx, orderId))).toEqual({
        generated: 2,
        succeeded: 0,
        cancelled: 0,
        unsent: 1,
      });
    });

    it('claims email notifications with an ordered index scan under the LIMIT, after 2 000 claims as after none', async () => {
      await addNotifications(orderId, 3_000);
      const plan = (): Promise<string[]> =>
        claimPlanDownTo('email_notifications_new_due', (tx) =>
          notifications.claimForSending(tx, 100, NO_BYTE_BOUND),
        );
      expectOrderedIndexScanUnderLimit(await plan());
      for (let batch = 0; batch < 20; batch += 1)
        expect(await uow.run((tx) => notifications.claimForSending(tx, 100, NO_BYTE_BOUND))).toHaveLength(
          100,
        );
      // 2 000 dead entries later (and statistics as stale as during a campaign), the same plan.
      expectOrderedIndexScanUnderLimit(await plan());
    });

    it('two concurrent claimers never claim the same notification', async () => {
      const all = await addNotifications(orderId, 300);
      const claimLoop = async (): Promise<string[]> => {
        const mine: string[] = [];
        for (;;) {
          const claimed = await uow.run((tx) => notifications.claimForSending(tx, 25, NO_BYTE_BOUND));
          if (claimed.length === 0) return mine;
          mine.push(...claimed.map((n) => n.id));
        }
      };
      const [a, b] = await Promise.all([claimLoop(), claimLoop()]);
      expect(a!.length + b!.length).toBe(all.length);
      expect(new Set([...a!, ...b!])).toEqual(new Set(all));
    });

    it("claims notifications up to a byte bound on their order's email text, always at least one", async () => {
      const body = '漢'.repeat(10_000);
      const [large] = await insertOrders(1, {
        email: { fromAddress: 'noreply@altinn.cloud', subject: 'S', body, contentType: 'Plain' },
      });
      await addNotifications(large!, 10);
      const textBytes = 1 + Buffer.byteLength(body);
      const claimedBy = (maxBytes: number): Promise<number> =>
        uow.run(async (tx) => (await notifications.claimForSending(tx, 100, maxBytes)).length);

      expect(await claimedBy(3 * textBytes)).toBe(3);
      expect(await claimedBy(1)).toBe(1);
      expect(await claimedBy(NO_BYTE_BOUND)).toBe(6);
    });

    it('does not claim expired or not yet due notifications', async () => {
      await addNotifications(orderId, 2, new Date(Date.now() - 1_000));
      const [, later] = await addNotifications((await insertOrders(1))[0]!, 2);
      await db.dataSource.query(
        `UPDATE email_notifications SET next_attempt_at = now() + interval '1 hour' WHERE id = $1`,
        [later],
      );
      const claimed = await uow.run((tx) => notifications.claimForSending(tx, 100, NO_BYTE_BOUND));
      expect(claimed).toHaveLength(1);
    });

    it('expires unfinished notifications past expiry + grace as Failed_TTL, and leaves final ones alone', async () => {
      const [fresh] = await addNotifications(orderId, 1);
      const old = (await insertOrders(1))[0]!;
      const [newOld, sendingOld, succeededOld, deliveredOld] = await addNotifications(
        old,
        4,
        new Date(Date.now() - 2 * 3_600_000),
      );
      await db.dataSource.query(`UPDATE email_notifications SET result = 'Sending' WHERE id = $1`, [
        sendingOld,
      ]);
      await db.dataSource.query(`UPDATE email_notifications SET result = 'Succeeded' WHERE id = $1`, [
        succeededOld,
      ]);
      await db.dataSource.query(`UPDATE email_notifications SET result = 'Delivered' WHERE id = $1`, [
        deliveredOld,
      ]);
      const outcome = await uow.run((tx) => notifications.expireUnfinished(tx, 3_600_000, 100));
      expect(outcome).toEqual({ expired: 3, orderIds: [old] });
      expect(
        await Promise.all([newOld, sendingOld, succeededOld, deliveredOld, fresh].map((id) => resultOf(id!))),
      ).toEqual(['Failed_TTL', 'Failed_TTL', 'Failed_TTL', 'Delivered', 'New']);
    });

    it('puts notifications stuck in Sending back to New, a bounded number of times', async () => {
      const [id, recent] = await addNotifications(orderId, 2);
      const claimedIds = async (): Promise<string[]> =>
        (await uow.run((tx) => notifications.claimForSending(tx, 100, NO_BYTE_BOUND))).map(
          (claimed) => claimed.id,
        );
      // Both go out (New → Sending); only `id` then stays in Sending beyond the bound.
      expect((await claimedIds()).sort()).toEqual([id, recent].sort());
      for (let redrive = 0; redrive < 3; redrive += 1) {
        await db.dataSource.query(
          `UPDATE email_notifications SET sending_since = now() - interval '2 hours' WHERE id = $1`,
          [id],
        );
        const redriven = await uow.run((tx) => notifications.redriveStaleSending(tx, 3_600_000, 2, 100));
        if (redrive < 2) {
          expect(redriven).toBe(1);
          // Back to New, and due at once: the next claim sends it again.
          expect(await resultOf(id!)).toBe('New');
          expect(await claimedIds()).toEqual([id]);
        } else {
          expect(redriven).toBe(0);
        }
        expect(await resultOf(id!)).toBe('Sending');
      }
      // Sending for less than the bound: left alone throughout.
      expect(await resultOf(recent!)).toBe('Sending');
    });
  });

  describe('forward-only status transitions', () => {
    let status: EmailStatusService;
    let orderId: string;

    beforeEach(async () => {
      await db.dataSource.query('TRUNCATE orders CASCADE');
      status = new EmailStatusService(uow, notifications, orders, config);
      [orderId] = (await insertOrders(1)) as [string];
      await setStatus(orderId, 'Processed');
    });

    async function sending(count: number): Promise<string[]> {
      const ids = await addNotifications(orderId, count);
      await uow.run((tx) => notifications.claimForSending(tx, 1_000, NO_BYTE_BOUND));
      return ids;
    }

    it('Delivered then a late Succeeded ends Delivered', async () => {
      const [id] = await sending(1);
      await status.apply({ notificationId: id!, operationId: id!, sendResult: 'Delivered' });
      const late = await status.apply({ notificationId: id!, operationId: id!, sendResult: 'Succeeded' });
      expect(late).toMatchObject({ kind: 'ignored', reason: 'Delivered is final' });
      expect(await resultOf(id!)).toBe('Delivered');
    });

    it('Succeeded then Delivered ends Delivered; a final result is never overwritten', async () => {
      const [id] = await sending(1);
      await status.apply({ notificationId: id!, operationId: id!, sendResult: 'Succeeded' });
      expect(await resultOf(id!)).toBe('Succeeded');
      await status.apply({ notificationId: id!, operationId: id!, sendResult: 'Delivered' });
      await status.apply({ notificationId: id!, operationId: id!, sendResult: 'Failed_Bounced' });
      await status.apply({ notificationId: id!, operationId: id!, sendResult: 'Failed_TransientError' });
      expect(await resultOf(id!)).toBe('Delivered');
    });

    it('matches delivery reports by operation id', async () => {
      const [id] = await sending(1);
      await status.apply({ notificationId: id!, operationId: 'acs-operation-1', sendResult: 'Succeeded' });
      const report = await status.apply({ operationId: 'acs-operation-1', sendResult: 'Failed_Bounced' });
      expect(report).toMatchObject({ kind: 'applied', notificationId: id, result: 'Failed_Bounced' });
      // The sender uses the notification id as Operation-Id: a report may come before any update stored it.
      const [other] = await sending(1);
      expect(await status.apply({ operationId: other!, sendResult: 'Delivered' })).toMatchObject({
        kind: 'applied',
        notificationId: other,
      });
    });

    it('sends again after Failed_TransientError until the notification expires', async () => {
      const [id, expired] = await sending(2);
      expect(
        await status.apply({ notificationId: id!, operationId: '', sendResult: 'Failed_TransientError' }),
      ).toMatchObject({
        kind: 'resend',
      });
      const rows: { result: string; due_in_s: number }[] = await db.dataSource.query(
        `SELECT result, extract(epoch FROM next_attempt_at - now())::int AS due_in_s FROM email_notifications WHERE id = $1`,
        [id],
      );
      expect(rows[0]).toMatchObject({ result: 'New' });
      expect(rows[0]!.due_in_s).toBeGreaterThan(20);
      // A duplicate of the same transient report changes nothing.
      expect(
        await status.apply({ notificationId: id!, operationId: '', sendResult: 'Failed_TransientError' }),
      ).toMatchObject({
        kind: 'ignored',
      });

      await db.dataSource.query(
        `UPDATE email_notifications SET expiry = now() - interval '1 minute' WHERE id = $1`,
        [expired],
      );
      await status.apply({ notificationId: expired!, operationId: '', sendResult: 'Failed_TransientError' });
      expect(await resultOf(expired!)).toBe('Failed_TransientError');
    });

    it('reports an unknown notification', async () => {
      expect(
        await status.apply({ notificationId: randomUUID(), operationId: '', sendResult: 'Delivered' }),
      ).toEqual({
        kind: 'unknown-notification',
      });
      expect(await status.apply({ operationId: 'nobody-knows-this', sendResult: 'Delivered' })).toEqual({
        kind: 'unknown-notification',
      });
    });

    it('completes the order when its last pending notifications finish concurrently', async () => {
      for (let round = 0; round < 5; round += 1) {
        await db.dataSource.query('TRUNCATE orders CASCADE');
        [orderId] = (await insertOrders(1)) as [string];
        await setStatus(orderId, 'Processed');
        const ids = await sending(4);
        await Promise.all(
          ids.map((id) => status.apply({ notificationId: id, operationId: id, sendResult: 'Delivered' })),
        );
        expect(await statusOf(orderId)).toBe('Completed');
      }
    });

    it('keeps the order Processed while a notification is pending', async () => {
      const [first] = await sending(2);
      await status.apply({ notificationId: first!, operationId: first!, sendResult: 'Delivered' });
      expect(await statusOf(orderId)).toBe('Processed');
    });
  });

  describe(OutboxRepository.name, () => {
    beforeEach(async () => {
      await db.dataSource.query('TRUNCATE outbox');
    });

    async function add(count: number): Promise<void> {
      await uow.run((tx) =>
        outbox.add(
          tx,
          Array.from({ length: count }, (_, i) => ({ topic: 't', key: `k${i}`, payload: `{"n":${i}}` })),
        ),
      );
    }

    it('two relays never claim the same row while their transactions hold it', async () => {
      await add(500);
      // The first relay holds its rows (its transaction stays open, as while it publishes) while the second claims.
      const held = gate();
      const firstClaimed = gate();
      let first: string[] = [];
      const firstRelay = uow.run(async (tx) => {
        first = (await outbox.claim(tx, 300, NO_BYTE_BOUND)).map((m) => m.id);
        firstClaimed.open();
        await held.wait;
      });
      await firstClaimed.wait;
      const second = (await uow.run((tx) => outbox.claim(tx, 300, NO_BYTE_BOUND))).map((m) => m.id);
      held.open();
      await firstRelay;

      expect(first).toHaveLength(300);
      expect(second).toHaveLength(200);
      expect(new Set([...first, ...second]).size).toBe(500);
    });

    it('writes nothing at claim time: rows of a relay whose transaction rolls back are claimable again at once', async () => {
      await add(3);
      const crashed = new Error('relay died after publishing');
      await expect(
        uow.run(async (tx) => {
          expect(await outbox.claim(tx, 10, NO_BYTE_BOUND)).toHaveLength(3);
          throw crashed;
        }),
      ).rejects.toBe(crashed);
      const again = await uow.run((tx) => outbox.claim(tx, 10, NO_BYTE_BOUND));
      expect(again.map((m) => m.attempts)).toEqual([1, 1, 1]);
      expect(again.map((m) => m.key)).toEqual(['k0', 'k1', 'k2']);
    });

    it('deletes published rows at once without retention, marks them with retention, in the claiming transaction', async () => {
      await add(3);
      await uow.run(async (tx) => {
        const [first, second] = await outbox.claim(tx, 2, NO_BYTE_BOUND);
        await outbox.markPublished(tx, [first!.id], 0);
        await outbox.markPublished(tx, [second!.id], 60_000);
      });
      const rows = await db.dataSource.query<{ message_key: string; published: boolean; attempts: number }[]>(
        'SELECT message_key, published_at IS NOT NULL AS published, attempts FROM outbox ORDER BY id',
      );
      expect(rows).toEqual([
        { message_key: 'k1', published: true, attempts: 1 },
        { message_key: 'k2', published: false, attempts: 0 },
      ]);
      expect(await uow.run((tx) => outbox.backlog(tx))).toMatchObject({ unpublished: 1 });
      expect((await uow.run((tx) => outbox.claim(tx, 10, NO_BYTE_BOUND))).map((m) => m.key)).toEqual(['k2']);
    });

    it('claims outbox rows with an ordered index scan under the LIMIT, after 2 000 claims as after none', async () => {
      await add(3_000);
      const claimAndMark = async (tx: Tx): Promise<void> => {
        const claimed = await outbox.claim(tx, 100, NO_BYTE_BOUND);
        expect(claimed).toHaveLength(100);
        await outbox.markPublished(
          tx,
          claimed.map((m) => m.id),
          0,
        );
      };
      expectOrderedIndexScanUnderLimit(await claimPlanDownTo('outbox_unpublished', claimAndMark));
      for (let batch = 0; batch < 20; batch += 1) await uow.run(claimAndMark);
      expectOrderedIndexScanUnderLimit(await claimPlanDownTo('outbox_unpublished', claimAndMark));
    });

    it('claims rows up to a byte bound (counted in UTF-8 bytes), always at least one, the rest left claimable', async () => {
      // 10 000 characters, 30 000 bytes each.
      const payload = JSON.stringify({ body: '漢'.repeat(10_000) });
      const bytes = Buffer.byteLength(payload);
      await uow.run((tx) =>
        outbox.add(
          tx,
          Array.from({ length: 10 }, (_, i) => ({ topic: 't', key: `k${i}`, payload })),
        ),
      );

      // Claims in one transaction, as a relay would publish and delete each batch before the next.
      const [first, oversizedBound, rest] = await uow.run(async (tx) => {
        const published = async (maxBytes: number): Promise<string[]> => {
          const claimed = await outbox.claim(tx, 100, maxBytes);
          await outbox.markPublished(
            tx,
            claimed.map((m) => m.id),
            0,
          );
          return claimed.map((m) => m.id);
        };
        return [await published(3 * bytes), await published(1), await published(NO_BYTE_BOUND)];
      });

      expect(first).toHaveLength(3);
      expect(oversizedBound).toHaveLength(1);
      expect(rest).toHaveLength(6);
      expect(new Set([...first!, ...oversizedBound!, ...rest!]).size).toBe(10);
    });

    it('parks a refused row for good with its reason, visible in the backlog as failing', async () => {
      await add(2);
      const [refused, other] = await uow.run(async (tx) => {
        const claimed = await outbox.claim(tx, 10, NO_BYTE_BOUND);
        await outbox.markRefused(tx, [claimed[0]!.id], 'Record of 2000000 bytes … exceeds');
        await outbox.markFailed(tx, [claimed[1]!.id], 'broker down', 0);
        return claimed;
      });

      const claimable = await expectEventually(async () => {
        const claimed = await uow.run((tx) => outbox.claim(tx, 10, NO_BYTE_BOUND));
        expect(claimed).toHaveLength(1);
        return claimed;
      });
      expect(claimable[0]?.id).toBe(other!.id);
      const [row] = await db.dataSource.query<{ last_error: string }[]>(
        'SELECT last_error FROM outbox WHERE id = $1',
        [refused!.id],
      );
      expect(row?.last_error).toContain('exceeds');
      expect(await uow.run((tx) => outbox.backlogByTopic(tx))).toEqual([
        expect.objectContaining({ topic: 't', unpublished: 2, failing: 2 }),
      ]);
    });
  });

  describe(SweeperService.name, () => {
    let sweeper: SweeperService;
    let outboxTopic: string;

    beforeEach(async () => {
      await db.dataSource.query('TRUNCATE orders, outbox CASCADE');
      const claims = new OrderClaimService(uow, orders, outbox, config, Topics);
      sweeper = new SweeperService(
        uow,
        notifications,
        orders,
        outbox,
        claims,
        new SubscriptionDeliveryRepository(),
        new SubscriptionDeliveryMetrics(new Registry()),
        config,
      );
      outboxTopic = Topics.ordersPastDue.name;
    });

    it('leaves nothing in a middle state: expires, completes, re-drives and cleans up', async () => {
      // An order whose only notification expired long ago.
      const [expiredOrder] = await insertOrders(1);
      await setStatus(expiredOrder!, 'Processed');
      const [expiredNotification] = await addNotifications(
        expiredOrder!,
        1,
        new Date(Date.now() - 2 * 86_400_000),
      );
      // An order whose notifications all finished, but whose completion was missed (a crash after the commit).
      const [finishedOrder] = await insertOrders(1);
      await setStatus(finishedOrder!, 'Processed');
      const [finished] = await addNotifications(finishedOrder!, 1);
      await db.dataSource.query(`UPDATE email_notifications SET result = 'Delivered' WHERE id = $1`, [
        finished,
      ]);
      // An order stuck in Processing, its message lost.
      const [stuckOrder] = await insertOrders(1);
      await uow.run((tx) => orders.claimDue(tx, 10, 10, NO_BYTE_BOUND));
      await db.dataSource.query(`UPDATE orders SET claimed_at = now() - interval '1 hour' WHERE id = $1`, [
        stuckOrder,
      ]);
      // A published outbox row past retention.
      await uow.run((tx) => outbox.add(tx, [{ topic: 'old', key: undefined, payload: '{}' }]));
      await db.dataSource.query(
        `UPDATE outbox SET published_at = now() - interval '2 hours' WHERE topic = 'old'`,
      );

      const report = await sweeper.sweep();

      expect(report).toMatchObject({
        expired: 1,
        redrivenOrders: 1,
        completedOrders: 1,
        deletedOutboxRows: 1,
      });
      expect(await resultOf(expiredNotification!)).toBe('Failed_TTL');
      expect(await statusOf(expiredOrder!)).toBe('Completed');
      expect(await statusOf(finishedOrder!)).toBe('Completed');
      expect(await statusOf(stuckOrder!)).toBe('Processing');
      const redriven: { message_key: string; payload: string }[] = await db.dataSource.query(
        'SELECT message_key, payload FROM outbox WHERE topic = $1',
        [outboxTopic],
      );
      expect(redriven.map((row) => row.message_key)).toEqual([stuckOrder]);
      expect(NotificationOrderContract.parse(redriven[0]!.payload).id).toBe(stuckOrder);
      expect(await sweeper.sweep()).toEqual({
        expired: 0,
        redrivenSending: 0,
        redrivenOrders: 0,
        completedOrders: 0,
        deletedOutboxRows: 0,
        droppedSubscriptionEvents: 0,
      });
    });
  });

  describe(RateLimitRepository.name, () => {
    it('keeps the later of two pauses in force and reports it while it lasts', async () => {
      const soon = new Date(Date.now() + 60_000);
      const later = new Date(Date.now() + 120_000);
      await uow.run((tx) => pauses.pauseUntil(tx, 'acs', later, 'test'));
      expect(await uow.run((tx) => pauses.pauseUntil(tx, 'acs', soon, 'test'))).toEqual(later);
      expect(await uow.run((tx) => pauses.activePause(tx, 'acs'))).toEqual(later);
      expect(await uow.run((tx) => pauses.activePause(tx, 'other'))).toBeUndefined();
      await db.dataSource.query(`UPDATE rate_limit_pauses SET paused_until = now() - interval '1 second'`);
      expect(await uow.run((tx) => pauses.activePause(tx, 'acs'))).toBeUndefined();
      expect(await uow.run((tx) => pauses.pauseUntil(tx, 'acs', soon, 'test'))).toEqual(soon);
    });
  });
});
