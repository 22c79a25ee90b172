import {
  type DynamicModule,
  Inject,
  Injectable,
  Module,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { type TopicDefinition } from '@notifications/contracts';
import { ConsumerLivenessCheck } from '../lib/consumer-liveness-check';
import { KafkaHealthCheck } from '../lib/kafka-health-check';
import { KafkaRuntime } from '../lib/kafka-runtime';
import { MessageProducer } from '../lib/producer';
import {
  MESSAGING_OPTIONS,
  TOPIC_CATALOG,
  type MessagingModuleAsyncOptions,
  type MessagingModuleOptions,
} from './messaging-options';
import { nestMessagingLogger } from './nest-logger';

/**
 * Creates the topics the app writes to and connects the producer once every provider is ready; closes the
 * runtime last, in `onApplicationShutdown`: by then the app's `KafkaTransport` has drained its consumer (Nest
 * closes microservices in `dispose()`, between `beforeApplicationShutdown` and `onApplicationShutdown`), and the
 * producer stayed open for the retries and results that draining publishes.
 */
@Injectable()
export class MessagingLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    private readonly runtime: KafkaRuntime,
    @Inject(MESSAGING_OPTIONS) private readonly options: MessagingModuleOptions,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.options.provisionTopics) {
      const written: TopicDefinition<unknown>[] = [
        this.options.healthTopic as TopicDefinition<unknown>,
        ...(this.options.producesTo ?? []),
      ];
      await this.runtime.provisioner.ensureTopics(
        written.flatMap((topic) => [topic.name, ...(topic.retryTopic ? [topic.retryTopic] : [])]),
        this.options.provisionTopics,
      );
    }
    await this.runtime.producer.connect();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.runtime.shutdown();
  }
}

/**
 * Nest adapter over the framework-free runtime: provides the process's single `KafkaRuntime` and
 * `MessageProducer`, the Kafka readiness and consumer liveness checks, and the options `KafkaTransport.fromApp`
 * builds the app's consumer from.
 */
@Module({})
export class MessagingModule {
  static forRootAsync(options: MessagingModuleAsyncOptions): DynamicModule {
    return {
      module: MessagingModule,
      global: true,
      imports: [...(options.imports ?? [])],
      providers: [
        { provide: MESSAGING_OPTIONS, useFactory: options.useFactory, inject: options.inject ?? [] },
        {
          provide: KafkaRuntime,
          useFactory: (resolved: MessagingModuleOptions) =>
            new KafkaRuntime(
              resolved.connection,
              resolved.logger ?? nestMessagingLogger(),
              resolved.producer,
            ),
          inject: [MESSAGING_OPTIONS],
        },
        {
          provide: MessageProducer,
          useFactory: (runtime: KafkaRuntime) => runtime.producer,
          inject: [KafkaRuntime],
        },
        {
          provide: KafkaHealthCheck,
          useFactory: (runtime: KafkaRuntime, resolved: MessagingModuleOptions) =>
            new KafkaHealthCheck(runtime.producer, resolved.healthTopic),
          inject: [KafkaRuntime, MESSAGING_OPTIONS],
        },
        {
          provide: ConsumerLivenessCheck,
          useFactory: (runtime: KafkaRuntime) => new ConsumerLivenessCheck(runtime),
          inject: [KafkaRuntime],
        },
        {
          provide: TOPIC_CATALOG,
          useFactory: (resolved: MessagingModuleOptions) => resolved.catalog,
          inject: [MESSAGING_OPTIONS],
        },
        MessagingLifecycle,
      ],
      exports: [
        MESSAGING_OPTIONS,
        TOPIC_CATALOG,
        KafkaRuntime,
        MessageProducer,
        KafkaHealthCheck,
        ConsumerLivenessCheck,
      ],
    };
  }

  static forRoot(options: MessagingModuleOptions): DynamicModule {
    return MessagingModule.forRootAsync({ useFactory: () => options });
  }
}
