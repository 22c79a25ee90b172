import { Logger } from '@nestjs/common';
import { Registry } from 'prom-client';
import { loadOrdersConfig } from '../config/orders.config';
import { type KafkaEventRecord, type KafkaEventSender } from '../clients/kafka-event-sender';
import { type OutboundHttpClient } from '../clients/outbound-http.client';
import { type SubscriptionEvent } from '../domain/subscription-events';
import {
  type ClaimedSubscription,
  type DeliveryRecord,
  type SubscriptionDeliveryRepository,
} from '../store/subscription-delivery.repository';
import { type Tx, type UnitOfWork } from '../store/unit-of-work';
import { SubscriptionDeliveryMetrics } from './subscription-delivery.metrics';
import { SubscriptionDeliveryService } from './subscription-delivery.service';

type DeliveryStore = Pick<
  SubscriptionDeliveryRepository,
  'claimDue' | 'pendingEvents' | 'deleteDelivered' | 'recordRound'
>;

/** One subscription and its pending events, in memory: what the round deleted and recorded. */
class FakeStore implements DeliveryStore {
  deleted: string[] = [];
  recorded: DeliveryRecord[] = [];
  constructor(
    private readonly subscription: ClaimedSubscription,
    private readonly events: SubscriptionEvent[],
  ) {}
  async claimDue(): Promise<ClaimedSubscription | undefined> {
    return this.subscription;
  }
  async pendingEvents(_tx: Tx, _id: string, limit: number): Promise<SubscriptionEvent[]> {
    return this.events.slice(0, limit);
  }
  async deleteDelivered(_tx: Tx, ids: readonly string[]): Promise<void> {
    this.deleted.push(...ids);
  }
  async recordRound(_tx: Tx, _id: string, round: DeliveryRecord): Promise<void> {
    this.recorded.push(round);
  }
}

const fakeTx = { manager: { query: async () => [] } } as unknown as Tx;
const fakeUow = { run: <T>(work: (tx: Tx) => Promise<T>) => work(fakeTx) } as unknown as UnitOfWork;

const subscription: ClaimedSubscription = {
  id: '5c6d1f2e-3b4a-4c5d-8e9f-0a1b2c3d4e5f',
  destination: { kafka: { url: 'kafka://b1:9092,b2:9092', topic: 'notify-events' } },
  custom: { topic: 'notify.${status}' },
  signingSecret: 'unused for Kafka',
  failsCounter: 0,
};

const events: SubscriptionEvent[] = ['Sending', 'Delivered'].map((status, index) => ({
  id: String(index + 1),
  eventId: `00000000-0000-4000-8000-00000000000${index}`,
  subscriptionId: subscription.id,
  type: 'notification.status',
  orderId: 'a3e1c2b4-1111-4222-8333-444455556666',
  sendersReference: null,
  notificationId: 'f1e2d3c4-aaaa-4bbb-8ccc-ddddeeeeffff',
  recipientEmail: 'ola.nordmann@example.com',
  status,
  statusTime: new Date('2026-03-16T08:00:00Z'),
}));

function service(store: FakeStore, kafka?: KafkaEventSender): SubscriptionDeliveryService {
  const config = loadOrdersConfig({ APP_ENV: 'test', DATABASE_URL: 'postgres://localhost/unused' });
  return new SubscriptionDeliveryService(
    fakeUow,
    store as unknown as SubscriptionDeliveryRepository,
    {} as OutboundHttpClient,
    new SubscriptionDeliveryMetrics(new Registry()),
    config,
    kafka,
  );
}

describe(SubscriptionDeliveryService.name, () => {
  beforeAll(() => Logger.overrideLogger(false));

  it('sends Kafka events as one batch: key = order id, headers type and eventId, topic from the template', async () => {
    const sent: KafkaEventRecord[][] = [];
    const store = new FakeStore(subscription, events);
    const round = await service(store, {
      send: async (destination, records) => {
        expect(destination.url).toBe('kafka://b1:9092,b2:9092');
        sent.push([...records]);
      },
    }).deliverNext();

    expect(sent).toHaveLength(1);
    expect(sent[0]!.map(({ topic, key, headers }) => ({ topic, key, headers }))).toEqual([
      {
        topic: 'notify.Sending',
        key: events[0]!.orderId,
        headers: { type: 'notification.status', eventId: events[0]!.eventId },
      },
      {
        topic: 'notify.Delivered',
        key: events[0]!.orderId,
        headers: { type: 'notification.status', eventId: events[1]!.eventId },
      },
    ]);
    expect(JSON.parse(sent[0]![1]!.value)).toMatchObject({
      eventId: events[1]!.eventId,
      status: 'Delivered',
    });
    expect(store.deleted).toEqual(['1', '2']);
    expect(store.recorded).toEqual([{ delivered: 2 }]);
    expect(round).toMatchObject({ delivered: 2, failed: 0, destination: 'kafka:b1:9092/notify-events' });
  });

  it('keeps every event of a Kafka batch that was not acknowledged, and records the failure', async () => {
    const store = new FakeStore(subscription, events);
    const round = await service(store, {
      send: () => Promise.reject(new Error('broker b1:9092 unreachable')),
    }).deliverNext();

    expect(store.deleted).toEqual([]);
    expect(store.recorded).toEqual([{ delivered: 0, failure: 'Kafka: broker b1:9092 unreachable' }]);
    expect(round).toMatchObject({ delivered: 0, failed: 1, more: false });
  });

  it('fails Kafka subscriptions with a reason when no sender is provided', async () => {
    const store = new FakeStore(subscription, events);
    await service(store).deliverNext();

    expect(store.recorded).toEqual([
      { delivered: 0, failure: 'Kafka delivery is not available in this process' },
    ]);
  });
});
