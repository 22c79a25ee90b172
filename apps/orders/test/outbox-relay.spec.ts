import { Logger } from '@nestjs/common';
import { createTestDatabase, type TestDatabase } from '@notifications/database/testing';
import { MessageProducer, silentLogger } from '@notifications/messaging';
import { expectEventually } from '@notifications/testing';
import { KafkaTestEnvironment, type ReceivedRecord } from '@notifications/messaging/testing';
import { NotificationOrderContract } from '@notifications/contracts';
import { Kafka, logLevel } from 'kafkajs';
import { loadOrdersConfig, type OrdersConfig } from '../src/config/orders.config';
import { ordersEntities } from '../src/store/entities';
import { ordersMigrations } from '../src/store/migrations';
import { UnitOfWork } from '../src/store/unit-of-work';
import { OutboxRelay } from '../src/dispatch/outbox.relay';
import { OutboxRepository } from '../src/store/outbox.repository';

// The relay's crash-safety: it writes nothing before it publishes and deletes (or marks) rows only in the
// transaction that claimed them, so whatever goes wrong between claim and commit leaves every row claimable.
describe('outbox relay against PostgreSQL and Kafka', () => {
  let db: TestDatabase;
  let uow: UnitOfWork;
  let kafka: KafkaTestEnvironment;
  let producer: MessageProducer;
  let topic: string;
  let received: ReceivedRecord[];
  const outbox = new OutboxRepository();

  beforeAll(async () => {
    Logger.overrideLogger(false);
    db = await createTestDatabase({
      prefix: 'orders_relay',
      migrations: ordersMigrations,
      entities: ordersEntities,
    });
    uow = new UnitOfWork(db.dataSource);
    kafka = new KafkaTestEnvironment('orders-relay');
    const definition = kafka.defineTopic('relay', NotificationOrderContract, (order) => order.id);
    await kafka.createTopics(definition, 2);
    topic = definition.name;
    received = await kafka.read([topic]);
    producer = new MessageProducer(
      new Kafka({
        clientId: kafka.connection.clientId,
        brokers: [...kafka.connection.brokers],
        logLevel: logLevel.NOTHING,
      }),
      silentLogger,
    );
    await producer.connect();
  }, 120_000);

  afterAll(async () => {
    await producer?.disconnect();
    await kafka?.cleanup();
    await db?.drop();
  }, 60_000);

  beforeEach(async () => {
    await db.dataSource.query('TRUNCATE outbox');
    jest.restoreAllMocks();
  });

  function relay(overrides: Record<string, string> = {}): OutboxRelay {
    const config: OrdersConfig = loadOrdersConfig({
      APP_ENV: 'test',
      DATABASE_URL: db.url,
      ORDERS_OUTBOX_RETENTION: '0s',
      ...overrides,
    });
    return new OutboxRelay(uow, outbox, producer, config);
  }

  /** Rows with keys `<prefix>-0…`, payload = key; two rows per key so that per-key order can be checked. */
  async function add(prefix: string, keys: number): Promise<string[]> {
    const payloads = Array.from(
      { length: keys * 2 },
      (_, i) => `${prefix}-${i % keys}#${Math.floor(i / keys)}`,
    );
    await uow.run((tx) =>
      outbox.add(
        tx,
        payloads.map((payload) => ({ topic, key: payload.split('#')[0], payload })),
      ),
    );
    return payloads;
  }

  const ours = (prefix: string): ReceivedRecord[] =>
    received.filter((record) => record.value?.startsWith(`${prefix}-`) === true);

  const rowCount = async (): Promise<number> => {
    const [row] = await db.dataSource.query<{ count: number }[]>('SELECT count(*)::int AS count FROM outbox');
    return row?.count ?? 0;
  };

  it('publishes every row once, in id order per key, and deletes it in the same transaction', async () => {
    const payloads = await add('ok', 20);

    const outcome = await relay().relayBatch(1_000);

    expect(outcome).toMatchObject({ claimed: 40, published: 40, failed: 0, more: false });
    expect(await rowCount()).toBe(0);
    await expectEventually(() => expect(ours('ok')).toHaveLength(40));
    expect(
      ours('ok')
        .map((record) => record.value)
        .sort(),
    ).toEqual([...payloads].sort());
    for (let key = 0; key < 20; key += 1) {
      expect(
        ours('ok')
          .filter((r) => r.key === `ok-${key}`)
          .map((r) => r.value),
      ).toEqual([`ok-${key}#0`, `ok-${key}#1`]);
    }
  });

  it('a relay whose transaction dies after publishing leaves every row claimable: nothing is lost', async () => {
    const payloads = await add('dies', 10);
    const publish = producer.publishRaw.bind(producer);
    // The broker takes the messages, then PostgreSQL loses the relay's session before it commits (a crash,
    // a failover or a network cut look the same from here).
    jest.spyOn(producer, 'publishRaw').mockImplementation(async (name, message) => {
      await publish(name, message);
      await db.dataSource.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
          WHERE datname = current_database() AND state = 'idle in transaction' AND pid <> pg_backend_pid()`,
      );
    });

    await expect(relay().relayBatch(1_000)).rejects.toThrow();
    const rows = await db.dataSource.query<{ published_at: Date | null; attempts: number }[]>(
      'SELECT published_at, attempts FROM outbox',
    );
    expect(rows).toHaveLength(20);
    expect(rows.every((row) => row.published_at === null && row.attempts === 0)).toBe(true);

    jest.restoreAllMocks();
    expect(await relay().relayBatch(1_000)).toMatchObject({ claimed: 20, published: 20 });
    expect(await rowCount()).toBe(0);
    // At least once: the first attempt's messages may be there too.
    await expectEventually(() => expect(new Set(ours('dies').map((r) => r.value)).size).toBe(20));
    expect([...new Set(ours('dies').map((r) => r.value))].sort()).toEqual([...payloads].sort());
  });

  it('a failed publish backs its rows off and keeps them; the next attempt after the back-off publishes them', async () => {
    const payloads = await add('fails', 5);
    jest.spyOn(producer, 'publishRaw').mockRejectedValue(new Error('broker unreachable'));

    expect(await relay().relayBatch(1_000)).toMatchObject({ claimed: 10, published: 0, failed: 10 });
    const rows = await db.dataSource.query<{ attempts: number; last_error: string; waiting: boolean }[]>(
      'SELECT attempts, last_error, available_at > now() AS waiting FROM outbox',
    );
    expect(rows).toHaveLength(10);
    expect(rows.every((r) => r.attempts === 1 && r.waiting && r.last_error === 'broker unreachable')).toBe(
      true,
    );
    // Backed off: not claimable before its retry time.
    expect(await relay().relayBatch(1_000)).toMatchObject({ claimed: 0 });

    jest.restoreAllMocks();
    await expectEventually(
      async () => expect(await relay().relayBatch(1_000)).toMatchObject({ published: 10 }),
      {
        timeoutMs: 10_000,
      },
    );
    expect(await rowCount()).toBe(0);
    await expectEventually(() => expect(ours('fails')).toHaveLength(10));
    expect(
      ours('fails')
        .map((r) => r.value)
        .sort(),
    ).toEqual([...payloads].sort());
  });

  it('a publish that is not acknowledged within ORDERS_OUTBOX_LEASE counts as failed; the rows stay', async () => {
    await add('hangs', 2);
    jest.spyOn(producer, 'publishRaw').mockReturnValue(new Promise<void>(() => undefined));

    expect(await relay({ ORDERS_OUTBOX_LEASE: '300ms' }).relayBatch(1_000)).toMatchObject({
      claimed: 4,
      published: 0,
      failed: 4,
    });
    const rows = await db.dataSource.query<{ last_error: string }[]>('SELECT last_error FROM outbox');
    expect(rows).toHaveLength(4);
    expect(rows[0]?.last_error).toContain('not acknowledged within 300 ms');
  });

  it('with a retention, marks published rows instead of deleting them', async () => {
    await add('kept', 3);

    expect(await relay({ ORDERS_OUTBOX_RETENTION: '1h' }).relayBatch(1_000)).toMatchObject({ published: 6 });

    const rows = await db.dataSource.query<{ published: boolean; attempts: number }[]>(
      'SELECT published_at IS NOT NULL AS published, attempts FROM outbox',
    );
    expect(rows).toEqual(Array.from({ length: 6 }, () => ({ published: true, attempts: 1 })));
    expect(await relay({ ORDERS_OUTBOX_RETENTION: '1h' }).relayBatch(1_000)).toMatchObject({ claimed: 0 });
  });
});
