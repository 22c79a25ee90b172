import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { type TopicDefinition } from '@notifications/contracts';
import { type Admin, type Consumer, type Kafka } from 'kafkajs';
import { InfrastructureUnavailableError } from './errors';
import { type MessagingLogger } from './logger';

export interface TopicFollowerOptions<T> {
  readonly topic: TopicDefinition<T>;
  /**
   * The follower's consumer group is `<prefix>.<host>-<pid>-<random>`: its own per process, so every process reads
   * the whole topic. It never commits, so the broker keeps no offsets for it.
   */
  readonly groupIdPrefix: string;
  /** Each valid record, in offset order per partition (`timestamp`: the record's Kafka timestamp, ms). */
  readonly onMessage: (message: T, timestamp: number) => void;
  /** How long {@link TopicFollower.caughtUp} waits before it gives up (fail closed). Default 10 s. */
  readonly catchUpTimeoutMs?: number;
}

interface Waiter {
  readonly promise: Promise<void>;
  resolve(): void;
  reject(error: unknown): void;
}

function waiter(): Waiter {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // A caller may not await it before it settles (it always does; this keeps a rejection from being "unhandled").
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

const DEFAULT_CATCH_UP_TIMEOUT_MS = 10_000;

/**
 * Reads a whole topic in every process — a replicated set of facts, such as halted orders — and answers "have I
 * read everything that was acknowledged before I asked?" ({@link caughtUp}).
 *
 * `caughtUp()` fetches the topic's end offsets (ListOffsets, latest = the high watermark) in a request that starts
 * **after** the call, then waits until the reader has consumed every partition up to them. A record whose `acks=all`
 * produce was acknowledged before the call is committed, below the high watermark, hence below those end offsets,
 * and therefore read when the promise resolves (apps/orders README, "Halt", for the Kafka documentation). Calls
 * made while a ListOffsets request is under way share the next one, so the cost is at most one request in flight
 * however many callers; errors and timeouts reject (fail closed: the caller must not act as if it knew).
 *
 * On a hot path one round trip per check is too dear (email-sender sends thousands of emails a second):
 * {@link caughtUpWithin} answers at once from the last completed catch-up while it is younger than a window, and
 * refreshes in the background from half the window on, so steady callers never wait and the cost is about two
 * requests per window however many checks. What it promises is weaker by exactly the window: records acknowledged
 * more than `maxAgeMs` before the call are known. A writer that needs "known from my answer on" waits out the
 * window after the acknowledgement before it answers (orders does for a halt).
 */
export class TopicFollower<T> {
  private readonly consumer: Consumer;
  private readonly admin: Admin;
  /** Per partition: the next offset the reader will hand over (last consumed + 1). */
  private readonly positions = new Map<number, bigint>();
  private readonly progressListeners = new Set<() => void>();
  private waiting: Waiter | undefined;
  private syncing = false;
  private startup: Promise<void> | undefined;
  private readonly catchUpTimeoutMs: number;
  /**
   * `performance.now()` when the ListOffsets request of the latest completed catch-up was sent: every record
   * acknowledged before that moment has been handed over. `-Infinity` until the first one.
   */
  private knownAsOf = Number.NEGATIVE_INFINITY;
  /** ListOffsets requests made (for the stats and the benchmark of its cost). */
  offsetRequests = 0;

  constructor(
    kafka: Kafka,
    private readonly options: TopicFollowerOptions<T>,
    private readonly logger: MessagingLogger,
  ) {
    const groupId = `${options.groupIdPrefix}.${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
    this.consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100, allowAutoTopicCreation: false });
    this.admin = kafka.admin();
    this.catchUpTimeoutMs = options.catchUpTimeoutMs ?? DEFAULT_CATCH_UP_TIMEOUT_MS;
  }

  /** Connects and starts reading from the beginning; `caughtUp()` calls made meanwhile wait for it. */
  start(): Promise<void> {
    this.startup ??= this.connectAndRun();
    return this.startup;
  }

  private async connectAndRun(): Promise<void> {
    const { topic } = this.options;
    await this.admin.connect();
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [topic.name], fromBeginning: true });
    await this.consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch, heartbeat }) => {
        for (const message of batch.messages) {
          try {
            this.options.onMessage(topic.contract.parse(message.value), Number(message.timestamp));
          } catch (error) {
            // Nothing to retry or dead-letter per process: a record that is not valid is skipped, loudly.
            this.logger.warn(`${topic.name}: record at offset ${message.offset} skipped: ${String(error)}`, {
              topic: topic.name,
              partition: batch.partition,
              offset: message.offset,
            });
          }
          this.positions.set(batch.partition, BigInt(message.offset) + 1n);
        }
        await heartbeat();
        this.progressed();
      },
    });
  }

  async stop(): Promise<void> {
    if (this.startup === undefined) return;
    await this.startup.catch(() => undefined);
    this.startup = undefined;
    this.knownAsOf = Number.NEGATIVE_INFINITY;
    await Promise.allSettled([this.consumer.disconnect(), this.admin.disconnect()]);
  }

  /** Resolves once everything acknowledged on the topic before this call has been handed to `onMessage`. */
  caughtUp(): Promise<void> {
    const waiting = (this.waiting ??= waiter());
    if (!this.syncing) void this.runSyncs();
    return waiting.promise;
  }

  /**
   * Resolves once everything acknowledged on the topic more than `maxAgeMs` before this call has been handed to
   * `onMessage`: at once while the last catch-up is that fresh (starting a background one from half its age on),
   * otherwise like {@link caughtUp}. Rejects like it when the reader cannot catch up (fail closed).
   */
  caughtUpWithin(maxAgeMs: number): Promise<void> {
    const age = performance.now() - this.knownAsOf;
    if (age >= maxAgeMs) return this.caughtUp();
    // A failing refresh is not this caller's concern: once the window has passed, a caller waits and sees it.
    if (age >= maxAgeMs / 2 && !this.syncing) void this.caughtUp().catch(() => undefined);
    return Promise.resolve();
  }

  private async runSyncs(): Promise<void> {
    this.syncing = true;
    try {
      while (this.waiting !== undefined) {
        // Every caller waiting now is served by a ListOffsets request that starts after its call.
        const served = this.waiting;
        this.waiting = undefined;
        try {
          await this.sync();
          served.resolve();
        } catch (error) {
          served.reject(
            error instanceof InfrastructureUnavailableError
              ? error
              : new InfrastructureUnavailableError('kafka', `${this.options.topic.name}: ${String(error)}`, {
                  cause: error,
                }),
          );
        }
      }
    } finally {
      this.syncing = false;
    }
  }

  private async sync(): Promise<void> {
    if (this.startup === undefined)
      throw new InfrastructureUnavailableError('kafka', 'the topic follower is not running');
    await this.startup;
    this.offsetRequests += 1;
    const requestedAt = performance.now();
    const offsets = await this.admin.fetchTopicOffsets(this.options.topic.name);
    const targets = offsets.map((partition) => ({
      partition: partition.partition,
      low: BigInt(partition.low),
      high: BigInt(partition.high),
    }));
    const caughtUp = (): boolean =>
      targets.every(
        ({ partition, low, high }) => high <= low || (this.positions.get(partition) ?? low) >= high,
      );
    if (!caughtUp())
      await new Promise<void>((resolve, reject) => {
        const listener = (): void => {
          if (!caughtUp()) return;
          clearTimeout(timer);
          this.progressListeners.delete(listener);
          resolve();
        };
        const timer = setTimeout(() => {
          this.progressListeners.delete(listener);
          reject(
            new InfrastructureUnavailableError(
              'kafka',
              `${this.options.topic.name} not read up to its end within ${this.catchUpTimeoutMs} ms`,
            ),
          );
        }, this.catchUpTimeoutMs);
        this.progressListeners.add(listener);
      });
    this.knownAsOf = Math.max(this.knownAsOf, requestedAt);
  }

  private progressed(): void {
    for (const listener of [...this.progressListeners]) listener();
  }
}
