import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { type AddressInfo } from 'node:net';
import { join } from 'node:path';
import {
  expectEventually,
  restartIsolatedBroker,
  startIsolatedBroker,
  stopIsolatedBroker,
  userOf,
  type IsolatedBroker,
} from '@notifications/testing';
import { type Admin, Kafka, logLevel } from 'kafkajs';
import { AddressPolicy, parseAllowEntry, type AllowEntry } from '../src/domain/address-policy';
import {
  KafkaDeliveryError,
  KafkaDestinationPool,
  type KafkaDestinationPoolOptions,
} from '../src/clients/kafka-destinations';
import { type KafkaDestinationSettings, type KafkaEventRecord } from '../src/clients/kafka-event-sender';
import { OutboundGuard } from '../src/clients/outbound-guard';

// A subscriber's own cluster: an isolated broker of this suite (never the shared one), with SASL users, the
// notification ACLs (the producer user may write under altinn.notifications.) and a SASL_SSL listener whose
// certificate names 127.0.0.1. Its PLAINTEXT listener (ANONYMOUS, a super user) is for set-up and for reading back.

const TLS = join(__dirname, '..', '..', 'kafka-security-e2e', 'test', 'fixtures', 'kafka-tls');
const PRODUCER = 'notifications-producer';

const guardOf = (...entries: string[]) =>
  new OutboundGuard(new AddressPolicy(entries.map((entry) => parseAllowEntry(entry) as AllowEntry)));

async function failureOf(promise: Promise<unknown>): Promise<KafkaDeliveryError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof KafkaDeliveryError) return error;
    throw error;
  }
  throw new Error('expected the send to fail');
}

interface ReadRecord {
  readonly key: string;
  readonly value: string;
  readonly headers: Record<string, string>;
  readonly partition: number;
}

describe(KafkaDestinationPool.name, () => {
  const suffix = randomUUID().slice(0, 8);
  const topicOf = (name: string) => `altinn.notifications.subscriber-${suffix}-${name}`;
  const pools: KafkaDestinationPool[] = [];
  let broker: IsolatedBroker;
  let reader: Kafka;
  let admin: Admin;

  const poolOf = (options: Partial<KafkaDestinationPoolOptions> = {}, guard = guardOf('127.0.0.0/8')) => {
    const pool = new KafkaDestinationPool(guard, {
      maxProducers: 4,
      idleMs: 60_000,
      deliveryTimeoutMs: 8_000,
      ...options,
    });
    pools.push(pool);
    return pool;
  };

  const plain = (topic: string): KafkaDestinationSettings => ({ url: `kafka://${broker.brokers}`, topic });

  const recordsOf = (topic: string, label: string, count: number): KafkaEventRecord[] =>
    Array.from({ length: count }, (_, index) => ({
      topic,
      key: `order-${index % 2}`,
      value: JSON.stringify({ label, index }),
      headers: { type: 'notification.status', eventId: `${label}-${index}` },
    }));

  async function createTopics(...names: string[]): Promise<void> {
    await admin.createTopics({
      topics: names.map((topic) => ({ topic, numPartitions: 2, replicationFactor: 1 })),
      waitForLeaders: true,
    });
  }

  /** Every record of `topic` from the beginning, read with a plain consumer until `count` arrived. */
  async function readBack(topic: string, count: number): Promise<ReadRecord[]> {
    const consumer = reader.consumer({ groupId: `reader-${randomUUID()}` });
    const read: ReadRecord[] = [];
    try {
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ message, partition }) => {
          const headers: Record<string, string> = {};
          for (const [name, value] of Object.entries(message.headers ?? {})) headers[name] = String(value);
          read.push({
            key: String(message.key),
            value: String(message.value),
            headers,
            partition,
          });
        },
      });
      await expectEventually(() => expect(read.length).toBeGreaterThanOrEqual(count), { timeoutMs: 30_000 });
    } finally {
      await consumer.disconnect();
    }
    return read;
  }

  /** The values of one key, in the order they were read (a key is on one partition, so that is their order). */
  const valuesOfKey = (records: readonly ReadRecord[], key: string) =>
    records.filter((record) => record.key === key).map((record) => record.value);

  const expectedValuesOfKey = (records: readonly KafkaEventRecord[], key: string) =>
    records.filter((record) => record.key === key).map((record) => record.value);

  beforeAll(async () => {
    broker = await startIsolatedBroker('subscriber', {
      keystore: join(TLS, 'broker-keystore.pem'),
      truststore: join(TLS, 'ca.pem'),
      clientAuth: 'none',
    });
    reader = new Kafka({
      clientId: 'subscriber-reader',
      brokers: [broker.brokers],
      logLevel: logLevel.NOTHING,
    });
    admin = reader.admin();
    await admin.connect();
  }, 180_000);

  afterEach(async () => {
    await Promise.all(pools.splice(0).map((pool) => pool.close()));
  });

  afterAll(async () => {
    await admin?.disconnect();
    await stopIsolatedBroker(broker);
  }, 60_000);

  it('delivers key, headers and value in order per key, through one producer reused across sends', async () => {
    const topic = topicOf('order');
    await createTopics(topic);
    const pool = poolOf();
    const batches = [recordsOf(topic, 'a', 6), recordsOf(topic, 'b', 6), recordsOf(topic, 'c', 6)];

    await pool.send(plain(topic), batches[0] ?? []);
    const afterFirst = pool.stats;
    await pool.send(plain(topic), batches[1] ?? []);
    await pool.send(plain(topic), batches[2] ?? []);

    expect(pool.stats).toEqual({ ...afterFirst, producers: 1, producersCreated: 1 });
    const sent = batches.flat();
    const read = await readBack(topic, sent.length);
    expect(read).toHaveLength(sent.length);
    for (const key of ['order-0', 'order-1']) {
      expect(valuesOfKey(read, key)).toEqual(expectedValuesOfKey(sent, key));
    }
    const byEventId = new Map(read.map((record) => [record.headers['eventId'], record]));
    for (const record of sent) {
      expect(byEventId.get(record.headers['eventId'])).toMatchObject({
        key: record.key,
        value: record.value,
        headers: record.headers,
      });
    }
    // One key, one partition: an order's events stay in order for the subscriber's consumers.
    expect(new Set(read.filter((record) => record.key === 'order-0').map((r) => r.partition)).size).toBe(1);
  });

  it('reuses a cluster producer for another topic, and at maxKafkaProducers=1 disconnects the least recently used', async () => {
    const first = topicOf('lru-1');
    const second = topicOf('lru-2');
    await createTopics(first, second);
    const pool = poolOf({ maxProducers: 1 });

    await pool.send(plain(first), recordsOf(first, 'ip', 2));
    await pool.send(plain(second), recordsOf(second, 'ip', 2));
    expect(pool.stats).toMatchObject({ producers: 1, producersCreated: 1 });
    const beforeSecondCluster = pool.stats.connectionsOpened;

    // The same broker by another bootstrap name is another cluster key, so another producer.
    const byName: KafkaDestinationSettings = {
      url: `kafka://localhost:${broker.ports.plainPort}`,
      topic: second,
    };
    await pool.send(byName, recordsOf(second, 'name', 2));
    expect(pool.stats).toMatchObject({ producers: 1, producersCreated: 2 });
    // The first producer's sockets are closed: only the second's stay open.
    await expectEventually(() =>
      expect(pool.stats.openConnections).toBe(pool.stats.connectionsOpened - beforeSecondCluster),
    );

    await pool.send(plain(first), recordsOf(first, 'again', 2));
    expect(pool.stats).toMatchObject({ producers: 1, producersCreated: 3 });
    expect((await readBack(first, 4)).map((record) => record.headers['eventId']).sort()).toEqual([
      'again-0',
      'again-1',
      'ip-0',
      'ip-1',
    ]);
    expect((await readBack(second, 4)).map((record) => record.headers['eventId']).sort()).toEqual([
      'ip-0',
      'ip-1',
      'name-0',
      'name-1',
    ]);
  });

  it('disconnects a producer unused for kafkaIdleMs and connects again at the next send', async () => {
    const topic = topicOf('idle');
    await createTopics(topic);
    const pool = poolOf({ idleMs: 300 });

    await pool.send(plain(topic), recordsOf(topic, 'before', 2));
    expect(pool.stats.openConnections).toBeGreaterThan(0);
    await expectEventually(() => expect(pool.stats).toMatchObject({ producers: 0, openConnections: 0 }));

    await pool.send(plain(topic), recordsOf(topic, 'after', 2));
    expect(pool.stats).toMatchObject({ producers: 1, producersCreated: 2 });
    expect((await readBack(topic, 4)).map((record) => record.headers['eventId']).sort()).toEqual([
      'after-0',
      'after-1',
      'before-0',
      'before-1',
    ]);
  });

  it('authenticates with SASL (SCRAM-SHA-512), and fails clearly with a wrong password', async () => {
    const topic = topicOf('sasl');
    await createTopics(topic);
    const pool = poolOf();
    const password = userOf(broker, PRODUCER).password;
    const destination: KafkaDestinationSettings = {
      url: `kafka://${broker.saslBrokers}`,
      topic,
      sasl: { mechanism: 'scram-sha-512', username: PRODUCER, password },
    };

    await pool.send(destination, recordsOf(topic, 'sasl', 3));

    const wrong = {
      ...destination,
      sasl: { mechanism: 'scram-sha-512' as const, username: PRODUCER, password: 'not-it' },
    };
    const failure = await failureOf(pool.send(wrong, recordsOf(topic, 'wrong', 1)));
    expect(failure.reason).toBe('SASL authentication failed');
    expect(failure.permanent).toBe(false);
    expect(failure.message).not.toContain('not-it');
    // A changed password is another producer; the right one still works.
    expect(pool.stats.producersCreated).toBe(2);
    await pool.send(destination, recordsOf(topic, 'again', 1));
    expect((await readBack(topic, 4)).map((record) => record.headers['eventId']).sort()).toEqual([
      'again-0',
      'sasl-0',
      'sasl-1',
      'sasl-2',
    ]);
  });

  it('connects over TLS with the CA given, and fails clearly without it', async () => {
    const topic = topicOf('tls');
    await createTopics(topic);
    const pool = poolOf();
    const destination: KafkaDestinationSettings = {
      url: `kafka://${broker.sslBrokers ?? ''}`,
      topic,
      sasl: { mechanism: 'plain', username: PRODUCER, password: userOf(broker, PRODUCER).password },
      tls: { ca: readFileSync(join(TLS, 'ca.pem'), 'utf8') },
    };

    await pool.send(destination, recordsOf(topic, 'tls', 2));
    const untrusted = await failureOf(pool.send({ ...destination, tls: {} }, recordsOf(topic, 'x', 1)));
    expect(untrusted.reason).toMatch(/^broker 127\.0\.0\.1:\d+ unreachable \(.*certificate/);

    expect((await readBack(topic, 2)).map((record) => record.headers['eventId']).sort()).toEqual([
      'tls-0',
      'tls-1',
    ]);
  });

  it('fails clearly for a topic that does not exist, and the producer keeps working for others', async () => {
    const topic = topicOf('exists');
    await createTopics(topic);
    const pool = poolOf();
    const missing = topicOf('missing');

    const failure = await failureOf(pool.send(plain(missing), recordsOf(missing, 'x', 1)));
    expect(failure.reason).toBe(`topic ${missing} does not exist`);
    await pool.send(plain(topic), recordsOf(topic, 'ok', 1));
    expect((await readBack(topic, 1)).map((record) => record.headers['eventId'])).toEqual(['ok-0']);
    // Never created by a send (allowAutoTopicCreation is off).
    expect(await admin.listTopics()).not.toContain(missing);
  });

  describe('the outbound guard', () => {
    let server: Server;
    let connections: number;
    let port: number;

    beforeAll(async () => {
      connections = 0;
      server = createServer((socket) => {
        connections += 1;
        socket.destroy();
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      port = (server.address() as AddressInfo).port;
    });

    afterAll(async () => {
      await new Promise((resolve) => server.close(resolve));
    });

    it('refuses a broker address that is not allow-listed, before any connection', async () => {
      const pool = poolOf({}, guardOf('192.0.2.10'));
      const byAddress = await failureOf(
        pool.send({ url: `kafka://127.0.0.1:${port}`, topic: 't' }, recordsOf('t', 'x', 1)),
      );
      expect(byAddress.reason).toBe(
        `refused by the outbound guard: broker 127.0.0.1:${port}: 127.0.0.1 is a loopback address, which is ` +
          'refused (not on the outbound allow-list)',
      );
      expect(byAddress.permanent).toBe(true);

      const byName = await failureOf(
        pool.send({ url: `kafka://localhost:${port}`, topic: 't' }, recordsOf('t', 'x', 1)),
      );
      expect(byName.reason).toMatch(
        new RegExp(
          `^refused by the outbound guard: broker localhost:${port}: localhost resolves to a loopback address`,
        ),
      );
      expect(connections).toBe(0);
      expect(pool.stats.connectionsOpened).toBe(0);
    });

    it('checks every broker the cluster names: an allowed bootstrap name cannot lead to a refused address', async () => {
      // localhost is allowed by name; the broker advertises itself as 127.0.0.1, which is not allowed.
      const pool = poolOf({}, guardOf('localhost'));
      const topic = topicOf('advertised');
      await createTopics(topic);

      const failure = await failureOf(
        pool.send({ url: `kafka://localhost:${broker.ports.plainPort}`, topic }, recordsOf(topic, 'x', 1)),
      );
      expect(failure.reason).toMatch(
        new RegExp(
          `^refused by the outbound guard: broker 127\\.0\\.0\\.1:${broker.ports.plainPort}: 127\\.0\\.0\\.1 is a loopback`,
        ),
      );
      // Only the bootstrap connection was made (for the metadata that named the refused address).
      expect(pool.stats.connectionsOpened).toBe(1);
    });
  });

  // Last: it kills the suite's broker.
  it('fails clearly while the broker is down, and after its restart delivers with nothing sent before lost', async () => {
    const topic = topicOf('restart');
    await createTopics(topic);
    const pool = poolOf({ deliveryTimeoutMs: 5_000 });
    const before = recordsOf(topic, 'before', 10);
    const after = recordsOf(topic, 'after', 10);
    await pool.send(plain(topic), before);

    process.kill(broker.pid, 'SIGKILL');
    await expectEventually(() => expect(() => process.kill(broker.pid, 0)).toThrow());
    const failure = await failureOf(pool.send(plain(topic), after));
    expect(failure.reason).toMatch(
      /^broker 127\.0\.0\.1:\d+ unreachable|^no acknowledgement within 5000 ms$/,
    );
    expect(failure.permanent).toBe(false);

    broker = await restartIsolatedBroker(broker);
    await expectEventually(() => pool.send(plain(topic), after), { timeoutMs: 60_000, intervalMs: 500 });

    const read = await readBack(topic, before.length + after.length);
    const eventIds = new Set(read.map((record) => record.headers['eventId']));
    for (const record of [...before, ...after]) expect(eventIds).toContain(record.headers['eventId']);
    for (const key of ['order-0', 'order-1']) {
      // A failed attempt may have been written before it failed (at least once): the first copies keep the order.
      const values = valuesOfKey(read, key);
      const firstCopies = values.filter((value, index) => values.indexOf(value) === index);
      expect(firstCopies).toEqual(expectedValuesOfKey([...before, ...after], key));
    }
  }, 180_000);
});
