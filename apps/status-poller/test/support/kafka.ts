import { waitForTopicLeaders } from '@notifications/messaging';
import { Kafka, logLevel, type Admin, type Consumer, type Producer } from 'kafkajs';

export interface ObservedRecord {
  readonly topic: string;
  readonly key: string | undefined;
  readonly value: string;
  readonly headers: Record<string, string>;
  /** The record's timestamp (producer create time), epoch ms. */
  readonly timestamp: number;
  /** When this reader received it, epoch ms. */
  readonly receivedAt: number;
}

function brokers(): string[] {
  return (process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092').split(',').map((broker) => broker.trim());
}

/**
 * The test's own Kafka access: raw publishing (as the sender or a reference-era writer would), readers that keep
 * each record's timestamp (to measure when the poller published it), and deletion of a run's topics.
 */
export class TestKafka {
  private readonly kafka = new Kafka({
    clientId: 'status-poller-test',
    brokers: brokers(),
    logLevel: logLevel.NOTHING,
    retry: { retries: 5 },
  });
  private producer: Producer | undefined;
  private admin: Admin | undefined;
  private readonly consumers: Consumer[] = [];

  async publish(
    topic: string,
    messages: readonly { key: string; value: string; headers?: Record<string, string> }[],
  ): Promise<void> {
    if (!this.producer) {
      this.producer = this.kafka.producer({ allowAutoTopicCreation: false });
      await this.producer.connect();
    }
    for (let start = 0; start < messages.length; start += 1000) {
      await this.producer.send({
        topic,
        acks: -1,
        messages: messages.slice(start, start + 1000).map((m) => ({ ...m })),
      });
    }
  }

  /** Collects every record on the topics from the beginning; the array fills while the test runs. */
  async read(topics: readonly string[], groupSuffix: string): Promise<ObservedRecord[]> {
    const records: ObservedRecord[] = [];
    const consumer = this.kafka.consumer({
      groupId: `status-poller-test-reader.${groupSuffix}.${this.consumers.length}`,
      maxWaitTimeInMs: 100,
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [...topics], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ topic, message }) => {
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(message.headers ?? {})) {
          const first = Array.isArray(value) ? value[0] : value;
          if (first !== undefined) headers[name] = first.toString();
        }
        records.push({
          topic,
          key: message.key?.toString(),
          value: message.value?.toString() ?? '',
          headers,
          timestamp: Number(message.timestamp),
          receivedAt: Date.now(),
        });
      },
    });
    this.consumers.push(consumer);
    return records;
  }

  /**
   * Creates the topics and waits until every partition answers offset requests. A consumer started on topics
   * that were created a moment ago gets "not the leader" answers for a second or so and rejoins its group each
   * time; messages it handled in that window are read again (at-least-once). Tests and benchmarks that count
   * results exactly therefore start the poller on settled topics.
   */
  async prepareTopics(names: readonly string[], partitions: number): Promise<void> {
    const admin = await this.getAdmin();
    await admin.createTopics({
      waitForLeaders: false,
      topics: names.map((topic) => ({ topic, numPartitions: partitions, replicationFactor: 1 })),
    });
    await waitForTopicLeaders(admin, names);
  }

  /** Messages per topic (high − low watermark) of every topic whose name contains `part`. */
  async messageCounts(part: string): Promise<Record<string, number>> {
    const admin = await this.getAdmin();
    const counts: Record<string, number> = {};
    for (const topic of (await admin.listTopics()).filter((name) => name.includes(part))) {
      const offsets = await admin.fetchTopicOffsets(topic);
      counts[topic] = offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
    }
    return counts;
  }

  async deleteTopics(prefix: string): Promise<void> {
    const admin = await this.getAdmin();
    const ours = (await admin.listTopics()).filter((name) => name.includes(prefix));
    if (ours.length > 0) await admin.deleteTopics({ topics: ours }).catch(() => undefined);
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.consumers.map((consumer) => consumer.disconnect()));
    await this.producer?.disconnect();
    await this.admin?.disconnect();
  }

  private async getAdmin(): Promise<Admin> {
    if (!this.admin) {
      this.admin = this.kafka.admin();
      await this.admin.connect();
    }
    return this.admin;
  }
}
