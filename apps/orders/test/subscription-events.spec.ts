import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { createTestDatabase, type TestDatabase } from '@notifications/database/testing';
import { type NewSubscription } from '../src/domain/subscription.model';
import { EmailNotificationRepository } from '../src/store/email-notification.repository';
import { ordersEntities } from '../src/store/entities';
import { ordersMigrations } from '../src/store/migrations';
import { OrderRepository } from '../src/store/order.repository';
import { SubscriptionRepository } from '../src/store/subscription.repository';
import { UnitOfWork } from '../src/store/unit-of-work';
import { OrdersDb } from './support/db-helpers';

interface EventRow {
  id: string;
  subscription_id: string;
  event_id: string;
  type: string;
  order_id: string;
  senders_reference: string | null;
  notification_id: string | null;
  recipient_email: string | null;
  status: string;
  status_time: Date;
}

/**
 * The triggers of migration 1797465600000 (README "Subscriptions"): every change of a notification's result and
 * every order's end records one event per matching subscription, in the statement's transaction, with nothing in
 * TypeScript writing them.
 */
describe('subscription events recorded by the database triggers', () => {
  let db: TestDatabase;
  let uow: UnitOfWork;
  let ordersDb: OrdersDb;
  const subscriptions = new SubscriptionRepository();
  const notifications = new EmailNotificationRepository();
  const orders = new OrderRepository();

  beforeAll(async () => {
    Logger.overrideLogger(['error']);
    db = await createTestDatabase({
      prefix: 'orders_subscription_events',
      migrations: ordersMigrations,
      entities: ordersEntities,
    });
    uow = new UnitOfWork(db.dataSource);
    ordersDb = new OrdersDb(db.dataSource);
  });

  afterAll(async () => {
    await db?.drop();
  });

  async function subscribe(
    creator: string,
    overrides: Partial<Omit<NewSubscription, 'id' | 'creator'>> = {},
  ): Promise<string> {
    const id = randomUUID();
    const inserted = await uow.run((tx) =>
      subscriptions.insertWithinLimit(
        tx,
        {
          id,
          creator,
          filter: {},
          events: ['notification.status', 'order.completed'],
          destination: { http: { url: 'https://hooks.example.no/n', maxEventsPerRequest: 1 } },
          signingSecret: 'secret',
          ...overrides,
        },
        100,
      ),
    );
    expect(inserted).toBe(true);
    return id;
  }

  const eventsOf = (subscriptionId: string): Promise<EventRow[]> =>
    db.dataSource.query('SELECT * FROM subscription_events WHERE subscription_id = $1 ORDER BY id', [
      subscriptionId,
    ]);

  describe('an order of ttd, from its notifications to its completion', () => {
    let orderId: string;
    let first: { id: string; address: string };
    let second: { id: string; address: string };
    let subscription: Record<
      | 'all'
      | 'sameReference'
      | 'completionOnly'
      | 'otherReference'
      | 'otherResource'
      | 'otherCreator'
      | 'expired',
      string
    >;

    beforeAll(async () => {
      subscription = {
        all: await subscribe('ttd'),
        sameReference: await subscribe('ttd', {
          filter: { sendersReference: 'tax-2026', resourceId: 'urn:altinn:resource:tax' },
          events: ['notification.status'],
        }),
        completionOnly: await subscribe('ttd', { events: ['order.completed'] }),
        otherReference: await subscribe('ttd', { filter: { sendersReference: 'tax-2027' } }),
        otherResource: await subscribe('ttd', { filter: { resourceId: 'urn:altinn:resource:other' } }),
        otherCreator: await subscribe('nav'),
        // Expires after the insert (the API refuses a past expiry), before the order's changes.
        expired: await subscribe('ttd', { expires: new Date(Date.now() + 3_600_000) }),
      };
      await db.dataSource.query(
        "UPDATE subscriptions SET expires = now() - interval '1 second' WHERE id = $1",
        [subscription.expired],
      );

      orderId = await ordersDb.insertOrder(
        [{ emailAddress: 'ola.nordmann@example.com' }, { emailAddress: 'kari.nordmann@example.com' }],
        { sendersReference: 'tax-2026', resourceId: 'urn:altinn:resource:tax' },
      );
      await db.dataSource.query("UPDATE orders SET processing_status = 'Processing' WHERE id = $1", [
        orderId,
      ]);
      await uow.run(async (tx) => {
        await notifications.insertMany(
          tx,
          orderId,
          [
            {
              recipientKey: 'ola.nordmann@example.com',
              toAddress: 'ola.nordmann@example.com',
              result: 'New',
            },
            {
              recipientKey: 'kari.nordmann@example.com',
              toAddress: 'kari.nordmann@example.com',
              result: 'New',
            },
          ],
          new Date(Date.now() + 86_400_000),
        );
        await orders.finishProcessing(tx, orderId, 'Processed');
      });
      const rows = await ordersDb.notifications(orderId);
      const byAddress = (address: string) => {
        const row = rows.find((notification) => notification.to_address === address);
        if (row === undefined) throw new Error(`no notification to ${address}`);
        return { id: row.id, address };
      };
      first = byAddress('ola.nordmann@example.com');
      second = byAddress('kari.nordmann@example.com');

      // Each result change in a transaction of its own, as the status consumer writes them.
      await uow.run((tx) => notifications.setResult(tx, first.id, 'Sending', undefined));
      await uow.run((tx) => notifications.setResult(tx, second.id, 'Sending', undefined));
      // A write that leaves the result as it was is no status change.
      await db.dataSource.query('UPDATE email_notifications SET operation_id = $2 WHERE id = $1', [
        first.id,
        'operation-1',
      ]);
      await uow.run((tx) => notifications.setResult(tx, first.id, 'Delivered', 'operation-1'));
      await uow.run((tx) => notifications.setResult(tx, second.id, 'Failed_Bounced', undefined));
      expect(await uow.run((tx) => orders.completeIfDone(tx, orderId))).toBe(true);
    });

    it('records one notification.status event per result change, in order, then order.completed', async () => {
      const events = await eventsOf(subscription.all);
      const described = events.map(
        (event) => `${event.type} ${event.notification_id ?? '-'} ${event.status}`,
      );
      // The two New rows come from one INSERT statement: their order between each other is the trigger's.
      expect(described.slice(0, 2).sort()).toEqual(
        [`notification.status ${first.id} New`, `notification.status ${second.id} New`].sort(),
      );
      expect(described.slice(2)).toEqual([
        `notification.status ${first.id} Sending`,
        `notification.status ${second.id} Sending`,
        `notification.status ${first.id} Delivered`,
        `notification.status ${second.id} Failed_Bounced`,
        'order.completed - Completed',
      ]);
    });

    it("records each event with the order, its senders' reference, the recipient and a unique event id", async () => {
      const events = await eventsOf(subscription.all);
      expect(new Set(events.map((event) => event.event_id)).size).toBe(events.length);
      for (const event of events) {
        expect(event).toMatchObject({ order_id: orderId, senders_reference: 'tax-2026' });
        expect(event.status_time).toBeInstanceOf(Date);
      }
      const delivered = events.find((event) => event.status === 'Delivered');
      expect(delivered).toMatchObject({ notification_id: first.id, recipient_email: first.address });
      const completed = events.find((event) => event.type === 'order.completed');
      expect(completed).toMatchObject({ notification_id: null, recipient_email: null });
    });

    it('records for a subscription only the event types it asked for, when its filters match', async () => {
      const sameReference = await eventsOf(subscription.sameReference);
      expect(sameReference).toHaveLength(6);
      expect(sameReference.every((event) => event.type === 'notification.status')).toBe(true);
      const completionOnly = await eventsOf(subscription.completionOnly);
      expect(completionOnly.map((event) => `${event.type} ${event.status}`)).toEqual([
        'order.completed Completed',
      ]);
    });

    it("records nothing for another senders' reference or resource, another creator, or an expired subscription", async () => {
      expect(await eventsOf(subscription.otherReference)).toEqual([]);
      expect(await eventsOf(subscription.otherResource)).toEqual([]);
      expect(await eventsOf(subscription.otherCreator)).toEqual([]);
      expect(await eventsOf(subscription.expired)).toEqual([]);
    });
  });

  it('records nothing for a status change rolled back with its transaction', async () => {
    const subscriptionId = await subscribe('rollback-org');
    const orderId = await ordersDb.insertOrder([{ emailAddress: 'a@example.com' }], {
      creator: 'rollback-org',
    });
    await db.dataSource.query("UPDATE orders SET processing_status = 'Processing' WHERE id = $1", [orderId]);
    await expect(
      uow.run(async (tx) => {
        await notifications.insertMany(
          tx,
          orderId,
          [{ recipientKey: 'a@example.com', toAddress: 'a@example.com', result: 'New' }],
          new Date(Date.now() + 86_400_000),
        );
        throw new Error('crash before commit');
      }),
    ).rejects.toThrow('crash before commit');
    expect(await eventsOf(subscriptionId)).toEqual([]);
  });
});
