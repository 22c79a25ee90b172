import { consumerGroups } from '@notifications/contracts';
import { type KafkaRoleClients } from './kafka-role-clients';

export interface GroupPartitionLag {
  readonly group: string;
  readonly topic: string;
  readonly partition: number;
  /** Null when the group has committed nothing on this partition yet (it starts at the earliest offset). */
  readonly committed: number | null;
  readonly high: number;
  /** Records the group still has to read: high − committed (or high − low without a commit). */
  readonly lag: number;
}

export interface GroupLag {
  readonly group: string;
  /** Kafka's group state: Stable, Empty, PreparingRebalance, Dead (no such group), … */
  readonly state: string;
  readonly members: number;
  readonly partitions: readonly GroupPartitionLag[];
  readonly totalLag: number;
}

/** Consumer lag of the project's consumer groups (or the given ones). */
export class ConsumerLagService {
  constructor(
    private readonly kafka: KafkaRoleClients,
    private readonly suffix: string | undefined,
  ) {}

  /** The apps' consumer groups (suffixed like the topics when KAFKA_TOPIC_SUFFIX is set). */
  defaultGroups(): string[] {
    return Object.values(consumerGroups(this.suffix));
  }

  async lag(groups: readonly string[]): Promise<GroupLag[]> {
    const admin = await this.kafka.admin();
    const { groups: described } = await admin.describeGroups([...groups]);
    const offsetsCache = new Map<string, Promise<Map<number, { low: number; high: number }>>>();
    const topicOffsets = (topic: string): Promise<Map<number, { low: number; high: number }>> => {
      let cached = offsetsCache.get(topic);
      if (!cached) {
        cached = this.kafka
          .offsets(topic)
          .then((offsets) => new Map(offsets.map((p) => [p.partition, { low: p.low, high: p.high }])));
        offsetsCache.set(topic, cached);
      }
      return cached;
    };
    // kafkajs 2.2 asks for no topic at all (instead of every topic) when given none: name them all — those of this
    // deployment only: the groups are suffixed like its topics and read no other, and naming a topic that another
    // deployment (a test suite on a shared broker) deletes meanwhile fails the whole request (its metadata is gone).
    const candidates = (await this.kafka.listTopics()).filter(
      (topic) => !topic.startsWith('__') && (this.suffix === undefined || topic.endsWith(`.${this.suffix}`)),
    );
    const result: GroupLag[] = [];
    for (const group of groups) {
      const description = described.find((entry) => entry.groupId === group);
      const committed =
        candidates.length === 0 ? [] : await admin.fetchOffsets({ groupId: group, topics: candidates });
      const partitions: GroupPartitionLag[] = [];
      for (const { topic, partitions: committedPartitions } of committed) {
        if (!committedPartitions.some((p) => Number(p.offset) >= 0)) continue;
        const offsets = await topicOffsets(topic);
        for (const [partition, { low, high }] of [...offsets].sort((a, b) => a[0] - b[0])) {
          const entry = committedPartitions.find((p) => p.partition === partition);
          const offset = entry === undefined ? -1 : Number(entry.offset);
          const position = offset >= 0 ? offset : null;
          partitions.push({
            group,
            topic,
            partition,
            committed: position,
            high,
            lag: Math.max(0, high - Math.max(position ?? low, low)),
          });
        }
      }
      partitions.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
      result.push({
        group,
        state: description?.state ?? 'Unknown',
        members: description?.members.length ?? 0,
        partitions,
        totalLag: partitions.reduce((sum, p) => sum + p.lag, 0),
      });
    }
    return result;
  }
}
