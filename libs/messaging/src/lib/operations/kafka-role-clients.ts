import { randomUUID } from 'node:crypto';
import { createKafka, type KafkaConnectionOptions } from '../connection';
import { silentLogger, type MessagingLogger } from '../logger';
import { MessageProducer } from '../producer';
import { type Admin, type Kafka } from 'kafkajs';

export interface PartitionOffsets {
  readonly partition: number;
  /** First offset still on the partition (earlier records expired or were deleted). */
  readonly low: number;
  /** The offset the next record will get: `high - low` records are on the partition. */
  readonly high: number;
}

/**
 * Kafka clients for operator tasks (the ops CLI, orders' operator console), one per role as in the apps (admin:
 * describe, create, delete records; consumer: read and commit; producer: replay), created on first use and
 * closed by `close()`.
 */
export class KafkaRoleClients {
  private readonly adminKafka: Kafka;
  readonly consumerKafka: Kafka;
  private readonly producerKafka: Kafka;
  private adminClient: Promise<Admin> | undefined;
  private producerClient: MessageProducer | undefined;

  constructor(
    readonly connection: KafkaConnectionOptions,
    readonly logger: MessagingLogger = silentLogger,
  ) {
    this.adminKafka = createKafka(connection, 'admin', logger);
    this.consumerKafka = createKafka(connection, 'consumer', logger);
    this.producerKafka = createKafka(connection, 'producer', logger);
  }

  /** The admin-role Kafka client (for the messaging lib's TopicProvisioner). */
  get adminRoleKafka(): Kafka {
    return this.adminKafka;
  }

  admin(): Promise<Admin> {
    this.adminClient ??= (async () => {
      const admin = this.adminKafka.admin();
      await admin.connect();
      return admin;
    })();
    return this.adminClient;
  }

  async producer(): Promise<MessageProducer> {
    this.producerClient ??= new MessageProducer(this.producerKafka, this.logger);
    await this.producerClient.connect();
    return this.producerClient;
  }

  async listTopics(): Promise<string[]> {
    return (await this.admin()).listTopics();
  }

  async offsets(topic: string): Promise<PartitionOffsets[]> {
    const offsets = await (await this.admin()).fetchTopicOffsets(topic);
    return offsets
      .map((entry) => ({ partition: entry.partition, low: Number(entry.low), high: Number(entry.high) }))
      .sort((a, b) => a.partition - b.partition);
  }

  /** A consumer group id for a one-off read; under the ACL prefix the consumer principal may use. */
  readerGroupId(): string {
    return `altinn.notifications.ops.reader.${randomUUID()}`;
  }

  async close(): Promise<void> {
    const admin = this.adminClient;
    this.adminClient = undefined;
    await Promise.allSettled([
      admin?.then((client) => client.disconnect()),
      this.producerClient?.isConnected ? this.producerClient.disconnect() : undefined,
    ]);
  }
}
