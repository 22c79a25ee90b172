import { type Consumer, type IHeaders, type Kafka } from 'kafkajs';

/** Records `from` (inclusive) to `to` (exclusive) of one partition. */
export interface ReadSegment {
  readonly topic: string;
  readonly partition: number;
  readonly from: number;
  readonly to: number;
}

export interface ReadRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: IHeaders;
  /** Record timestamp (epoch ms). */
  readonly timestamp: number;
}

export interface ReadOptions {
  readonly groupId: string;
  readonly segments: readonly ReadSegment[];
  /** Give up when no record arrives for this long although some are still expected. */
  readonly idleTimeoutMs: number;
  /** The records of one fetched batch that lie in a segment, in offset order (one partition). */
  onRecords(records: readonly ReadRecord[]): Promise<void>;
  /** Runs while the consumer is still a group member, after every segment was read (e.g. to commit). */
  beforeLeave?(consumer: Consumer): Promise<void>;
}

interface PartitionState {
  readonly topic: string;
  readonly partition: number;
  /** Remaining segments, first = current. */
  readonly segments: ReadSegment[];
  /** The next offset wanted. */
  position: number;
}

const key = (topic: string, partition: number): string => `${topic}\u0000${partition}`;

/**
 * Reads given offset ranges with a consumer of `groupId` and stops at their ends (the topic may keep growing).
 * kafkajs has no manual partition assignment, so the consumer joins a group; the positions are set by seeks
 * made when it joins (before the first fetch), so whatever the group had committed does not matter, and the
 * consumer never commits on its own (`beforeLeave` may).
 */
export async function readSegments(kafka: Kafka, options: ReadOptions): Promise<void> {
  const states = new Map<string, PartitionState>();
  for (const segment of [...options.segments].sort((a, b) => a.from - b.from)) {
    if (segment.to <= segment.from) continue;
    const id = key(segment.topic, segment.partition);
    const state = states.get(id);
    if (state) state.segments.push(segment);
    else
      states.set(id, {
        topic: segment.topic,
        partition: segment.partition,
        segments: [segment],
        position: segment.from,
      });
  }
  if (states.size === 0) return;
  const topics = [...new Set([...states.values()].map((state) => state.topic))];
  let pending = states.size;
  let failed = false;

  let finish: (error?: unknown) => void = () => undefined;
  const finished = new Promise<void>((resolve, reject) => {
    finish = (error?: unknown) => (error === undefined ? resolve() : reject(error));
  });
  let idleTimer: NodeJS.Timeout | undefined;
  const armIdleTimer = (): void => {
    if (idleTimer) clearTimeout(idleTimer);
    idleTimer = setTimeout(() => {
      const waiting = [...states.values()]
        .filter((state) => state.segments.length > 0)
        .map((state) => `${state.topic}[${state.partition}] at ${state.position}`);
      finish(
        new Error(
          `No records arrived for ${options.idleTimeoutMs} ms while still expecting some (${waiting.join(', ')})`,
        ),
      );
    }, options.idleTimeoutMs);
  };

  const consumer = kafka.consumer({
    groupId: options.groupId,
    maxWaitTimeInMs: 100,
    allowAutoTopicCreation: false,
    retry: { retries: 5, initialRetryTime: 200 },
  });
  const seekAll = (): void => {
    for (const state of states.values()) {
      if (state.segments.length > 0)
        consumer.seek({ topic: state.topic, partition: state.partition, offset: String(state.position) });
    }
  };
  // Seeks made when the group is joined (and re-joined) are applied before the next fetch.
  consumer.on(consumer.events.GROUP_JOIN, seekAll);
  consumer.on(consumer.events.CRASH, (event) => finish(event.payload.error));

  const complete = (state: PartitionState): void => {
    state.segments.shift();
    const next = state.segments[0];
    if (next) {
      state.position = next.from;
      consumer.seek({ topic: state.topic, partition: state.partition, offset: String(next.from) });
      return;
    }
    consumer.pause([{ topic: state.topic, partitions: [state.partition] }]);
    pending -= 1;
    if (pending === 0) finish();
  };

  try {
    await consumer.connect();
    await consumer.subscribe({ topics, fromBeginning: true });
    armIdleTimer();
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, isStale }) => {
        const state = states.get(key(batch.topic, batch.partition));
        if (failed || !state || state.segments.length === 0) return;
        armIdleTimer();
        const records: ReadRecord[] = [];
        for (const message of batch.messages) {
          if (isStale()) break;
          const offset = Number(message.offset);
          const segment = state.segments[0];
          if (!segment || offset < state.position) continue;
          if (offset >= segment.to) {
            if (await deliver(records)) complete(state);
            // A seek (next segment) or a pause makes the rest of this batch irrelevant.
            return;
          }
          records.push({
            topic: batch.topic,
            partition: batch.partition,
            offset,
            key: message.key,
            value: message.value,
            headers: message.headers ?? {},
            timestamp: Number(message.timestamp),
          });
          state.position = offset + 1;
        }
        if (!(await deliver(records))) return;
        const segment = state.segments[0];
        if (segment && state.position >= segment.to) complete(state);
      },
    });
    await finished;
    if (options.beforeLeave) await options.beforeLeave(consumer);
  } finally {
    if (idleTimer) clearTimeout(idleTimer);
    await consumer.disconnect();
  }

  /** False once a delivery failed: nothing more is delivered (kafkajs would otherwise re-deliver the batch). */
  async function deliver(records: ReadRecord[]): Promise<boolean> {
    if (failed) return false;
    if (records.length === 0) return true;
    try {
      await options.onRecords(records.splice(0));
      return true;
    } catch (error) {
      failed = true;
      finish(error);
      return false;
    }
  }
}
