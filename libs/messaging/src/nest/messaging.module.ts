import { type DynamicModule, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { ConsumerLivenessCheck } from '../lib/consumer-liveness-check';
import { KafkaHealthCheck } from '../lib/kafka-health-check';
import { KafkaRuntime } from '../lib/kafka-runtime';
import { MessageProducer } from '../lib/producer';
import { ConsumerHost } from './consumer-host';
import {
  MESSAGING_OPTIONS,
  type MessagingModuleAsyncOptions,
  type MessagingModuleOptions,
} from './messaging-options';
import { nestMessagingLogger } from './nest-logger';

/**
 * Nest adapter over the framework-free runtime: provides the process's single `MessageProducer`, the Kafka
 * readiness check, and a host that finds every `@KafkaHandler` method, provisions topics and runs the consumer
 * for the app's lifetime (stopping it first on shutdown so in-flight messages finish and commit).
 */
@Module({})
export class MessagingModule {
  static forRootAsync(options: MessagingModuleAsyncOptions): DynamicModule {
    return {
      module: MessagingModule,
      global: true,
      imports: [DiscoveryModule, ...(options.imports ?? [])],
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
        ConsumerHost,
      ],
      exports: [KafkaRuntime, MessageProducer, KafkaHealthCheck, ConsumerLivenessCheck, ConsumerHost],
    };
  }

  static forRoot(options: MessagingModuleOptions): DynamicModule {
    return MessagingModule.forRootAsync({ useFactory: () => options });
  }
}
