import { topicCatalog } from '@notifications/contracts';
import { type Consumer } from 'kafkajs';
import { type KafkaRoleClients, type PartitionOffsets } from './kafka-role-clients';
import { readSegments, type ReadRecord, type ReadSegment } from './topic-reader';
import {
  REPLAYED_FROM_HEADER,
  replayHeaders,
  toDeadLetterMessage,
  type DeadLetterMessage,
} from './dead-letter-message';
import {
  advance,
  decodeReplayRecord,
  encodeReplayMetadata,
  isReplayed,
  MAX_METADATA_LENGTH,
  type ReplayRecord,
} from './replay-record';

const OWN_PREFIX = 'altinn.notifications.';

// Replays are recorded as committed offsets of one consumer group per dead-letter topic, under the prefix the
// reference's Kafka ACLs grant the consumer principal. A group per topic, because a group's members must share
// one subscription: two operators replaying different topics must not rebalance each other.
export const REPLAY_GROUP_PREFIX = 'altinn.notifications.ops.replay';

export function replayGroupId(deadLetterTopic: string): string {
  return `${REPLAY_GROUP_PREFIX}.${deadLetterTopic}`;
}

/** The dead-letter topics of the deployment's consumed topics (those with a retry topic; not the health checks). */
export function knownDeadLetterTopics(suffix: string | undefined): string[] {
  const consumed = Object.values(topicCatalog(suffix)).filter((topic) => topic.retryTopic !== undefined);
  return [...new Set(consumed.map((topic) => topic.deadLetterTopic))];
}

/** Whether a topic is a dead-letter topic of the deployment (`….deadletter`, or `….deadletter.<suffix>`). */
export function isDeadLetterTopic(name: string, suffix: string | undefined): boolean {
  return (
    name.startsWith(OWN_PREFIX) &&
    name.endsWith(suffix === undefined ? '.deadletter' : `.deadletter.${suffix}`)
  );
}

export interface DeadLetterTopicSummary {
  readonly topic: string;
  readonly exists: boolean;
  readonly partitions: number;
  readonly messages: number;
  readonly oldest: string | null;
  readonly newest: string | null;
}

export interface MessageFilter {
  readonly key?: string;
  readonly reason?: string;
  readonly origin?: string;
  readonly errorClass?: string;
  readonly errorContains?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly partition?: number;
  readonly offset?: number;
}

export type ReplayOutcome =
  'replayed' | 'would-replay' | 'already-replayed' | 'filtered-out' | 'no-origin' | 'origin-missing';

export interface ReplayedMessage {
  readonly partition: number;
  readonly offset: number;
  readonly key: string | null;
  readonly originTopic: string | null;
  readonly reason: string | null;
  readonly outcome: ReplayOutcome;
}

export interface ReplayReport {
  readonly topic: string;
  readonly groupId: string;
  readonly dryRun: boolean;
  readonly fromBeginning: boolean;
  readonly counts: Readonly<Record<ReplayOutcome, number>>;
  readonly messages: readonly ReplayedMessage[];
  /** Per partition: the replay record after this run. */
  readonly record: readonly { partition: number; watermark: number; replayedAbove: number[] }[];
  readonly warnings: readonly string[];
}

export interface PurgePlan {
  readonly topic: string;
  readonly partitions: readonly { partition: number; low: number; high: number; deleteBefore: number }[];
  readonly records: number;
}

/**
 * A request the dead-letter tools cannot carry out as asked (no such topic or partition, a replay already
 * running): the caller's mistake or a state to wait out, reported as one line (CLI) or a 4xx (console).
 */
export class DeadLetterRequestError extends Error {
  override readonly name = 'DeadLetterRequestError';

  constructor(
    message: string,
    readonly kind: 'not-found' | 'invalid' | 'conflict',
  ) {
    super(message);
  }
}

/**
 * Dead-letter topics: what is on them, what a message looks like, replaying and purging. The core of the ops
 * CLI's `dlq` commands and of orders' operator console (one copy: both read and record replays the same way).
 */
export class DeadLetterService {
  constructor(
    private readonly kafka: KafkaRoleClients,
    private readonly suffix: string | undefined,
    private readonly readTimeoutMs: number,
  ) {}

  async list(): Promise<DeadLetterTopicSummary[]> {
    const present = new Set(await this.kafka.listTopics());
    const names = [
      ...new Set([
        ...knownDeadLetterTopics(this.suffix),
        ...[...present].filter((name) => isDeadLetterTopic(name, this.suffix)),
      ]),
    ].sort();
    const offsets = new Map<string, PartitionOffsets[]>();
    for (const name of names.filter((topic) => present.has(topic)))
      offsets.set(name, await this.kafka.offsets(name));

    // Oldest and newest: the record timestamps of the first and last record of every non-empty partition.
    const segments: ReadSegment[] = [];
    for (const [topic, partitions] of offsets) {
      for (const { partition, low, high } of partitions) {
        if (high <= low) continue;
        segments.push({ topic, partition, from: low, to: low + 1 });
        if (high - 1 > low) segments.push({ topic, partition, from: high - 1, to: high });
      }
    }
    const times = new Map<string, { oldest: number; newest: number }>();
    await this.readOnce(segments, async (records) => {
      for (const record of records) {
        const seen = times.get(record.topic);
        times.set(record.topic, {
          oldest: Math.min(seen?.oldest ?? Infinity, record.timestamp),
          newest: Math.max(seen?.newest ?? -Infinity, record.timestamp),
        });
      }
    });
    return names.map((topic) => {
      const partitions = offsets.get(topic);
      const time = times.get(topic);
      return {
        topic,
        exists: partitions !== undefined,
        partitions: partitions?.length ?? 0,
        messages: (partitions ?? []).reduce((sum, p) => sum + Math.max(0, p.high - p.low), 0),
        oldest: time ? new Date(time.oldest).toISOString() : null,
        newest: time ? new Date(time.newest).toISOString() : null,
      };
    });
  }

  /** Up to `limit` messages, from `offset` (or the start) of each partition, in partition and offset order. */
  async show(
    topic: string,
    options: { limit: number; offset?: number; partition?: number },
  ): Promise<DeadLetterMessage[]> {
    const offsets = this.selectPartitions(await this.topicOffsets(topic), options.partition);
    const segments = offsets.map(({ partition, low, high }) => {
      const from = Math.max(low, options.offset ?? low);
      return { topic, partition, from, to: Math.min(high, from + options.limit) };
    });
    const messages: DeadLetterMessage[] = [];
    await this.readOnce(segments, async (records) => {
      messages.push(...records.map(toDeadLetterMessage));
    });
    return messages.sort((a, b) => a.partition - b.partition || a.offset - b.offset).slice(0, options.limit);
  }

  /**
   * Re-publishes dead-lettered messages to the topic they came from (`x-original-topic`), with their key and their
   * own headers (the runtime's retry and dead-letter headers dropped), and records what was replayed so that a
   * second run does not replay it again. Only messages beyond the record are read unless `fromBeginning`.
   * A crash between publishing and recording can replay a message twice; every consumer here is idempotent.
   */
  async replay(
    topic: string,
    options: { filter: MessageFilter; dryRun: boolean; fromBeginning: boolean },
  ): Promise<ReplayReport> {
    const { filter, dryRun, fromBeginning } = options;
    const all = await this.topicOffsets(topic);
    const offsets = this.selectPartitions(all, filter.partition);
    if (filter.offset !== undefined && filter.partition === undefined && all.length > 1) {
      throw new DeadLetterRequestError(
        `--offset needs --partition: ${topic} has ${all.length} partitions`,
        'invalid',
      );
    }
    const groupId = replayGroupId(topic);
    if (!dryRun) await this.assertNoReplayRunning(groupId, topic);
    const before = await this.replayRecords(groupId, topic, all);
    const present = new Set(await this.kafka.listTopics());
    const producer = dryRun ? undefined : await this.kafka.producer();

    const segments: ReadSegment[] = [];
    for (const { partition, low, high } of offsets) {
      const record = before.get(partition) as ReplayRecord;
      let from = fromBeginning ? low : Math.max(low, record.watermark);
      let to = high;
      if (filter.offset !== undefined) {
        from = Math.max(from, filter.offset);
        to = Math.min(to, filter.offset + 1);
      }
      segments.push({ topic, partition, from, to });
    }
    // Per partition: offsets replayed now, and how far everything was read in order and is replayed.
    const replayedNow = new Map<number, number[]>();
    const readThrough = new Map<number, number | undefined>();
    for (const segment of segments) {
      const record = before.get(segment.partition) as ReplayRecord;
      // Reading from at or below the watermark covers everything above it in order, until a record is left out.
      const low = all.find((p) => p.partition === segment.partition)?.low ?? 0;
      const contiguous = segment.from <= Math.max(record.watermark, low);
      readThrough.set(segment.partition, contiguous ? segment.from : undefined);
      replayedNow.set(segment.partition, []);
    }
    const messages: ReplayedMessage[] = [];

    const onRecords = async (records: readonly ReadRecord[]): Promise<void> => {
      const publishes: Promise<void>[] = [];
      for (const record of records) {
        const message = toDeadLetterMessage(record);
        const outcome = this.replayOutcome(
          message,
          before.get(record.partition) as ReplayRecord,
          options,
          present,
        );
        messages.push({
          partition: message.partition,
          offset: message.offset,
          key: message.key,
          originTopic: message.originTopic,
          reason: message.reason,
          outcome,
        });
        const through = readThrough.get(record.partition);
        const counts = outcome === 'replayed' || outcome === 'would-replay' || outcome === 'already-replayed';
        readThrough.set(record.partition, through !== undefined && counts ? record.offset + 1 : undefined);
        if (outcome !== 'replayed' || !producer) continue;
        replayedNow.get(record.partition)?.push(record.offset);
        publishes.push(
          producer.publishRaw(message.originTopic as string, {
            key: record.key,
            value: record.value,
            headers: {
              ...replayHeaders(message.headers),
              [REPLAYED_FROM_HEADER]: `${topic}/${record.partition}/${record.offset}`,
            },
          }),
        );
      }
      await Promise.all(publishes);
    };

    const after = new Map<number, ReplayRecord>();
    for (const { partition } of all) after.set(partition, before.get(partition) as ReplayRecord);
    const warnings: string[] = [];
    const commit = async (consumer: Consumer): Promise<void> => {
      const commits: { topic: string; partition: number; offset: string; metadata: string }[] = [];
      for (const segment of segments) {
        const old = before.get(segment.partition) as ReplayRecord;
        const through = readThrough.get(segment.partition);
        const next = advance(old, replayedNow.get(segment.partition) ?? [], through);
        let metadata = encodeReplayMetadata(next);
        if (metadata.length > MAX_METADATA_LENGTH) {
          warnings.push(
            `partition ${segment.partition}: too many scattered replayed offsets to record; only those below ${next.watermark} are recorded (run an unfiltered replay to consolidate)`,
          );
          metadata = encodeReplayMetadata({ watermark: next.watermark, replayed: new Set() });
        }
        after.set(segment.partition, next);
        commits.push({ topic, partition: segment.partition, offset: String(next.watermark), metadata });
      }
      await consumer.commitOffsets(commits);
    };

    if (dryRun) {
      await this.readOnce(segments, onRecords);
    } else {
      await readSegments(this.kafka.consumerKafka, {
        groupId,
        segments,
        idleTimeoutMs: this.readTimeoutMs,
        onRecords,
        beforeLeave: commit,
      });
    }

    const counts: Record<ReplayOutcome, number> = {
      replayed: 0,
      'would-replay': 0,
      'already-replayed': 0,
      'filtered-out': 0,
      'no-origin': 0,
      'origin-missing': 0,
    };
    for (const message of messages) counts[message.outcome] += 1;
    return {
      topic,
      groupId,
      dryRun,
      fromBeginning,
      counts,
      messages: messages.sort((a, b) => a.partition - b.partition || a.offset - b.offset),
      record: [...after].map(([partition, record]) => ({
        partition,
        watermark: record.watermark,
        replayedAbove: [...record.replayed].sort((a, b) => a - b),
      })),
      warnings,
    };
  }

  /** What `purge` would delete: records before `before` (or all of them) of the selected partitions. */
  async purgePlan(topic: string, options: { before?: number; partition?: number }): Promise<PurgePlan> {
    const offsets = this.selectPartitions(await this.topicOffsets(topic), options.partition);
    const partitions = offsets.map(({ partition, low, high }) => ({
      partition,
      low,
      high,
      deleteBefore: Math.min(high, Math.max(low, options.before ?? high)),
    }));
    return { topic, partitions, records: partitions.reduce((sum, p) => sum + (p.deleteBefore - p.low), 0) };
  }

  /** Deletes the planned records (Kafka moves each partition's low watermark; offsets are never reused). */
  async purge(plan: PurgePlan): Promise<void> {
    const partitions = plan.partitions
      .filter((p) => p.deleteBefore > p.low)
      .map((p) => ({ partition: p.partition, offset: String(p.deleteBefore) }));
    if (partitions.length === 0) return;
    await (await this.kafka.admin()).deleteTopicRecords({ topic: plan.topic, partitions });
  }

  private replayOutcome(
    message: DeadLetterMessage,
    record: ReplayRecord,
    options: { filter: MessageFilter; dryRun: boolean; fromBeginning: boolean },
    present: ReadonlySet<string>,
  ): ReplayOutcome {
    if (!matches(message, options.filter)) return 'filtered-out';
    if (!options.fromBeginning && isReplayed(record, message.offset)) return 'already-replayed';
    if (message.originTopic === null) return 'no-origin';
    if (!present.has(message.originTopic)) return 'origin-missing';
    return options.dryRun ? 'would-replay' : 'replayed';
  }

  /**
   * A second replay of the same topic would join the same group, take partitions from the first, and leave both
   * waiting for partitions they no longer own: refuse it (a small race remains between this check and joining).
   */
  private async assertNoReplayRunning(groupId: string, topic: string): Promise<void> {
    const { groups } = await (await this.kafka.admin()).describeGroups([groupId]);
    const members = groups[0]?.members.length ?? 0;
    if (members > 0) {
      throw new DeadLetterRequestError(
        `Another replay of ${topic} is running (consumer group ${groupId} has ${members} member(s))`,
        'conflict',
      );
    }
  }

  private async replayRecords(
    groupId: string,
    topic: string,
    partitions: readonly PartitionOffsets[],
  ): Promise<Map<number, ReplayRecord>> {
    const admin = await this.kafka.admin();
    const [entry] = await admin.fetchOffsets({ groupId, topics: [topic] });
    const records = new Map<number, ReplayRecord>();
    for (const { partition } of partitions) {
      const committed = entry?.partitions.find((p) => p.partition === partition);
      records.set(partition, decodeReplayRecord(committed?.offset ?? -1, committed?.metadata ?? null));
    }
    return records;
  }

  private async topicOffsets(topic: string): Promise<PartitionOffsets[]> {
    const topics = await this.kafka.listTopics();
    if (!topics.includes(topic))
      throw new DeadLetterRequestError(`Topic ${topic} does not exist`, 'not-found');
    return this.kafka.offsets(topic);
  }

  private selectPartitions(offsets: PartitionOffsets[], partition: number | undefined): PartitionOffsets[] {
    if (partition === undefined) return offsets;
    const selected = offsets.filter((p) => p.partition === partition);
    if (selected.length === 0) {
      throw new DeadLetterRequestError(
        `Partition ${partition} does not exist (the topic has ${offsets.length} partitions)`,
        'not-found',
      );
    }
    return selected;
  }

  private lastReaderGroup: string | undefined;

  private async readOnce(
    segments: readonly ReadSegment[],
    onRecords: (records: readonly ReadRecord[]) => Promise<void>,
  ): Promise<void> {
    if (segments.every((segment) => segment.to <= segment.from)) return;
    this.lastReaderGroup = this.kafka.readerGroupId();
    try {
      await readSegments(this.kafka.consumerKafka, {
        groupId: this.lastReaderGroup,
        segments,
        idleTimeoutMs: this.readTimeoutMs,
        onRecords,
      });
    } finally {
      await this.deleteReaderGroupQuietly();
    }
  }

  private async deleteReaderGroupQuietly(): Promise<void> {
    const groupId = this.lastReaderGroup;
    if (groupId === undefined) return;
    this.lastReaderGroup = undefined;
    // Best effort: the group never committed anything and an empty group expires on its own.
    await (await this.kafka.admin()).deleteGroups([groupId]).catch(() => undefined);
  }
}

export function matches(message: DeadLetterMessage, filter: MessageFilter): boolean {
  if (filter.partition !== undefined && message.partition !== filter.partition) return false;
  if (filter.offset !== undefined && message.offset !== filter.offset) return false;
  if (filter.key !== undefined && message.key !== filter.key) return false;
  if (filter.reason !== undefined && message.reason !== filter.reason) return false;
  if (filter.origin !== undefined && message.originTopic !== filter.origin) return false;
  if (filter.errorClass !== undefined && message.errorClass !== filter.errorClass) return false;
  if (
    filter.errorContains !== undefined &&
    !(message.error ?? '').toLowerCase().includes(filter.errorContains.toLowerCase())
  ) {
    return false;
  }
  for (const [name, value] of Object.entries(filter.headers ?? {})) {
    if (message.headers[name] !== value) return false;
  }
  return true;
}
