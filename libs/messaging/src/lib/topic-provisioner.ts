import { ConfigResourceTypes, type Admin, type Kafka } from 'kafkajs';
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

/** An existing topic whose setting differs from the configured one. */
export interface TopicDrift {
  readonly topic: string;
  readonly setting: 'partitions' | 'replication.factor' | 'retention.ms';
  readonly actual: number;
  readonly configured: number;
}

export interface ProvisioningReport {
  readonly created: string[];
  readonly existing: string[];
  /** Existing topics with fewer partitions than configured (never changed automatically: it reshuffles keys). */
  readonly underPartitioned: { topic: string; partitions: number }[];
  /** Every difference between an existing topic and the configured settings (each one is logged as a warning). */
  readonly drift: TopicDrift[];
  /** Why some settings of existing topics could not be read (e.g. no DESCRIBE_CONFIGS ACL); checks skipped. */
  readonly unchecked?: string;
}

/**
 * Creates missing topics at start-up with the admin principal (the only role allowed to create topics).
 * Replicas starting together race safely because the broker rejects the second creation and kafkajs treats
 * "already exists" as success. Existing topics are never altered (fewer partitions would reshuffle keys,
 * retention is the cluster operator's call), but every difference from the configured partitions, replication
 * factor and retention is reported as a warning, so an environment that drifted from its settings is visible.
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
      // Another app or replica may have created some of them a moment ago: on a cluster of several brokers, one
      // that has not yet learnt of a new topic answers UNKNOWN_TOPIC_OR_PARTITION to the metadata request below
      // (seen when three apps start together), so wait for their leaders first (one round trip when settled).
      if (existing.length > 0) await waitForTopicLeaders(admin, existing);
      const { drift, unchecked } = await this.drift(admin, existing, settings);
      for (const item of drift) this.logger.warn(driftWarning(item), { ...item });
      if (unchecked !== undefined) {
        this.logger.warn('Could not compare existing topics with the configured settings', {
          reason: unchecked,
        });
      }
      const underPartitioned = drift
        .filter((item) => item.setting === 'partitions' && item.actual < item.configured)
        .map(({ topic, actual }) => ({ topic, partitions: actual }));
      return {
        created: missing,
        existing,
        underPartitioned,
        drift,
        ...(unchecked === undefined ? {} : { unchecked }),
      };
    } catch (error) {
      this.logger.error('Topic provisioning failed', errorFields(error));
      throw error;
    } finally {
      await admin.disconnect();
    }
  }

  private async drift(
    admin: Admin,
    topics: string[],
    settings: TopicSettings,
  ): Promise<{ drift: TopicDrift[]; unchecked?: string }> {
    if (topics.length === 0) return { drift: [] };
    const { descriptions, retentionUnreadable } = await describeTopics(admin, topics);
    const drift: TopicDrift[] = [];
    for (const { topic, partitions, replicationFactor, retentionMs } of descriptions) {
      if (partitions !== settings.partitions) {
        drift.push({ topic, setting: 'partitions', actual: partitions, configured: settings.partitions });
      }
      if (partitions > 0 && replicationFactor !== settings.replicationFactor) {
        drift.push({
          topic,
          setting: 'replication.factor',
          actual: replicationFactor,
          configured: settings.replicationFactor,
        });
      }
      if (retentionMs !== undefined && retentionMs !== settings.retentionMs) {
        drift.push({ topic, setting: 'retention.ms', actual: retentionMs, configured: settings.retentionMs });
      }
    }
    const unchecked =
      retentionUnreadable === undefined ? undefined : `retention not checked: ${retentionUnreadable}`;
    return { drift, ...(unchecked === undefined ? {} : { unchecked }) };
  }
}

/** What the broker says about an existing topic's settings. */
export interface TopicDescription {
  readonly topic: string;
  readonly partitions: number;
  /** The smallest number of replicas over its partitions (0 without partitions). */
  readonly replicationFactor: number;
  /** `retention.ms`; undefined when it could not be read. */
  readonly retentionMs: number | undefined;
}

/**
 * Partitions, replication factor and retention of existing topics, as the broker reports them: what start-up's
 * drift warnings and the ops CLI's `topics check` compare with the configured settings. Reading configs needs
 * DESCRIBE_CONFIGS on the topics, which a cluster may not grant: then `retentionUnreadable` says why and every
 * `retentionMs` is undefined, so a caller that only creates topics still starts.
 */
export async function describeTopics(
  admin: Admin,
  topics: readonly string[],
): Promise<{ descriptions: TopicDescription[]; retentionUnreadable?: string }> {
  if (topics.length === 0) return { descriptions: [] };
  const metadata = await admin.fetchTopicMetadata({ topics: [...topics] });
  const retention = new Map<string, number>();
  let retentionUnreadable: string | undefined;
  try {
    const described = await admin.describeConfigs({
      includeSynonyms: false,
      resources: topics.map((name) => ({
        type: ConfigResourceTypes.TOPIC,
        name,
        configNames: ['retention.ms'],
      })),
    });
    for (const resource of described.resources) {
      const entry = resource.configEntries.find((config) => config.configName === 'retention.ms');
      const value = Number(entry?.configValue);
      if (entry !== undefined && Number.isFinite(value)) retention.set(resource.resourceName, value);
    }
  } catch (error) {
    retentionUnreadable = error instanceof Error ? error.message : String(error);
  }
  const descriptions = metadata.topics.map((topic): TopicDescription => {
    const partitions = topic.partitions.length;
    return {
      topic: topic.name,
      partitions,
      replicationFactor:
        partitions === 0 ? 0 : Math.min(...topic.partitions.map((partition) => partition.replicas.length)),
      retentionMs: retention.get(topic.name),
    };
  });
  return { descriptions, ...(retentionUnreadable === undefined ? {} : { retentionUnreadable }) };
}

function driftWarning({ setting, actual, configured }: TopicDrift): string {
  switch (setting) {
    case 'partitions':
      return actual < configured
        ? 'Topic has fewer partitions than configured; consumers cannot scale past it (not changed automatically)'
        : 'Topic has more partitions than configured (not changed automatically)';
    case 'replication.factor':
      return 'Topic has a different replication factor than configured (not changed automatically)';
    case 'retention.ms':
      return 'Topic retention differs from the configured retention (not changed automatically; ask the cluster operator)';
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
