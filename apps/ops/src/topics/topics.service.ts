import { allTopicNames, topicCatalog } from '@notifications/contracts';
import {
  describeTopics,
  TopicProvisioner,
  type KafkaRoleClients,
  type MessagingLogger,
  type TopicSettings,
} from '@notifications/messaging';

export type TopicStatus = 'ok' | 'missing' | 'mismatch';

export interface TopicCheck {
  readonly topic: string;
  /** `catalog`: one of the project's topics; `delay-tier`: a status-poller delay topic found on the broker. */
  readonly kind: 'catalog' | 'delay-tier';
  readonly status: TopicStatus;
  readonly partitions: number | null;
  readonly replicationFactor: number | null;
  readonly retentionMs: number | null;
  readonly problems: readonly string[];
}

export interface TopicsCreateReport {
  readonly created: readonly string[];
  readonly existing: readonly string[];
  readonly checks: readonly TopicCheck[];
}

/** The project's topics against the configured partitions, replication and retention. */
export class TopicsService {
  constructor(
    private readonly kafka: KafkaRoleClients,
    private readonly suffix: string | undefined,
    private readonly settings: TopicSettings,
    private readonly logger: MessagingLogger,
  ) {}

  /**
   * What the apps provision (suffixed like the deployment): every consumed topic with its retry and dead-letter
   * topic, and the topics only produced to (the health checks, which have no consumer and so no dead letters).
   */
  expectedTopics(): string[] {
    const topics = Object.values(topicCatalog(this.suffix));
    const consumed = topics.filter((topic) => topic.retryTopic !== undefined);
    return [...new Set([...allTopicNames(consumed), ...topics.map((topic) => topic.name)])];
  }

  async check(): Promise<TopicCheck[]> {
    const present = new Set(await this.kafka.listTopics());
    const expected = this.expectedTopics();
    // The status-poller's delay tiers depend on its own settings; those on the broker are checked too.
    const tierPrefix = `${topicCatalog(this.suffix).emailSendingAccepted.name}.delay.`;
    const tiers = [...present]
      .filter((name) => name.startsWith(tierPrefix) && !expected.includes(name))
      .sort();
    const existing = [...expected, ...tiers].filter((name) => present.has(name));
    const { descriptions, retentionUnreadable } = await describeTopics(await this.kafka.admin(), existing);
    const check = (topic: string, kind: TopicCheck['kind']): TopicCheck => {
      const description = descriptions.find((entry) => entry.topic === topic);
      if (!present.has(topic) || !description) {
        return {
          topic,
          kind,
          status: 'missing',
          partitions: null,
          replicationFactor: null,
          retentionMs: null,
          problems: ['does not exist'],
        };
      }
      const { partitions, replicationFactor } = description;
      const retentionMs = description.retentionMs ?? null;
      const problems: string[] = [];
      if (partitions < this.settings.partitions) {
        problems.push(`${partitions} partitions, configured ${this.settings.partitions}`);
      }
      if (replicationFactor < this.settings.replicationFactor) {
        problems.push(`replication ${replicationFactor}, configured ${this.settings.replicationFactor}`);
      }
      if (retentionMs !== this.settings.retentionMs) {
        problems.push(
          `retention.ms ${retentionMs ?? `unknown (${retentionUnreadable ?? 'not reported'})`}, configured ${this.settings.retentionMs}`,
        );
      }
      return {
        topic,
        kind,
        status: problems.length === 0 ? 'ok' : 'mismatch',
        partitions,
        replicationFactor,
        retentionMs,
        problems,
      };
    };
    return [
      ...expected.map((topic) => check(topic, 'catalog')),
      ...tiers.map((topic) => check(topic, 'delay-tier')),
    ];
  }

  /**
   * Creates the missing catalog topics with the configured settings (the messaging lib's provisioner, admin
   * credentials). Existing topics are never changed: more partitions would move keys to other partitions.
   */
  async create(): Promise<TopicsCreateReport> {
    const provisioner = new TopicProvisioner(this.kafka.adminRoleKafka, this.logger);
    const report = await provisioner.ensureTopics(this.expectedTopics(), this.settings);
    return { created: report.created, existing: report.existing, checks: await this.check() };
  }
}
