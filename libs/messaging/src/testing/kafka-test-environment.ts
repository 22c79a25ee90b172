import { randomUUID } from 'node:crypto';
import { type MessageContract, type TopicDefinition, defineTopic } from '@notifications/contracts';
import { Kafka, logLevel, type Admin, type Consumer, type IHeaders, type Producer } from 'kafkajs';
import { type KafkaConnectionOptions } from '../lib/connection';
import { waitForTopicLeaders } from '../lib/topic-provisioner';

/** The broker integration tests use: `KAFKA_BROKERS`, else the one `npm run infra:up` starts. */
export function testKafkaConnection(clientId = 'notifications-test'): KafkaConnectionOptions {
  const brokers = (process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092').split(',').map((b) => b.trim());
  return { brokers, clientId };
}

export interface ReceivedRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: string | undefined;
  readonly value: string | undefined;
  readonly headers: Record<string, string>;
}

function decode(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    const first = Array.isArray(value) ? value[0] : value;
    if (first !== undefined) out[name] = first.toString();
  }
  return out;
}

/**
 * A test's own corner of the broker: unique topic names (so suites never see each other's messages), raw
 * produce for poison messages, a reader that collects everything on given topics, and committed-offset look-ups.
 */
export class KafkaTestEnvironment {
  readonly connection: KafkaConnectionOptions;
  private readonly kafka: Kafka;
  private admin: Admin | undefined;
  private adminConnection: Promise<Admin> | undefined;
  private producer: Producer | undefined;
  private producerConnection: Promise<Producer> | undefined;
  private readonly readers: Consumer[] = [];
  private readonly createdTopics: string[] = [];

  constructor(readonly prefix: string) {
    this.connection = testKafkaConnection(`test-${prefix}`);
    this.kafka = new Kafka({
      clientId: `test-${prefix}`,
      brokers: [...this.connection.brokers],
      logLevel: logLevel.NOTHING,
      retry: { retries: 3 },
    });
  }

  uniqueName(label: string): string {
    return `altinn.notifications.test.${this.prefix}.${label}.${randomUUID().slice(0, 8)}`;
  }

  /** A throw-away topic with its own retry and dead-letter topics, keyed like the real ones. */
  defineTopic<T>(
    label: string,
    contract: MessageContract<T>,
    keyOf: (message: T) => string | undefined,
  ): TopicDefinition<T> {
    const name = this.uniqueName(label);
    return defineTopic({
      name,
      contract,
      keyOf,
      retryTopic: `${name}.retry`,
      deadLetterTopic: `${name}.deadletter`,
    });
  }

  /** Creates the topic with its retry and dead-letter topics; `configs` are topic settings such as `max.message.bytes`. */
  async createTopics(
    topic: TopicDefinition<unknown>,
    partitions: number,
    configs: Readonly<Record<string, string>> = {},
  ): Promise<void> {
    const names = [topic.name, ...(topic.retryTopic ? [topic.retryTopic] : []), topic.deadLetterTopic];
    const admin = await this.getAdmin();
    const configEntries = Object.entries(configs).map(([name, value]) => ({ name, value }));
    await admin.createTopics({
      waitForLeaders: false,
      topics: names.map((name) => ({
        topic: name,
        numPartitions: partitions,
        replicationFactor: 1,
        configEntries,
      })),
    });
    this.createdTopics.push(...names);
    await waitForTopicLeaders(admin, names);
  }

  async produceRaw(
    topic: string,
    messages: { key?: string; value: string | Buffer | null; headers?: Record<string, string> }[],
  ): Promise<void> {
    this.producerConnection ??= (async () => {
      const producer = this.kafka.producer({ allowAutoTopicCreation: false });
      await producer.connect();
      this.producer = producer;
      return producer;
    })();
    const producer = await this.producerConnection;
    await producer.send({
      topic,
      acks: -1,
      messages: messages.map((m) => ({ key: m.key ?? null, value: m.value, headers: m.headers })),
    });
  }

  /** Starts collecting every record on the topics (from the beginning) into the returned array. */
  async read(topics: readonly string[]): Promise<ReceivedRecord[]> {
    const records: ReceivedRecord[] = [];
    const consumer = this.kafka.consumer({ groupId: this.uniqueName('reader'), maxWaitTimeInMs: 200 });
    await consumer.connect();
    await consumer.subscribe({ topics: [...topics], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ topic, partition, message }) => {
        records.push({
          topic,
          partition,
          offset: message.offset,
          key: message.key?.toString(),
          value: message.value?.toString(),
          headers: decode(message.headers),
        });
      },
    });
    this.readers.push(consumer);
    return records;
  }

  /** Sum over partitions of the group's committed offsets on a topic (= messages committed past). */
  async committedCount(groupId: string, topic: string): Promise<number> {
    const admin = await this.getAdmin();
    const [entry] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return (entry?.partitions ?? []).reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
  }

  /** Messages currently on a topic (sum over partitions of high watermark minus low watermark). */
  async messageCount(topic: string): Promise<number> {
    const admin = await this.getAdmin();
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
  }

  async cleanup(): Promise<void> {
    await Promise.allSettled(this.readers.map((reader) => reader.disconnect()));
    if (this.producer) await this.producer.disconnect();
    if (this.admin) {
      if (this.createdTopics.length > 0)
        await this.admin.deleteTopics({ topics: this.createdTopics }).catch(() => undefined);
      await this.admin.disconnect();
    }
  }

  /** Shared by concurrent callers, so two first calls never open two admin connections (one would leak). */
  private getAdmin(): Promise<Admin> {
    this.adminConnection ??= (async () => {
      const admin = this.kafka.admin();
      await admin.connect();
      this.admin = admin;
      return admin;
    })();
    return this.adminConnection;
  }
}
