import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { type TopicDefinition } from '@notifications/contracts';
import { type ConsumerRunner, type MessageContext } from '../lib/consumer-runner';
import { KafkaRuntime, handlerFor } from '../lib/kafka-runtime';
import { KAFKA_HANDLER_METADATA, type KafkaHandlerMetadata } from './kafka-handler.decorator';
import { MESSAGING_OPTIONS, type MessagingModuleOptions } from './messaging-options';

interface DiscoveredHandler {
  readonly metadata: KafkaHandlerMetadata;
  readonly invoke: (message: unknown, context: MessageContext) => Promise<void>;
  readonly owner: string;
}

/**
 * Owns the app's consumer: started after every provider is ready (bootstrap), stopped before providers are
 * torn down (so handlers can still use the database and the producer while draining).
 *
 * Why a provider-owned consumer rather than a Nest custom transport strategy: Nest's RPC layer turns handler
 * exceptions into generic "Internal server error" payloads, which would erase the TransientError/PermanentError
 * distinction the retry and dead-letter routing depends on, and a transport's listen/close runs outside the DI
 * shutdown order we rely on for draining.
 */
@Injectable()
export class ConsumerHost implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private consumer: ConsumerRunner | undefined;

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly runtime: KafkaRuntime,
    @Inject(MESSAGING_OPTIONS) private readonly options: MessagingModuleOptions,
  ) {}

  get runner(): ConsumerRunner | undefined {
    return this.consumer;
  }

  async onApplicationBootstrap(): Promise<void> {
    const handlers = this.discoverHandlers();
    if (this.options.provisionTopics) {
      await this.runtime.provisioner.ensureTopics(
        this.topicsToProvision(handlers),
        this.options.provisionTopics,
      );
    }
    await this.runtime.producer.connect();
    if (handlers.length === 0) return;
    if (!this.options.consumer) {
      throw new Error(
        `@KafkaHandler methods found (${handlers.map((h) => h.owner).join(', ')}) but MessagingModule has no consumer options`,
      );
    }
    this.consumer = this.runtime.createConsumer(
      this.options.consumer,
      handlers.map(({ metadata, invoke }) =>
        handlerFor({
          topic: metadata.topic,
          handle: invoke,
          ...(metadata.retryPolicy ? { retryPolicy: metadata.retryPolicy } : {}),
        }),
      ),
    );
    await this.consumer.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.runtime.shutdown();
  }

  private topicsToProvision(handlers: readonly DiscoveredHandler[]): string[] {
    const definitions: TopicDefinition<unknown>[] = [
      this.options.healthTopic as TopicDefinition<unknown>,
      ...(this.options.producesTo ?? []),
      ...handlers.map((h) => h.metadata.topic),
    ];
    return definitions.flatMap((topic) => [
      topic.name,
      ...(topic.retryTopic ? [topic.retryTopic] : []),
      ...(handlers.some((h) => h.metadata.topic === topic) ? [topic.deadLetterTopic] : []),
    ]);
  }

  private discoverHandlers(): DiscoveredHandler[] {
    const found: DiscoveredHandler[] = [];
    for (const wrapper of this.discovery.getProviders()) {
      const instance: unknown = wrapper.instance;
      if (!instance || typeof instance !== 'object') continue;
      const prototype = Object.getPrototypeOf(instance) as object;
      for (const methodName of this.scanner.getAllMethodNames(prototype)) {
        const metadata = Reflect.getMetadata(KAFKA_HANDLER_METADATA, prototype, methodName) as
          KafkaHandlerMetadata | undefined;
        if (!metadata) continue;
        const method = (instance as Record<string, unknown>)[methodName];
        if (typeof method !== 'function') continue;
        found.push({
          metadata,
          owner: `${wrapper.name}.${methodName}`,
          invoke: (message, context) =>
            (method as (m: unknown, c: MessageContext) => Promise<void>).call(instance, message, context),
        });
      }
    }
    return found;
  }
}
