import { type INestApplication, type INestApplicationContext } from '@nestjs/common';
import { type CustomTransportStrategy, type MessageHandler, Server } from '@nestjs/microservices';
import { type TopicDefinition } from '@notifications/contracts';
import { isObservable, lastValueFrom } from 'rxjs';
import {
  type BatchMessage,
  type BatchOutcome,
  type ConsumerRunner,
  type ConsumerRunnerOptions,
  type HandlerRegistration,
  type MessageContext,
} from '../lib/consumer-runner';
import { KafkaRuntime } from '../lib/kafka-runtime';
import { type RetryPolicy } from '../lib/retry-policy';
import { type TopicSettings } from '../lib/topic-provisioner';
import { KafkaBatchContext, KafkaContext, type KafkaBatchMessage } from './kafka-context';
import { bindingsOf, isTopicDefinition, type TopicKeys } from './topic-bindings';
import { MESSAGING_OPTIONS, type MessagingModuleOptions, type SeparateConsumer } from './messaging-options';

/**
 * The second argument of `@EventPattern(key, extras)` for a Kafka consumer.
 *
 *   @EventPattern('emailStatusUpdated', { batch: true, maxBatchSize: 500 } satisfies KafkaHandlerExtras)
 */
export interface KafkaHandlerExtras {
  /**
   * This method handles a fetched batch set-wise (`@Payload()` is `KafkaBatchMessage<T>[]`, it may resolve to a
   * `BatchOutcome`); the same key also needs a per-message `@EventPattern` method, the runner's fallback.
   */
  readonly batch?: boolean;
  readonly maxBatchSize?: number;
  readonly retryPolicy?: RetryPolicy;
  /** The topic is a delay topic: messages wait for their `x-due-at` (see `HandlerRegistration.gatedByDueAt`). */
  readonly gatedByDueAt?: boolean;
}

export interface KafkaTransportOptions {
  readonly runtime: KafkaRuntime;
  readonly consumer: ConsumerRunnerOptions;
  /** Topic keys read by consumer groups of their own (see `MessagingModuleOptions.separateConsumers`). */
  readonly separateConsumers?: readonly SeparateConsumer[];
  /** Logical topic key (the `@EventPattern` pattern) → the topic(s) it means in this deployment. */
  readonly topics: TopicKeys;
  /** Creates the consumed topics (main, retry, dead-letter) at start when missing; omit to skip. */
  readonly provisionTopics?: TopicSettings;
}

/** A handler registration and the logical topic key (`@EventPattern` pattern) it was made for. */
interface KeyedRegistration {
  readonly key: string;
  readonly registration: HandlerRegistration<unknown>;
}

/** Nest's default RPC filter's value for an unknown error: seen when a controller lacks `@KafkaController()`. */
function isNestErrorValue(value: unknown): boolean {
  return typeof value === 'object' && value !== null && (value as { status?: unknown }).status === 'error';
}

/**
 * A Nest transport over {@link ConsumerRunner}: every `@EventPattern(<logical topic key>)` method becomes a
 * handler registration, so delivery stays the runner's — contract validation (invalid → dead letter), retry and
 * dead-letter routing, outage pauses, offsets resolved only after an outcome is durable, graceful drain.
 *
 * It never uses `Server.handleEvent` (which does not await a handler, so a failure would be committed past): it
 * calls each handler itself and awaits it, including an Observable result. Handler errors reach it unchanged
 * through `@KafkaController()`'s filter. `close()` runs in Nest's `dispose()`, after `onModuleDestroy` and
 * `beforeApplicationShutdown` (HTTP already closed) and before `onApplicationShutdown`, where TypeORM destroys
 * its data source and the MessagingModule closes the producer: in-flight messages drain with both still open.
 */
export class KafkaTransport extends Server implements CustomTransportStrategy {
  private readonly runners: ConsumerRunner[] = [];

  constructor(private readonly options: KafkaTransportOptions) {
    super();
  }

  /** The transport for an app built with `MessagingModule` (its runtime, consumer options and topic keys). */
  static fromApp(app: INestApplicationContext): KafkaTransport {
    const options = app.get<MessagingModuleOptions>(MESSAGING_OPTIONS);
    if (options.consumer === undefined) {
      throw new Error('MessagingModule needs `consumer` options for a KafkaTransport');
    }
    const catalog: TopicKeys = { ...options.catalog };
    return new KafkaTransport({
      runtime: app.get(KafkaRuntime),
      consumer: options.consumer,
      ...(options.separateConsumers ? { separateConsumers: options.separateConsumers } : {}),
      topics: { ...catalog, ...options.topics },
      ...(options.provisionTopics ? { provisionTopics: options.provisionTopics } : {}),
    });
  }

  /** The running consumers (for statistics): the main one first, then the separate ones; empty before `listen`. */
  get consumers(): readonly ConsumerRunner[] {
    return this.runners;
  }

  listen(callback: (error?: unknown) => void): void {
    this.start().then(
      () => callback(),
      (error: unknown) => callback(error),
    );
  }

  async close(): Promise<void> {
    await Promise.all(this.runners.map((runner) => runner.stop()));
  }

  on(): never {
    throw new Error('KafkaTransport has no events; use the runner’s statistics and health instead');
  }

  unwrap<T>(): T {
    return this.runners as T;
  }

  private async start(): Promise<void> {
    const registrations = this.registrations();
    // Checked before anything is created: a wrong separate consumer fails start-up without side effects.
    const plan = this.consumerPlan(registrations);
    const { runtime, provisionTopics } = this.options;
    if (provisionTopics) {
      const names = registrations.flatMap(({ registration: { topic } }) => [
        topic.name,
        ...(topic.retryTopic ? [topic.retryTopic] : []),
        topic.deadLetterTopic,
      ]);
      await runtime.provisioner.ensureTopics(names, provisionTopics);
    }
    if (!runtime.producer.isConnected) await runtime.producer.connect();
    for (const { options, members } of plan) this.runners.push(runtime.createConsumer(options, members));
    await Promise.all(this.runners.map((runner) => runner.start()));
  }

  /** Which registrations each consumer group reads: the separate consumers' topic keys, the rest the main one. */
  private consumerPlan(
    registrations: readonly KeyedRegistration[],
  ): { options: ConsumerRunnerOptions; members: HandlerRegistration<unknown>[] }[] {
    const separate = this.options.separateConsumers ?? [];
    const handledKeys = new Set(registrations.map(({ key }) => key));
    const claimed = new Map<string, string>();
    for (const { groupId, topicKeys } of separate) {
      if (groupId === this.options.consumer.groupId) {
        throw new Error(`separate consumer ${groupId}: the main consumer's group id`);
      }
      for (const key of topicKeys) {
        if (!handledKeys.has(key)) throw new Error(`separate consumer ${groupId}: no @EventPattern(${key})`);
        const other = claimed.get(key);
        if (other !== undefined) throw new Error(`topic key ${key} given to both ${other} and ${groupId}`);
        claimed.set(key, groupId);
      }
    }
    const membersOf = (groupId: string | undefined) =>
      registrations.filter(({ key }) => claimed.get(key) === groupId).map(({ registration }) => registration);
    const main = membersOf(undefined);
    return [
      ...(main.length > 0 ? [{ options: this.options.consumer, members: main }] : []),
      ...separate.map(({ groupId }) => ({
        options: { ...this.options.consumer, groupId },
        members: membersOf(groupId),
      })),
    ];
  }

  private registrations(): KeyedRegistration[] {
    const registrations: KeyedRegistration[] = [];
    for (const [pattern, head] of this.getHandlers()) {
      const chain: MessageHandler[] = [];
      for (let handler: MessageHandler | undefined = head; handler; handler = handler.next as MessageHandler)
        chain.push(handler);
      if (chain.some((handler) => !handler.isEventHandler)) {
        throw new Error(
          `@MessagePattern(${pattern}): Kafka consumers are @EventPattern methods (no replies)`,
        );
      }
      const entry = this.options.topics[pattern];
      if (entry === undefined) {
        throw new Error(
          `@EventPattern(${pattern}): no such topic key (known: ${Object.keys(this.options.topics).join(', ')})`,
        );
      }
      const extrasOf = (handler: MessageHandler): KafkaHandlerExtras =>
        (handler.extras ?? {}) as KafkaHandlerExtras;
      const single = chain.filter((handler) => extrasOf(handler).batch !== true);
      const batch = chain.filter((handler) => extrasOf(handler).batch === true);
      const handle = single[0];
      if (single.length !== 1 || batch.length > 1 || handle === undefined) {
        throw new Error(
          `@EventPattern(${pattern}): needs exactly one per-message method and at most one batch method (found ${single.length} and ${batch.length})`,
        );
      }
      const extras = { ...extrasOf(handle), ...(batch[0] ? extrasOf(batch[0]) : {}) };
      for (const binding of bindingsOf(entry)) {
        const bound = isTopicDefinition(binding) ? { topic: binding } : binding;
        registrations.push({
          key: pattern,
          registration: this.registration(bound.topic, handle, batch[0], {
            ...extras,
            ...(bound.retryPolicy ? { retryPolicy: bound.retryPolicy } : {}),
            ...(bound.gatedByDueAt === undefined ? {} : { gatedByDueAt: bound.gatedByDueAt }),
            ...(bound.maxBatchSize === undefined ? {} : { maxBatchSize: bound.maxBatchSize }),
          }),
        });
      }
    }
    return registrations;
  }

  private registration(
    topic: TopicDefinition<unknown>,
    handle: MessageHandler,
    handleBatch: MessageHandler | undefined,
    extras: KafkaHandlerExtras,
  ): HandlerRegistration<unknown> {
    return {
      topic,
      handle: async (message: unknown, context: MessageContext) => {
        await this.invoke(handle, message, new KafkaContext(context));
      },
      ...(handleBatch === undefined
        ? {}
        : {
            handleBatch: async (messages: readonly BatchMessage<unknown>[]) => {
              const first = messages[0]?.context;
              const payload: KafkaBatchMessage<unknown>[] = messages.map((item) => ({
                message: item.message,
                context: new KafkaContext(item.context),
              }));
              const context = new KafkaBatchContext(
                topic.name,
                first?.receivedFrom ?? topic.name,
                first?.partition ?? -1,
                messages.length,
              );
              return (await this.invoke(handleBatch, payload, context)) as BatchOutcome | void;
            },
          }),
      ...(extras.maxBatchSize === undefined ? {} : { maxBatchSize: extras.maxBatchSize }),
      ...(extras.retryPolicy === undefined ? {} : { retryPolicy: extras.retryPolicy }),
      ...(extras.gatedByDueAt === undefined ? {} : { gatedByDueAt: extras.gatedByDueAt }),
    };
  }

  /**
   * Calls a handler Nest built (pipes, guards, interceptors, filters around the controller method) and awaits
   * its outcome, unwrapping an Observable (what an interceptor returns) to its last value or error.
   */
  private async invoke(handler: MessageHandler, payload: unknown, context: unknown): Promise<unknown> {
    try {
      const result: unknown = await handler(payload, context);
      return isObservable(result) ? await lastValueFrom(result, { defaultValue: undefined }) : result;
    } catch (error) {
      if (isNestErrorValue(error)) {
        throw new Error(
          'Handler failed and Nest replaced its error by a generic value: its controller needs @KafkaController()',
          { cause: error },
        );
      }
      throw error;
    }
  }
}

/**
 * Connects the app's {@link KafkaTransport} (its controllers' `@EventPattern` methods, the MessagingModule's
 * options), initialises the app and starts consuming: `connectMicroservice` with the app's global enhancers,
 * then `init()` (so `onApplicationBootstrap` ran — producer connected, written topics created), then
 * `startAllMicroservices()`. What main.ts, tests and benchmarks do before listening.
 */
export async function startKafkaTransport(app: INestApplication): Promise<KafkaTransport> {
  const transport = KafkaTransport.fromApp(app);
  app.connectMicroservice({ strategy: transport }, { inheritAppConfig: true });
  await app.init();
  await app.startAllMicroservices();
  return transport;
}
