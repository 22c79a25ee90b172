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
          // kafkajs' own wait gives up when the broker briefly reports a new topic as unknown; see below.
          waitForLeaders: false,
          topics: missing.map((topic) => ({
            topic,
            numPartitions: settings.partitions,
            replicationFactor: settings.replicationFactor,
            configEntries: [{ name: 'retention.ms', value: String(settings.retentionMs) }],
          })),
        });
        await waitForTopicLeaders(admin, missing);
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

/**
 * Waits (bounded) until every partition of the topics has a leader. kafkajs' `createTopics({ waitForLeaders })`
 * retries only LEADER_NOT_AVAILABLE, but Kafka 4 may answer UNKNOWN_TOPIC_OR_PARTITION ("does not host this
 * topic-partition") or NOT_LEADER for a topic it has just created, especially on a busy machine; those are retried
 * here too, until every partition's offsets can be read.
 */
export async function waitForTopicLeaders(
  admin: Admin,
  topics: readonly string[],
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const metadata = await admin.fetchTopicMetadata({ topics: [...topics] });
      const ready = metadata.topics.filter(
        (topic) =>
          topic.partitions.length > 0 && topic.partitions.every((partition) => partition.leader >= 0),
      );
      // Metadata can name a leader a moment before the partition answers requests (NOT_LEADER): the topic is
      // ready once its offsets can be read too.
      if (ready.length === topics.length) {
        await Promise.all(topics.map((topic) => admin.fetchTopicOffsets(topic)));
        return;
      }
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const cause = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`Topics still have no leaders after ${timeoutMs} ms: ${topics.join(', ')}${cause}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
