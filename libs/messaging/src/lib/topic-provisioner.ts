import { type Admin, type Kafka } from 'kafkajs';
import { errorFields, type MessagingLogger } from './logger';

export interface TopicSettings {
  readonly partitions: number;
  readonly replicationFactor: number;
  /** `retention.ms`; 7 days in the reference's test environments, 365 days in production. */
  readonly retentionMs: number;
}

export const DEFAULT_TOPIC_SETTINGS: TopicSettings = {
  partitions: 6,
  replicationFactor: 1,
  retentionMs: 7 * 24 * 60 * 60 * 1000,
};

export interface ProvisioningReport {
  readonly created: string[];
  readonly existing: string[];
  /** Existing topics with fewer partitions than configured (never changed automatically: it reshuffles keys). */
  readonly underPartitioned: { topic: string; partitions: number }[];
}

/**
 * Creates missing topics at start-up with the admin principal (the only role allowed to create topics).
 * Existing topics are left as they are; replicas starting together race safely because the broker rejects
 * the second creation and kafkajs treats "already exists" as success.
 */
export class TopicProvisioner {
  constructor(
    private readonly kafka: Kafka,
    private readonly logger: MessagingLogger,
  ) {}

  async ensureTopics(
    topicNames: readonly string[],
    settings: TopicSettings = DEFAULT_TOPIC_SETTINGS,
  ): Promise<ProvisioningReport> {
    const wanted = [...new Set(topicNames)];
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const present = new Set(await admin.listTopics());
      const missing = wanted.filter((name) => !present.has(name));
      if (missing.length > 0) {
        await admin.createTopics({
          waitForLeaders: true,
          topics: missing.map((topic) => ({
            topic,
            numPartitions: settings.partitions,
            replicationFactor: settings.replicationFactor,
            configEntries: [{ name: 'retention.ms', value: String(settings.retentionMs) }],
          })),
        });
        this.logger.info('Created topics', { topics: missing, ...settings });
      }
      const existing = wanted.filter((name) => present.has(name));
      const underPartitioned = await this.underPartitioned(admin, existing, settings.partitions);
      for (const { topic, partitions } of underPartitioned) {
        this.logger.warn('Topic has fewer partitions than configured; consumers cannot scale past it', {
          topic,
          partitions,
          configured: settings.partitions,
        });
      }
      return { created: missing, existing, underPartitioned };
    } catch (error) {
      this.logger.error('Topic provisioning failed', errorFields(error));
      throw error;
    } finally {
      await admin.disconnect();
    }
  }

  private async underPartitioned(
    admin: Admin,
    topics: string[],
    wanted: number,
  ): Promise<{ topic: string; partitions: number }[]> {
    if (topics.length === 0) return [];
    const metadata = await admin.fetchTopicMetadata({ topics });
    return metadata.topics
      .map((topic) => ({ topic: topic.name, partitions: topic.partitions.length }))
      .filter(({ partitions }) => partitions < wanted);
  }
}
