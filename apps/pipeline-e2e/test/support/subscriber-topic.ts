import { Kafka, logLevel, type Consumer } from 'kafkajs';

/** One record read from a subscriber's topic. */
export interface SubscriberRecord {
  readonly topic: string;
  readonly partition: number;
  readonly key: string | undefined;
  readonly headers: Readonly<Record<string, string>>;
  readonly value: string;
}

/**
 * Reads what the pipeline delivered into a subscriber's own cluster, as a subscriber would: a plain kafkajs
 * consumer from the beginning of the given topics (which it creates first: subscribers own their topics, the
 * pipeline never creates them).
 */
export class SubscriberTopics {
  readonly records: SubscriberRecord[] = [];
  private readonly kafka: Kafka;
  private consumer: Consumer | undefined;

  constructor(private readonly brokers: readonly string[]) {
    this.kafka = new Kafka({ clientId: 'subscriber', brokers: [...brokers], logLevel: logLevel.NOTHING });
  }

  async start(topics: readonly string[], partitions = 3): Promise<this> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      await admin.createTopics({
        topics: topics.map((topic) => ({ topic, numPartitions: partitions, replicationFactor: 1 })),
        waitForLeaders: true,
      });
    } finally {
      await admin.disconnect();
    }
    const consumer = this.kafka.consumer({ groupId: `subscriber-${Date.now()}-${Math.random()}` });
    this.consumer = consumer;
    await consumer.connect();
    await consumer.subscribe({ topics: [...topics], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ topic, partition, message }) => {
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(message.headers ?? {})) {
          if (value !== undefined) headers[name] = value.toString();
        }
        this.records.push({
          topic,
          partition,
          key: message.key?.toString(),
          headers,
          value: message.value?.toString() ?? '',
        });
      },
    });
    return this;
  }

  /** Records one per `eventId` header (a redelivery after a broker failure repeats an id). */
  uniqueRecords(): SubscriberRecord[] {
    const seen = new Set<string>();
    return this.records.filter((record) => {
      const id = record.headers['eventId'] ?? '';
      if (seen.has(id)) return false;
      seen.add(id);
      return true;
    });
  }

  get url(): string {
    return `kafka://${this.brokers.join(',')}`;
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
    this.consumer = undefined;
  }
}
