import {
  expectEventually,
  startIsolatedBroker,
  stopIsolatedBroker,
  type IsolatedBroker,
} from '@notifications/testing';
import { fastPipelineEnv } from './support/e2e-settings';
import { NotificationLedger } from './support/notification-ledger';
import { OrdersApi } from './support/orders-api';
import { Pipeline } from './support/pipeline';
import { SubscriberTopics } from './support/subscriber-topic';
import { SubscriptionReceiver, type SubscriptionEvent } from './support/subscription-receiver';

// Status subscriptions through the whole pipeline (apps/orders README "Subscriptions"): real apps, the real broker
// and PostgreSQL, a real HTTP receiver, and a second, isolated broker playing the subscriber's own cluster, read
// with a plain kafkajs consumer.

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** The order a notification's results follow; a status may be skipped (a delivery report before the poll). */
const FORWARD = ['New', 'Sending', 'Succeeded', 'Delivered'];
const DEFAULT_PAYLOAD_FIELDS = [
  'channel',
  'description',
  'eventId',
  'lastUpdate',
  'notificationId',
  'orderId',
  'recipient',
  'sendersReference',
  'status',
  'subscriptionId',
  'type',
];

const recipients = (count: number, prefix: string) =>
  Array.from({ length: count }, (_, index) => ({ emailAddress: `${prefix}-${index}@example.org` }));

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const group = groups.get(key(item)) ?? [];
    group.push(item);
    groups.set(key(item), group);
  }
  return groups;
}

describe('status subscriptions', () => {
  let pipeline: Pipeline;
  let ledger: NotificationLedger;
  let otherCreator: OrdersApi;
  let subscriberBroker: IsolatedBroker | undefined;

  beforeAll(async () => {
    subscriberBroker = await startIsolatedBroker('subscriber');
    pipeline = await Pipeline.start({
      label: 'subscriptions',
      partitions: 3,
      env: fastPipelineEnv({
        orders: { SUBSCRIPTIONS_RETRY_INITIAL_DELAY: '200ms', SUBSCRIPTIONS_RETRY_MAX_DELAY: '2s' },
      }),
    });
    ledger = new NotificationLedger(pipeline.query);
    otherCreator = new OrdersApi(pipeline.url('orders'), () => pipeline.token('other-org'));
  });

  afterAll(async () => {
    await pipeline?.stop();
    await stopIsolatedBroker(subscriberBroker);
  });

  afterEach(() => {
    expect(pipeline.unexpectedExits).toEqual([]);
  });

  it('pushes every status change of a 500-recipient order to an HTTP endpoint, as the default payload, in order, and nothing of other orders', async () => {
    const receiver = await new SubscriptionReceiver().start();
    try {
      const subscription = await pipeline.orders.createSubscription({
        description: 'e2e callbacks',
        filter: { sendersReference: 'subs-http' },
        events: ['notification.status', 'order.completed'],
        notification: { http: { url: receiver.url } },
      });
      receiver.useSecret(subscription.secret);

      const orderId = await pipeline.orders.postEmailOrder({
        recipients: recipients(500, 'subs-http'),
        sendersReference: 'subs-http',
      });
      // Neither may reach the subscription: another creator's order with the same reference, and the creator's own
      // order with another reference.
      const foreignOrder = await otherCreator.postEmailOrder({
        recipients: recipients(5, 'foreign'),
        sendersReference: 'subs-http',
      });
      const unfilteredOrder = await pipeline.orders.postEmailOrder({
        recipients: recipients(5, 'unfiltered'),
        sendersReference: 'another-reference',
      });

      await expectEventually(
        async () => {
          expect(await ledger.countsByResult([orderId, foreignOrder, unfilteredOrder])).toEqual({
            Delivered: 510,
          });
          expect(receiver.uniqueEvents().some((event) => event.type === 'order.completed')).toBe(true);
          expect((await pipeline.orders.subscription(subscription.id)).pendingEvents).toBe(0);
        },
        { timeoutMs: 180_000, intervalMs: 500 },
      );

      expect(receiver.deliveries.every((delivery) => delivery.signatureValid)).toBe(true);
      const events = receiver.uniqueEvents();
      expect(new Set(events.map((event) => event.orderId))).toEqual(new Set([orderId]));

      const notifications = await pipeline.orders.notifications(orderId);
      const addressOf = new Map(notifications.map((n) => [n.id, n.recipient.emailAddress]));
      const statusEvents = events.filter((event) => event.type === 'notification.status');
      for (const event of statusEvents) {
        expect(Object.keys(event).sort()).toEqual(DEFAULT_PAYLOAD_FIELDS);
        expect(event).toEqual({
          eventId: expect.stringMatching(UUID),
          subscriptionId: subscription.id,
          type: 'notification.status',
          orderId,
          sendersReference: 'subs-http',
          notificationId: expect.stringMatching(UUID),
          channel: 'Email',
          recipient: { emailAddress: addressOf.get(event.notificationId ?? '') },
          status: expect.any(String),
          description: expect.stringMatching(/\S/),
          lastUpdate: expect.any(String),
        } satisfies Record<keyof SubscriptionEvent, unknown>);
        expect(Number.isNaN(Date.parse(event.lastUpdate))).toBe(false);
      }

      // Every notification's changes, in the order they happened: New first, never backwards, ending Delivered.
      const perNotification = groupBy(statusEvents, (event) => event.notificationId ?? '');
      expect(perNotification.size).toBe(500);
      for (const [, changes] of perNotification) {
        const statuses = changes.map((event) => event.status);
        expect(statuses.slice(0, 2)).toEqual(['New', 'Sending']);
        expect(statuses.at(-1)).toBe('Delivered');
        const positions = statuses.map((status) => FORWARD.indexOf(status));
        expect(positions).toEqual([...positions].sort((a, b) => a - b));
        expect(new Set(statuses).size).toBe(statuses.length);
      }

      // The order's end comes after every change of its notifications.
      const completed = events.filter((event) => event.type === 'order.completed');
      expect(completed).toEqual([
        expect.objectContaining({ orderId, status: 'Completed', notificationId: null, recipient: null }),
      ]);
      expect(events.at(-1)?.type).toBe('order.completed');

      const view = await pipeline.orders.subscription(subscription.id);
      expect(view).toMatchObject({ status: 'active', failsCounter: 0, pendingEvents: 0 });
      expect(view.timesSent).toBeGreaterThanOrEqual(events.length);
      await pipeline.orders.deleteSubscription(subscription.id);
    } finally {
      await receiver.stop();
    }
  });

  it("delivers into the subscriber's own Kafka cluster with a custom payload and topic, keyed by order", async () => {
    if (subscriberBroker === undefined) throw new Error('no subscriber broker');
    const statuses = ['New', 'Sending', 'Succeeded', 'Delivered'];
    const topics = new SubscriberTopics(subscriberBroker.brokers.split(','));
    await topics.start(statuses.map((status) => `notify-${status}`));
    // Quotes and a backslash in the reference: a macro in a JSON payload lands JSON-escaped.
    const reference = 'kafka "custom" \\ reference';
    try {
      await pipeline.orders.createSubscription({
        filter: { sendersReference: reference },
        events: ['notification.status'],
        notification: { kafka: { url: topics.url, topic: 'notify-events' } },
        custom: {
          topic: 'notify-${status}',
          payload: {
            id: '${notificationId}',
            to: '${recipient}',
            state: '${status}',
            note: 'reference ${sendersReference} of ${orderId}',
          },
        },
      });
      const orderId = await pipeline.orders.postEmailOrder({
        recipients: recipients(40, 'subs-kafka'),
        sendersReference: reference,
      });

      await expectEventually(
        async () => {
          expect(await ledger.countsByResult([orderId])).toEqual({ Delivered: 40 });
          const delivered = topics.uniqueRecords().filter((record) => record.topic === 'notify-Delivered');
          expect(delivered).toHaveLength(40);
        },
        { timeoutMs: 120_000, intervalMs: 500 },
      );

      const records = topics.uniqueRecords();
      const notifications = await pipeline.orders.notifications(orderId);
      const addressOf = new Map(notifications.map((n) => [n.id, n.recipient.emailAddress]));
      for (const record of records) {
        expect(record.key).toBe(orderId);
        expect(record.headers).toEqual({ type: 'notification.status', eventId: expect.stringMatching(UUID) });
        const payload = JSON.parse(record.value) as Record<string, string>;
        expect(payload).toEqual({
          id: expect.stringMatching(UUID),
          to: addressOf.get(payload['id'] ?? ''),
          state: record.topic.replace('notify-', ''),
          note: `reference ${reference} of ${orderId}`,
        });
      }
      // One partition per order (the key), so a subscriber reads each notification's changes in order.
      expect(new Set(records.map((record) => record.partition)).size).toBe(1);
    } finally {
      await topics.stop();
    }
  });
});
