import { EmailContract, type Email } from '@notifications/contracts';
import { expectEventually } from '@notifications/testing';
import { KafkaTestEnvironment } from '../src/testing';
import { Kafka, logLevel } from 'kafkajs';
import { KafkaRuntime, RecordTooLargeError, silentLogger, type RawMessage } from '../src';

// A topic whose broker-side limit is small enough to provoke MESSAGE_TOO_LARGE with a few records
// (https://kafka.apache.org/documentation/#topicconfigs_max.message.bytes: checked per record batch).
const TOPIC_LIMIT_BYTES = 16_384;
const SMALL_TOPIC = { 'max.message.bytes': String(TOPIC_LIMIT_BYTES) };

// 1 000 characters that are 3 000 bytes in UTF-8: sizes in characters would under-count them threefold.
const NON_LATIN = '漢'.repeat(1_000);

describe('MessageProducer within the broker size limits (real broker)', () => {
  let env: KafkaTestEnvironment;
  let runtime: KafkaRuntime | undefined;
  const recreated: string[] = [];
  const refused: string[] = [];

  function startRuntime(maxBatchBytes?: number): KafkaRuntime {
    runtime = new KafkaRuntime(
      env.connection,
      silentLogger,
      maxBatchBytes === undefined ? {} : { maxBatchBytes },
    );
    runtime.instrument({
      producerRecreated: (reason) => recreated.push(reason),
      recordRefused: (topic, reason) => refused.push(reason),
    });
    return runtime;
  }

  /** Our raw publishes skip the contract; the definition only names the topic (and its retry/dead-letter). */
  async function createTopic(label: string, partitions: number): Promise<{ name: string }> {
    const topic = env.defineTopic(label, EmailContract, (email: Email) => email.notificationId);
    await env.createTopics(topic, partitions, SMALL_TOPIC);
    return topic;
  }

  beforeEach(() => {
    env = new KafkaTestEnvironment('producer-limits');
    recreated.length = 0;
    refused.length = 0;
  });

  afterEach(async () => {
    await runtime?.shutdown();
    runtime = undefined;
    await env.cleanup();
  });

  it('reproduces the failure in kafkajs alone: a request refused for one partition poisons the idempotent producer', async () => {
    const topic = await createTopic('kafkajs', 2);
    const kafka = new Kafka({
      clientId: 'poison-demo',
      brokers: [...env.connection.brokers],
      logLevel: logLevel.NOTHING,
    });
    const producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
    });
    await producer.connect();
    try {
      // Partition 0's batch fits and is appended; partition 1's is too large. kafkajs rolls back both
      // partitions' sequence numbers (src/producer/sendMessages.js), so partition 0's next batch is out of order.
      await expect(
        producer.send({
          topic: topic.name,
          acks: -1,
          messages: [
            { partition: 0, value: 'a' },
            { partition: 0, value: 'b' },
            { partition: 0, value: 'c' },
            { partition: 1, value: 'x'.repeat(TOPIC_LIMIT_BYTES * 2) },
          ],
        }),
      ).rejects.toMatchObject({ type: 'MESSAGE_TOO_LARGE' });
      await expect(
        producer.send({ topic: topic.name, acks: -1, messages: [{ partition: 0, value: 'd' }] }),
      ).rejects.toMatchObject({ type: 'OUT_OF_ORDER_SEQUENCE_NUMBER' });
    } finally {
      await producer.disconnect();
    }
  });

  it('splits coalesced publishes by bytes so no request exceeds the limit, without a single refusal', async () => {
    const topic = (await createTopic('split', 3)).name;
    const producer = startRuntime(TOPIC_LIMIT_BYTES - 1_000).producer;
    const records = await env.read([topic]);

    await Promise.all(
      Array.from({ length: 60 }, (_, index) =>
        producer.publishRaw(topic, { key: `key-${index % 7}`, value: `${index}:${NON_LATIN}` }),
      ),
    );

    await expectEventually(() => expect(records).toHaveLength(60));
    expect(recreated).toEqual([]);
    expect(refused).toEqual([]);
  });

  it('refuses a record over the configured limit alone, before sending, and publishes its neighbours', async () => {
    const topic = (await createTopic('over-limit', 1)).name;
    const producer = startRuntime(TOPIC_LIMIT_BYTES - 1_000).producer;
    const records = await env.read([topic]);
    const messages: RawMessage[] = [
      { key: 'a', value: 'before' },
      { key: 'b', value: NON_LATIN.repeat(6) },
      { key: 'c', value: 'after' },
    ];

    const results = await Promise.allSettled(messages.map((message) => producer.publishRaw(topic, message)));

    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toBeInstanceOf(RecordTooLargeError);
    await expectEventually(() => expect(records.map((record) => record.value)).toEqual(['before', 'after']));
    expect(refused).toEqual(['too-large']);
    expect(recreated).toEqual([]);
  });

  it('when the broker refuses a request as too large, fails only the record at fault, recreates the producer and keeps publishing', async () => {
    const topic = (await createTopic('broker-refuses', 3)).name;
    // The producer's own limit is the default (1 MB): only the broker knows this topic's smaller one.
    const producer = startRuntime().producer;
    const records = await env.read([topic]);
    const small = Array.from({ length: 30 }, (_, index) => ({
      key: `key-${index}`,
      value: `small-${index}`,
    }));
    const huge = { key: 'huge', value: 'x'.repeat(TOPIC_LIMIT_BYTES * 3) };

    const results = await Promise.allSettled(
      [...small.slice(0, 15), huge, ...small.slice(15)].map((message) => producer.publishRaw(topic, message)),
    );

    const rejected = results.filter(
      (result): result is PromiseRejectedResult => result.status === 'rejected',
    );
    expect(rejected).toHaveLength(1);
    expect(rejected[0]?.reason).toBeInstanceOf(RecordTooLargeError);
    expect(results[15]?.status).toBe('rejected');
    expect(recreated.length).toBeGreaterThanOrEqual(1);
    expect(new Set(recreated)).toEqual(new Set(['MESSAGE_TOO_LARGE']));

    // Not poisoned: later publishes to every partition go through on the replaced producer.
    const later = Array.from({ length: 30 }, (_, index) => ({
      key: `later-${index}`,
      value: `later-${index}`,
    }));
    await Promise.all(later.map((message) => producer.publishRaw(topic, message)));
    const values = (): Set<string> => new Set(records.map((record) => String(record.value)));
    await expectEventually(() =>
      expect([...small, ...later].every((message) => values().has(message.value))).toBe(true),
    );
    expect(values().has(huge.value)).toBe(false);
  });
});
