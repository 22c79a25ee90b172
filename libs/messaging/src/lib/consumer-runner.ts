import { type TopicDefinition } from '@notifications/contracts';
import { type Consumer, type EachBatchPayload, type Kafka, type KafkaMessage } from 'kafkajs';
import { boundedDelayMs } from './bounded-delay';
import { ConsumerStats, type ConsumerStatsSnapshot } from './consumer-stats';
import {
  PermanentError,
  TransientError,
  describeError,
  infrastructureOutageOf,
  type InfrastructureUnavailableError,
} from './errors';
import {
  MessagingHeaders,
  decodeHeaders,
  headerInt,
  truncateForHeader,
  type DeadLetterReason,
  type StringHeaders,
} from './headers';
import {
  InstrumentationHub,
  type ConsumedMessageInfo,
  type MessageOutcome,
  type OutagePause,
} from './instrumentation';
import { errorFields, type MessagingLogger } from './logger';
import { processPartitionBatch, processPartitionChunks, type PartitionBatchOptions } from './partition-batch';
import { RecordTooLargeError, type MessageProducer } from './producer';
import { DEFAULT_RETRY_POLICY, retryDelayMs, type RetryPolicy } from './retry-policy';
import { inConsumerBatchSpan, inConsumerSpan, isTracingActive } from './tracing';

export interface MessageContext {
  /** The topic the handler is registered for (the main topic, also when the message came from its retry topic). */
  readonly topic: string;
  /** The topic the message was actually read from. */
  readonly receivedFrom: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: string | undefined;
  readonly headers: Readonly<StringHeaders>;
  /** The record's Kafka timestamp (ms since the epoch, as kafkajs gives it); on a retry topic, the retry's. */
  readonly timestamp: string;
  /** 1 on first delivery, then 2, 3, … on retries. */
  readonly attempt: number;
  /**
   * True when this member may not be the first to read the message: it lies below the partition's high watermark
   * at this member's first fetch after joining the group, so an earlier owner (crashed, or this member before a
   * rebalance) may have handled it without committing. Messages produced after that fetch are false. Handlers
   * with an external side effect check for it before repeating the effect.
   */
  readonly maybeHandledBefore: boolean;
  readonly maxAttempts: number;
  readonly isLastAttempt: boolean;
  /** Keeps the group membership alive during a long handler (also done automatically every few seconds). */
  heartbeat(): Promise<void>;
}

export type MessageHandler<T> = (message: T, context: MessageContext) => Promise<void>;

/** One valid message of a batch handed to `handleBatch`. */
export interface BatchMessage<T> {
  readonly message: T;
  readonly context: MessageContext;
}

export const DEFAULT_MAX_BATCH_SIZE = 500;

/** What a batch handler may report: the messages (by index in the batch) that failed, each with its error. */
export interface BatchOutcome {
  readonly failures: ReadonlyMap<number, unknown>;
}

export interface HandlerRegistration<T> {
  readonly topic: TopicDefinition<T>;
  /** A method (not a property) so a registration for one payload type is also a HandlerRegistration<unknown>. */
  handle(message: T, context: MessageContext): Promise<void>;
  /**
   * Optional: handles the valid messages of one partition's fetched batch at once (at most `maxBatchSize`, in
   * offset order; the handler keeps their order per key). Invalid messages are dead-lettered before it is called.
   * Resolving without `failures` means every message was handled; each message listed in `failures` is routed as
   * if `handle` had thrown its error (retry topic, dead-letter topic, or an outage pause that re-reads the chunk),
   * the others count as handled. Throwing InfrastructureUnavailableError pauses the partition and the messages are
   * read again, as for `handle`. Throwing anything else makes the runner handle the same messages once more, one at
   * a time through `handle`, so each failing message alone is retried or dead-lettered: a batch handler must
   * therefore be idempotent for messages it already applied before it threw.
   */
  handleBatch?(messages: readonly BatchMessage<T>[]): Promise<BatchOutcome | void>;
  /** Most messages per `handleBatch` call; default {@link DEFAULT_MAX_BATCH_SIZE}. */
  readonly maxBatchSize?: number;
  readonly retryPolicy?: RetryPolicy;
  /**
   * The main topic is a delay topic: like a retry topic, a message is not handled before its `x-due-at` header
   * (the partition pauses until the head message is due). For topics whose producers set `x-due-at` — e.g.
   * status-poller's delay tiers; a message without the header is due at once. Such a topic needs no retry topic:
   * without one, a failed message is retried into the topic itself (gated by its new `x-due-at`).
   */
  readonly gatedByDueAt?: boolean;
}

export interface ConsumerRunnerOptions {
  readonly groupId: string;
  /** Partitions handled concurrently. */
  readonly partitionConcurrency?: number;
  /** Messages of one partition handled concurrently (always one at a time per key). */
  readonly perPartitionConcurrency?: number;
  readonly sessionTimeoutMs?: number;
  /** Upper bound on a graceful stop: in-flight messages get this long to finish before we leave the group. */
  readonly shutdownTimeoutMs?: number;
  /** How long a fetch waits for new data; also bounds how late a resumed retry partition is read. */
  readonly maxWaitTimeMs?: number;
  /**
   * The most one fetch returns per partition (kafkajs `maxBytesPerPartition`, default 1 MiB; the broker still
   * returns a larger first record batch whole). kafkajs holds a fetch, decoded, until every batch of it is handled.
   */
  readonly maxBytesPerPartition?: number;
  readonly retryPolicy?: RetryPolicy;
  /**
   * While shared infrastructure is unavailable (InfrastructureUnavailableError, a broker that does not answer), a
   * partition is paused for this long, doubling per consecutive outage pause up to `maxDelayMs`; default 1 s → 30 s.
   */
  readonly outageBackoff?: { readonly initialDelayMs: number; readonly maxDelayMs: number };
  /**
   * `health()` reports the consumer stalled when it is in its group, a partition it reads (not paused) has lag,
   * and no fetch completed for this long; default 5 min (well above kafkajs' own retry budget of about a minute
   * before it restarts a consumer that lost the broker, which `health()` does not count as a stall).
   */
  readonly stallThresholdMs?: number;
}

/** Whether the consumer still consumes; a dead consumer is only cured by restarting the process. */
export type ConsumerHealth = { readonly alive: true } | { readonly alive: false; readonly reason: string };

export const DEFAULT_OUTAGE_BACKOFF = { initialDelayMs: 1_000, maxDelayMs: 30_000 } as const;
export const DEFAULT_STALL_THRESHOLD_MS = 5 * 60_000;

export type ConsumerState = 'idle' | 'starting' | 'running' | 'stopping' | 'stopped' | 'crashed';

interface Route {
  readonly registration: HandlerRegistration<unknown>;
  readonly retryPolicy: RetryPolicy;
  /** Messages wait for their `x-due-at` (a retry topic, or a main topic registered `gatedByDueAt`). */
  readonly gated: boolean;
}

/** How far a consumer is behind on one partition, from its own fetches (no broker round trip). */
export interface PartitionLag {
  readonly topic: string;
  readonly partition: number;
  /** The partition's high watermark as of the last fetch minus the next offset to process. */
  readonly lag: number;
}

interface PartitionProgress {
  readonly topic: string;
  readonly partition: number;
  highWatermark: number;
  nextOffset: number;
  /** The high watermark of the first fetch after (re)joining: offsets below it may have been handled before. */
  readonly firstFetchHighWatermark: number;
}

interface PartitionMessage {
  readonly offset: string;
  readonly key: string | undefined;
  readonly message: KafkaMessage;
  readonly headers: StringHeaders;
  readonly maybeHandledBefore: boolean;
  /** Set when a batch already parsed it (the per-message fallback then does not parse it again). */
  readonly parsed?: { readonly value: unknown };
  /** Set when a batch handler reported this message as failed: routed as if `handle` had thrown this. */
  readonly failed?: { readonly error: unknown };
}

/**
 * At-least-once consumer over kafkajs.
 *
 * Every message ends in exactly one of: handled, re-published to its retry topic, or re-published to its
 * dead-letter topic — and only after that outcome is acknowledged by the broker is its offset resolved for
 * commit. Anything else (broker unreachable, rebalance, shutdown mid-batch) leaves the offset unresolved, so the
 * message is read again. Invalid messages are dead-lettered without retries and never stop the partition.
 *
 * Retry topics hold messages with an `x-due-at` header; the consumer pauses such a partition until the head
 * message is due instead of sleeping in the handler, so heartbeats and other partitions carry on.
 */
export class ConsumerRunner {
  private readonly consumer: Consumer;
  private readonly routes = new Map<string, Route>();
  private readonly stats = new ConsumerStats();
  private readonly resumeTimers = new Set<NodeJS.Timeout>();
  private readonly partitionConcurrency: number;
  private readonly perPartitionConcurrency: number;
  private readonly shutdownTimeoutMs: number;
  private readonly heartbeatIntervalMs: number;
  private readonly progress = new Map<string, PartitionProgress>();
  /** Partitions paused by this runner (retry not due yet, or an outage): a paused partition with lag is no stall. */
  private readonly pausedPartitions = new Set<string>();
  private readonly outagePauses = new Map<string, OutagePause>();
  /** Consecutive outage pauses per partition (the backoff exponent) and when the run began. */
  private readonly outageStreaks = new Map<string, { count: number; since: number }>();
  private readonly outageBackoff: { readonly initialDelayMs: number; readonly maxDelayMs: number };
  private readonly stallThresholdMs: number;
  private currentState: ConsumerState = 'idle';
  private lastCrash: string | undefined;
  /** In the group with an assignment (GROUP_JOIN seen, no crash or stop since). */
  private inGroup = false;
  private lastFetchAt = 0;

  constructor(
    kafka: Kafka,
    private readonly producer: MessageProducer,
    private readonly logger: MessagingLogger,
    private readonly options: ConsumerRunnerOptions,
    registrations: readonly HandlerRegistration<unknown>[],
    private readonly instrumentation: InstrumentationHub = new InstrumentationHub(),
  ) {
    const sessionTimeout = options.sessionTimeoutMs ?? 30_000;
    this.heartbeatIntervalMs = Math.max(500, Math.floor(sessionTimeout / 10));
    this.partitionConcurrency = options.partitionConcurrency ?? 3;
    this.perPartitionConcurrency = options.perPartitionConcurrency ?? 1;
    this.shutdownTimeoutMs = options.shutdownTimeoutMs ?? 20_000;
    this.outageBackoff = options.outageBackoff ?? DEFAULT_OUTAGE_BACKOFF;
    this.stallThresholdMs = options.stallThresholdMs ?? DEFAULT_STALL_THRESHOLD_MS;
    for (const registration of registrations) this.addRoutes(registration);
    this.consumer = kafka.consumer({
      groupId: options.groupId,
      sessionTimeout,
      rebalanceTimeout: sessionTimeout * 2,
      heartbeatInterval: this.heartbeatIntervalMs,
      maxWaitTimeInMs: options.maxWaitTimeMs ?? 500,
      ...(options.maxBytesPerPartition === undefined
        ? {}
        : { maxBytesPerPartition: options.maxBytesPerPartition }),
      allowAutoTopicCreation: false,
      retry: { retries: 10, initialRetryTime: 300, maxRetryTime: 10_000 },
    });
    this.consumer.on(this.consumer.events.CRASH, (event) => {
      const { error, restart } = event.payload;
      this.lastCrash = error.message;
      // A restart re-joins the group (GROUP_JOIN); until then there is no assignment to stall on.
      this.inGroup = false;
      this.logger.error('Kafka consumer crashed', {
        groupId: options.groupId,
        restart,
        ...errorFields(error),
      });
      if (!restart) this.currentState = 'crashed';
    });
    this.consumer.on(this.consumer.events.GROUP_JOIN, (event) => {
      // The assignment may have changed: lag is reported for the partitions fetched from now on, and what an
      // earlier owner may have handled is measured again at the first fetch.
      this.progress.clear();
      this.inGroup = true;
      this.lastFetchAt = Date.now();
      this.logger.info('Joined consumer group', {
        groupId: options.groupId,
        memberId: event.payload.memberId,
        assignment: event.payload.memberAssignment,
      });
    });
    // Also emitted when every assigned partition is paused (kafkajs then fetches nothing and heartbeats).
    this.consumer.on(this.consumer.events.FETCH, () => {
      this.lastFetchAt = Date.now();
    });
  }

  get state(): ConsumerState {
    return this.currentState;
  }

  get topics(): string[] {
    return [...this.routes.keys()];
  }

  get groupId(): string {
    return this.options.groupId;
  }

  /** Per fetched partition: high watermark of the last fetch − next offset to process. Memory only. */
  partitionLag(): PartitionLag[] {
    return [...this.progress.values()].map(({ topic, partition, highWatermark, nextOffset }) => ({
      topic,
      partition,
      lag: Math.max(0, highWatermark - nextOffset),
    }));
  }

  statistics(): ConsumerStatsSnapshot & { state: ConsumerState; lastCrash?: string } {
    return {
      ...this.stats.snapshot(),
      state: this.currentState,
      ...(this.lastCrash ? { lastCrash: this.lastCrash } : {}),
    };
  }

  /** Partitions paused right now because shared infrastructure is unavailable. */
  outagePaused(): OutagePause[] {
    return [...this.outagePauses.values()];
  }

  /**
   * Alive unless the consumer crashed without kafkajs restarting it, has stopped, or stalled: in its group, a
   * partition it is not pausing on purpose has lag, and no fetch completed for `stallThresholdMs`. Meant for the
   * liveness probe: restarting the process is the cure for each, and none is reported during an outage (paused
   * partitions do not count; kafkajs restarts a consumer that lost the broker, which leaves the group).
   */
  health(now = Date.now()): ConsumerHealth {
    if (this.currentState === 'crashed')
      return { alive: false, reason: `crashed: ${this.lastCrash ?? 'unknown error'}` };
    // Stopping = draining on shutdown: let it finish rather than have the probe kill it.
    if (this.currentState === 'stopped') return { alive: false, reason: 'stopped' };
    if (this.currentState !== 'running' || !this.inGroup) return { alive: true };
    const silentMs = now - this.lastFetchAt;
    if (silentMs <= this.stallThresholdMs) return { alive: true };
    const waiting = [...this.progress.entries()].find(
      ([key, p]) => !this.pausedPartitions.has(key) && p.highWatermark > p.nextOffset,
    );
    if (waiting === undefined) return { alive: true };
    const [, p] = waiting;
    return {
      alive: false,
      reason: `stalled: no fetch for ${Math.round(silentMs / 1000)} s while ${p.topic}[${p.partition}] has lag ${p.highWatermark - p.nextOffset}`,
    };
  }

  async start(): Promise<void> {
    if (this.currentState !== 'idle') throw new Error(`Consumer ${this.options.groupId} was already started`);
    this.currentState = 'starting';
    await this.consumer.connect();
    // New groups start at the earliest offset: a message published before the group first joined is still work.
    // A group without committed offsets (a fresh installation, or offsets expired after offsets.retention.minutes)
    // starts at the earliest retained record: nothing published before the first join is lost. Re-reading old
    // records is the consuming app's to bound (email-sender refuses emails older than EMAIL_MAX_MESSAGE_AGE_MS).
    await this.consumer.subscribe({ topics: this.topics, fromBeginning: true });
    await this.consumer.run({
      partitionsConsumedConcurrently: this.partitionConcurrency,
      eachBatchAutoResolve: false,
      autoCommit: true,
      autoCommitInterval: 1_000,
      eachBatch: (payload) => this.processBatch(payload),
    });
    this.currentState = 'running';
    this.logger.info('Consumer started', { groupId: this.options.groupId, topics: this.topics });
  }

  /** Stops fetching, lets in-flight messages finish (bounded), commits what finished, leaves the group. */
  async stop(): Promise<void> {
    if (this.currentState === 'stopped' || this.currentState === 'idle') {
      this.currentState = 'stopped';
      return;
    }
    this.currentState = 'stopping';
    this.inGroup = false;
    for (const timer of this.resumeTimers) clearTimeout(timer);
    this.resumeTimers.clear();
    this.pausedPartitions.clear();
    this.outagePauses.clear();
    let timedOut = false;
    const timeout = new Promise<void>((resolve) =>
      setTimeout(() => {
        timedOut = true;
        resolve();
      }, this.shutdownTimeoutMs).unref(),
    );
    await Promise.race([this.consumer.disconnect(), timeout]);
    if (timedOut) {
      this.logger.warn(
        'Consumer did not drain within the shutdown timeout; unfinished messages will be re-read',
        {
          groupId: this.options.groupId,
          shutdownTimeoutMs: this.shutdownTimeoutMs,
        },
      );
    }
    this.currentState = 'stopped';
    this.logger.info('Consumer stopped', { groupId: this.options.groupId, ...this.stats.snapshot() });
  }

  private addRoutes(registration: HandlerRegistration<unknown>): void {
    const { topic } = registration;
    const delayTopic = registration.gatedByDueAt === true;
    if (!topic.retryTopic && !delayTopic) {
      throw new Error(
        `Topic ${topic.name} has no retry topic; every consumed topic needs one so failures are not lost`,
      );
    }
    const retryPolicy = registration.retryPolicy ?? this.options.retryPolicy ?? DEFAULT_RETRY_POLICY;
    // A delay topic without a retry topic retries into itself: it is gated, so the retry waits its delay there.
    const names: (readonly [string, boolean])[] = [[topic.name, false]];
    if (topic.retryTopic) names.push([topic.retryTopic, true]);
    for (const [name, isRetryTopic] of names) {
      if (this.routes.has(name)) throw new Error(`Two handlers registered for topic ${name}`);
      const gated = isRetryTopic || registration.gatedByDueAt === true;
      this.routes.set(name, { registration, retryPolicy, gated });
    }
  }

  private isActive(): boolean {
    return this.currentState === 'running' || this.currentState === 'starting';
  }

  private async processBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    const route = this.routes.get(batch.topic);
    if (!route) throw new Error(`No handler for topic ${batch.topic}`);
    let revoked = false;
    // While a batch runs (possibly blocked on one slow message), keep the membership alive and commit what is
    // already resolved, so a crash re-reads as little as possible.
    const heartbeatTimer = setInterval(() => {
      payload
        .heartbeat()
        .then(() => payload.commitOffsetsIfNecessary())
        .catch((error: unknown) => {
          // Rebalance in progress: stop starting new messages; what is unresolved is re-read by the new owner.
          revoked = true;
          this.logger.warn('Heartbeat failed during a batch; stopping it', {
            topic: batch.topic,
            ...errorFields(error),
          });
        });
    }, this.heartbeatIntervalMs);
    const progressKey = `${batch.topic}:${batch.partition}`;
    let progress = this.progress.get(progressKey);
    if (progress === undefined) {
      progress = {
        topic: batch.topic,
        partition: batch.partition,
        highWatermark: 0,
        nextOffset: Number(batch.messages[0]?.offset ?? batch.highWatermark),
        firstFetchHighWatermark: Number(batch.highWatermark),
      };
      this.progress.set(progressKey, progress);
    }
    progress.highWatermark = Number(batch.highWatermark);
    const tracing = isTracingActive();
    const handledBeforeBelow = progress.firstFetchHighWatermark;
    try {
      const messages: PartitionMessage[] = batch.messages.map((message) => ({
        offset: message.offset,
        key: message.key === null ? undefined : message.key.toString('utf8'),
        message,
        headers: decodeHeaders(message.headers),
        maybeHandledBefore: Number(message.offset) < handledBeforeBelow,
      }));
      const common = {
        dueAt: (item: PartitionMessage) =>
          route.gated ? headerInt(item.headers, MessagingHeaders.dueAt) : undefined,
        // No `payload.isStale()` per message: it only turns true after a seek, which this runner never does, and it
        // costs a JSON.stringify inside kafkajs on every call.
        shouldContinue: () => this.isActive() && !revoked && payload.isRunning(),
        resolveOffset: (offset: string) => {
          (progress as PartitionProgress).nextOffset = Number(offset) + 1;
          payload.resolveOffset(offset);
        },
        commitIfNecessary: () => payload.commitOffsetsIfNecessary(),
      };
      const handleOne = (item: PartitionMessage) =>
        this.handleMessage(route, batch.topic, batch.partition, item, payload, tracing);
      const result =
        route.registration.handleBatch === undefined
          ? await processPartitionBatch({
              ...common,
              messages,
              concurrency: this.perPartitionConcurrency,
              handle: handleOne,
            })
          : await processPartitionChunks({
              ...common,
              messages,
              maxChunkSize: route.registration.maxBatchSize ?? DEFAULT_MAX_BATCH_SIZE,
              handleChunk: (chunk) =>
                this.handleChunk(route, batch.topic, batch.partition, chunk, payload, tracing, {
                  ...common,
                  handle: handleOne,
                }),
            });
      if (result.pausedUntil !== undefined)
        this.pauseUntil(payload, batch.topic, batch.partition, result.pausedUntil);
    } catch (error) {
      // Shared infrastructure is down (the handler said so, or a retry/dead-letter publish found no broker):
      // nothing was decided for the message, its offset stays unresolved, and it is read again after the pause.
      const outage = infrastructureOutageOf(error);
      if (outage === undefined || !this.isActive()) throw error;
      this.pauseForOutage(payload, batch.topic, batch.partition, outage);
    } finally {
      clearInterval(heartbeatTimer);
    }
  }

  private pauseUntil(payload: EachBatchPayload, topic: string, partition: number, dueAt: number): void {
    // `x-due-at` comes from a message header: never more than an hour (then re-checked), never a timer overflow.
    const delay = boundedDelayMs(dueAt - Date.now());
    this.logger.debug('Pausing retry partition until its next message is due', {
      topic,
      partition,
      delayMs: delay,
    });
    this.pauseFor(payload, `${topic}:${partition}`, delay);
  }

  /**
   * Pauses only this partition (kafkajs `pause()` of the batch's topic-partition): the consumer keeps fetching the
   * others and heartbeating, so a long pause neither costs the group membership nor moves the committed offset.
   * See https://kafka.js.org/docs/consuming#a-name-pause-resume-a-pause-resume ("pause … allows you to stop
   * consuming from a topic-partition without leaving the group").
   */
  private pauseFor(payload: EachBatchPayload, key: string, delayMs: number, onResume?: () => void): void {
    const resume = payload.pause();
    this.pausedPartitions.add(key);
    const timer = setTimeout(() => {
      this.resumeTimers.delete(timer);
      this.pausedPartitions.delete(key);
      onResume?.();
      resume();
    }, delayMs);
    this.resumeTimers.add(timer);
  }

  private pauseForOutage(
    payload: EachBatchPayload,
    topic: string,
    partition: number,
    outage: InfrastructureUnavailableError,
  ): void {
    const key = `${topic}:${partition}`;
    const now = Date.now();
    const streak = this.outageStreaks.get(key) ?? { count: 0, since: now };
    const { initialDelayMs, maxDelayMs } = this.outageBackoff;
    const delayMs = Math.min(maxDelayMs, initialDelayMs * 2 ** Math.min(streak.count, 30));
    streak.count += 1;
    this.outageStreaks.set(key, streak);
    const pause: OutagePause = {
      topic,
      partition,
      dependency: outage.dependency,
      since: streak.since,
      delayMs,
    };
    this.outagePauses.set(key, pause);
    this.logger.warn('Dependency unavailable; pausing the partition without spending attempts', {
      groupId: this.options.groupId,
      topic,
      partition,
      dependency: outage.dependency,
      pause: streak.count,
      delayMs,
      unavailableForMs: now - streak.since,
      error: outage.message,
    });
    this.instrumentation.consumerPaused(this.options.groupId, pause);
    this.pauseFor(payload, key, delayMs, () => this.outagePauses.delete(key));
  }

  /** A message of this partition reached an outcome: an outage run on it (if any) is over. */
  private outageOver(topic: string, partition: number): void {
    const key = `${topic}:${partition}`;
    const streak = this.outageStreaks.get(key);
    if (streak === undefined) return;
    this.outageStreaks.delete(key);
    this.logger.info('Dependency available again; partition consuming', {
      groupId: this.options.groupId,
      topic,
      partition,
      pauses: streak.count,
      unavailableForMs: Date.now() - streak.since,
    });
  }

  private handleMessage(
    route: Route,
    receivedFrom: string,
    partition: number,
    item: PartitionMessage,
    payload: EachBatchPayload,
    tracing: boolean,
  ): Promise<void> {
    const info: ConsumedMessageInfo = {
      topic: receivedFrom,
      handlerTopic: route.registration.topic.name,
      partition,
      offset: item.offset,
      key: item.key,
      attempt: headerInt(item.headers, MessagingHeaders.attempt) ?? 1,
      groupId: this.options.groupId,
    };
    // The plain path (no hooks, no tracing) allocates no closures: it runs once per message.
    if (!tracing && !this.instrumentation.wrapsMessages)
      return this.processMessage(route, info, item, payload);
    const process = (): Promise<void> =>
      this.instrumentation.aroundMessage(info, () => this.processMessage(route, info, item, payload));
    if (!tracing) return process();
    return inConsumerSpan(
      receivedFrom,
      {
        'messaging.destination.name': receivedFrom,
        'messaging.destination.partition.id': String(partition),
        'messaging.kafka.offset': Number(item.offset),
        'messaging.consumer.group.name': this.options.groupId,
        'messaging.kafka.attempt': info.attempt,
      },
      item.headers,
      process,
    );
  }

  private contextOf(
    route: Route,
    receivedFrom: string,
    partition: number,
    attempt: number,
    item: PartitionMessage,
    payload: EachBatchPayload,
  ): MessageContext {
    const { registration, retryPolicy } = route;
    return {
      topic: registration.topic.name,
      receivedFrom,
      partition,
      offset: item.offset,
      key: item.key,
      headers: item.headers,
      timestamp: item.message.timestamp,
      attempt,
      maybeHandledBefore: item.maybeHandledBefore,
      maxAttempts: retryPolicy.maxAttempts,
      isLastAttempt: attempt >= retryPolicy.maxAttempts,
      heartbeat: () => payload.heartbeat(),
    };
  }

  /**
   * One chunk of a partition's batch for a registration with `handleBatch`: invalid messages are dead-lettered
   * (through the per-message path), the valid ones go to `handleBatch` at once. If it throws anything but an
   * outage, the valid messages are handled again one at a time through `handle`, with the per-key concurrency and
   * offset resolution of {@link processPartitionBatch}, so each failure is retried or dead-lettered on its own.
   * Resolves true when every message of the chunk has a durable outcome; false when the fallback stopped early
   * (stop, revocation): the caller must then not resolve past it. Throws when an outcome could not be made durable.
   */
  private async handleChunk(
    route: Route,
    receivedFrom: string,
    partition: number,
    chunk: readonly PartitionMessage[],
    payload: EachBatchPayload,
    tracing: boolean,
    fallback: Omit<PartitionBatchOptions<PartitionMessage>, 'messages' | 'concurrency'>,
  ): Promise<boolean> {
    const { registration } = route;
    const handleBatch = registration.handleBatch?.bind(registration);
    if (handleBatch === undefined) throw new Error('handleChunk needs a registration with handleBatch');
    const valid: PartitionMessage[] = [];
    const batch: BatchMessage<unknown>[] = [];
    const infos: ConsumedMessageInfo[] = [];
    for (const item of chunk) {
      let value: unknown;
      try {
        value = registration.topic.contract.parse(item.message.value);
      } catch {
        // The per-message path parses it again, logs and dead-letters it exactly as without batches.
        await fallback.handle(item);
        continue;
      }
      const parsed: PartitionMessage = { ...item, parsed: { value } };
      const attempt = headerInt(item.headers, MessagingHeaders.attempt) ?? 1;
      valid.push(parsed);
      batch.push({
        message: value,
        context: this.contextOf(route, receivedFrom, partition, attempt, item, payload),
      });
      infos.push({
        topic: receivedFrom,
        handlerTopic: registration.topic.name,
        partition,
        offset: item.offset,
        key: item.key,
        attempt,
        groupId: this.options.groupId,
      });
    }
    if (batch.length === 0) return true;
    const timed = this.instrumentation.observesOutcomes;
    const startedAt = timed ? performance.now() : 0;
    let outcome: BatchOutcome | void;
    try {
      if (tracing) {
        outcome = await inConsumerBatchSpan(
          receivedFrom,
          {
            'messaging.destination.name': receivedFrom,
            'messaging.destination.partition.id': String(partition),
            'messaging.consumer.group.name': this.options.groupId,
            'messaging.batch.message_count': batch.length,
          },
          valid.map((item) => item.headers),
          () => handleBatch(batch),
        );
      } else {
        outcome = await handleBatch(batch);
      }
    } catch (error) {
      const outage = infrastructureOutageOf(error);
      if (outage !== undefined) {
        // Nothing is decided for these messages: they stay unresolved and are read again after the pause.
        if (timed) for (const info of infos) this.instrumentation.messageFinished(info, 'abandoned', 0);
        throw outage;
      }
      this.logger.warn('Batch handler failed; handling its messages one at a time', {
        topic: receivedFrom,
        partition,
        fromOffset: valid[0]?.offset,
        toOffset: valid[valid.length - 1]?.offset,
        messages: valid.length,
        ...errorFields(error),
      });
      const result = await processPartitionBatch({
        ...fallback,
        messages: valid,
        concurrency: this.perPartitionConcurrency,
        // The chunk was cut before the first message that is not due.
        dueAt: () => undefined,
      });
      return result.handled === valid.length;
    }
    // Each message's duration is the batch's: the time from its fetch to its outcome.
    const durationMs = timed ? performance.now() - startedAt : 0;
    const failures = outcome?.failures;
    const failed: PartitionMessage[] = [];
    infos.forEach((info, index) => {
      const failure = failures?.get(index);
      if (failures?.has(index)) {
        failed.push({ ...(valid[index] as PartitionMessage), failed: { error: failure } });
        return;
      }
      this.stats.messageReceived();
      this.stats.messageHandled();
      if (timed) this.instrumentation.messageFinished(info, 'handled', durationMs);
    });
    if (this.outageStreaks.size > 0) this.outageOver(receivedFrom, partition);
    if (failed.length === 0) return true;
    // Through the per-message path, which routes each reported failure exactly as a thrown one.
    const result = await processPartitionBatch({
      ...fallback,
      messages: failed,
      concurrency: this.perPartitionConcurrency,
      dueAt: () => undefined,
    });
    return result.handled === failed.length;
  }

  private async processMessage(
    route: Route,
    info: ConsumedMessageInfo,
    item: PartitionMessage,
    payload: EachBatchPayload,
  ): Promise<void> {
    const { registration, retryPolicy } = route;
    const { topic: receivedFrom, partition, attempt } = info;
    const location = { topic: receivedFrom, partition, offset: item.offset, attempt };
    const timed = this.instrumentation.observesOutcomes;
    const startedAt = timed ? performance.now() : 0;
    let outcome: MessageOutcome | undefined;
    let reason: DeadLetterReason | undefined;
    this.stats.messageReceived();
    try {
      let message: unknown = item.parsed?.value;
      try {
        if (item.parsed === undefined) message = registration.topic.contract.parse(item.message.value);
      } catch (error) {
        this.logger.warn('Invalid message; dead-lettering it', { ...location, ...errorFields(error) });
        reason = 'invalid-message';
        await this.deadLetter(registration.topic, receivedFrom, partition, item, reason, error);
        outcome = 'dead-lettered';
      }
      if (outcome === undefined) {
        this.instrumentation.messageParsed(info, message);
        const context = this.contextOf(route, receivedFrom, partition, attempt, item, payload);
        try {
          if (item.failed !== undefined) throw item.failed.error;
          await registration.handle(message, context);
          this.stats.messageHandled();
          outcome = 'handled';
        } catch (error) {
          // Not the message's failure: no attempt is spent, the partition pauses and the message is read again.
          const outage = infrastructureOutageOf(error);
          if (outage !== undefined) throw outage;
          this.stats.errorSeen({
            at: new Date().toISOString(),
            topic: receivedFrom,
            partition,
            offset: item.offset,
            error: describeError(error).message,
          });
          if (error instanceof PermanentError) {
            this.logger.warn('Handler reported a permanent failure; dead-lettering', {
              ...location,
              ...errorFields(error),
            });
            reason = 'permanent-failure';
            await this.deadLetter(registration.topic, receivedFrom, partition, item, reason, error);
            outcome = 'dead-lettered';
          } else if (attempt >= retryPolicy.maxAttempts) {
            this.logger.error('Retries exhausted; dead-lettering', { ...location, ...errorFields(error) });
            reason = 'retries-exhausted';
            await this.deadLetter(registration.topic, receivedFrom, partition, item, reason, error);
            outcome = 'dead-lettered';
          } else {
            outcome = await this.retryLater(route, receivedFrom, partition, item, attempt, error);
            if (outcome === 'dead-lettered') reason = 'record-too-large';
          }
        }
      }
    } catch (error) {
      // The outcome could not be made durable (e.g. broker unreachable): leave the offset unresolved.
      this.stats.messageAbandoned();
      if (timed) this.instrumentation.messageFinished(info, 'abandoned', performance.now() - startedAt);
      throw error;
    }
    if (outcome === undefined) {
      // Unreachable by construction; counted (and shouted about) rather than assumed.
      this.stats.messageLost();
      this.logger.error('Message finished without an outcome; counted as lost', location);
      return;
    }
    if (this.outageStreaks.size > 0) this.outageOver(receivedFrom, partition);
    if (timed) this.instrumentation.messageFinished(info, outcome, performance.now() - startedAt, reason);
  }

  private async retryLater(
    route: Route,
    receivedFrom: string,
    partition: number,
    item: PartitionMessage,
    attempt: number,
    error: unknown,
  ): Promise<'retried' | 'dead-lettered'> {
    const { registration, retryPolicy } = route;
    const retryTopic = registration.topic.retryTopic ?? registration.topic.name;
    const minimumDelay = error instanceof TransientError ? error.delayMs : undefined;
    const delayMs = retryDelayMs(retryPolicy, attempt + 1, minimumDelay);
    const { errorClass, message } = describeError(error);
    const headers: StringHeaders = {
      ...this.originHeaders(receivedFrom, partition, item),
      [MessagingHeaders.attempt]: String(attempt + 1),
      [MessagingHeaders.dueAt]: String(Date.now() + delayMs),
      [MessagingHeaders.errorClass]: errorClass,
      [MessagingHeaders.errorMessage]: truncateForHeader(message),
      [MessagingHeaders.firstFailedAt]:
        item.headers[MessagingHeaders.firstFailedAt] ?? new Date().toISOString(),
    };
    try {
      await this.producer.publishRaw(retryTopic, {
        key: item.message.key,
        value: item.message.value,
        headers,
      });
    } catch (publishError) {
      if (!(publishError instanceof RecordTooLargeError)) throw publishError;
      // The retry copy can never fit (its headers made it larger than the original, or the retry topic's
      // max.message.bytes is smaller): re-reading the message would fail the same way forever. End it in the
      // dead-letter topic, without its value if need be, and commit.
      this.logger.error('Retry copy too large for the retry topic; dead-lettering the message', {
        topic: receivedFrom,
        partition,
        offset: item.offset,
        attempt,
        retryTopic,
        error: publishError.message,
      });
      await this.deadLetter(registration.topic, receivedFrom, partition, item, 'record-too-large', error);
      return 'dead-lettered';
    }
    this.stats.messageRetried();
    this.logger.warn('Handler failed; scheduled a retry', {
      topic: receivedFrom,
      partition,
      offset: item.offset,
      attempt,
      nextAttempt: attempt + 1,
      delayMs,
      retryTopic,
      errorClass,
      error: message,
    });
    return 'retried';
  }

  private async deadLetter(
    topic: TopicDefinition<unknown>,
    receivedFrom: string,
    partition: number,
    item: PartitionMessage,
    reason: DeadLetterReason,
    error: unknown,
  ): Promise<void> {
    const { errorClass, message } = describeError(error);
    const headers: StringHeaders = {
      ...this.originHeaders(receivedFrom, partition, item),
      [MessagingHeaders.deadLetterReason]: reason,
      [MessagingHeaders.deadLetteredAt]: new Date().toISOString(),
      [MessagingHeaders.errorClass]: errorClass,
      [MessagingHeaders.errorMessage]: truncateForHeader(message),
    };
    await this.publishDeadLetter(topic.deadLetterTopic, item, headers);
    this.stats.messageDeadLettered();
    this.stats.errorSeen({
      at: new Date().toISOString(),
      topic: receivedFrom,
      partition,
      offset: item.offset,
      error: `${reason}: ${message}`,
    });
  }

  /**
   * Publishes the dead-letter copy. A copy the producer or broker refuses as too large (RecordTooLargeError: over
   * the producer's request limit or the dead-letter topic's `max.message.bytes`) would make the message be read
   * again and refused again forever, so it is published **without its value**, marked by `x-value-omitted` and
   * `x-original-value-bytes` (the original stays findable by its `x-original-*` coordinates until the source
   * topic's retention removes it); if even that is refused, with only the dead-letter and origin headers.
   */
  private async publishDeadLetter(
    deadLetterTopic: string,
    item: PartitionMessage,
    headers: StringHeaders,
  ): Promise<void> {
    const key = item.message.key;
    try {
      await this.producer.publishRaw(deadLetterTopic, { key, value: item.message.value, headers });
      return;
    } catch (error) {
      if (!(error instanceof RecordTooLargeError)) throw error;
      this.logger.error('Dead-letter copy too large; dead-lettering it without its value', {
        deadLetterTopic,
        offset: item.offset,
        valueBytes: item.message.value?.length ?? 0,
        error: error.message,
      });
    }
    const omitted: StringHeaders = {
      [MessagingHeaders.valueOmitted]: 'record-too-large',
      [MessagingHeaders.originalValueBytes]: String(item.message.value?.length ?? 0),
    };
    try {
      await this.producer.publishRaw(deadLetterTopic, {
        key,
        value: null,
        headers: { ...headers, ...omitted },
      });
    } catch (error) {
      if (!(error instanceof RecordTooLargeError)) throw error;
      // The message's own headers are what is too large: keep only ours.
      const ours = Object.fromEntries(
        Object.values(MessagingHeaders).flatMap((name) =>
          headers[name] === undefined ? [] : [[name, headers[name]]],
        ),
      ) as StringHeaders;
      await this.producer.publishRaw(deadLetterTopic, { key, value: null, headers: { ...ours, ...omitted } });
    }
  }

  /** Keeps the first origin when a message moves main → retry → retry → dead letter. */
  private originHeaders(receivedFrom: string, partition: number, item: PartitionMessage): StringHeaders {
    const h = item.headers;
    return {
      ...h,
      [MessagingHeaders.originalTopic]: h[MessagingHeaders.originalTopic] ?? receivedFrom,
      [MessagingHeaders.originalPartition]: h[MessagingHeaders.originalPartition] ?? String(partition),
      [MessagingHeaders.originalOffset]: h[MessagingHeaders.originalOffset] ?? item.offset,
      [MessagingHeaders.originalTimestamp]: h[MessagingHeaders.originalTimestamp] ?? item.message.timestamp,
      [MessagingHeaders.consumerGroup]: this.options.groupId,
    };
  }
}
