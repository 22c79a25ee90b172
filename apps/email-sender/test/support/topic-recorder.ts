import { randomUUID } from 'node:crypto';
import { testKafkaConnection } from '@notifications/messaging/testing';
import { Kafka, logLevel, type Consumer } from 'kafkajs';

export interface RecordedMessage {
  readonly topic: string;
  readonly key: string | undefined;
  readonly value: string | undefined;
  readonly headers: Record<string, string>;
  /** The producer's timestamp (CreateTime), epoch ms. */
  readonly timestamp: number;
}

/**
 * Collects every record on some topics from the beginning, with its timestamp (the testing lib's reader has
 * none; the 429 test compares publish order across two topics by it).
 */
export class TopicRecorder {
  readonly records: RecordedMessage[] = [];
  private consumer: Consumer | undefined;
  private readonly kafka = new Kafka({
    brokers: [...testKafkaConnection().brokers],
    logLevel: logLevel.NOTHING,
  });
  private readonly groupId = `altinn.notifications.test.recorder.${randomUUID().slice(0, 8)}`;

  async start(topics: readonly string[]): Promise<this> {
    this.consumer = this.kafka.consumer({ groupId: this.groupId, maxWaitTimeInMs: 100 });
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [...topics], fromBeginning: true });
    await this.consumer.run({
      eachMessage: async ({ topic, message }) => {
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(message.headers ?? {})) {
          const first = Array.isArray(value) ? value[0] : value;
          if (first !== undefined) headers[name] = first.toString();
        }
        this.records.push({
          topic,
          key: message.key?.toString(),
          value: message.value?.toString(),
          headers,
          timestamp: Number(message.timestamp),
        });
      },
    });
    return this;
  }

  on(topic: string): RecordedMessage[] {
    return this.records.filter((record) => record.topic === topic);
  }

  /** Parsed JSON values on a topic whose record key is `key`. */
  valuesFor<T>(topic: string, key: string): T[] {
    return this.on(topic)
      .filter((record) => record.key === key)
      .map((record) => JSON.parse(record.value ?? 'null') as T);
  }

  async stop(): Promise<void> {
    if (!this.consumer) return;
    await this.consumer.disconnect();
    const admin = this.kafka.admin();
    await admin.connect();
    await admin.deleteGroups([this.groupId]).catch(() => undefined);
    await admin.disconnect();
  }
}
