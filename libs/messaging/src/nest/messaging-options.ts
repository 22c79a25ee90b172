import { type FactoryProvider, type ModuleMetadata } from '@nestjs/common';
import { type TopicDefinition } from '@notifications/contracts';
import { type KafkaConnectionOptions } from '../lib/connection';
import { type ConsumerRunnerOptions } from '../lib/consumer-runner';
import { type MessagingLogger } from '../lib/logger';
import { type ProducerOptions } from '../lib/producer';
import { type TopicSettings } from '../lib/topic-provisioner';

export const MESSAGING_OPTIONS = Symbol('MESSAGING_OPTIONS');

export interface MessagingModuleOptions {
  readonly connection: KafkaConnectionOptions;
  /** Consumer settings for the app's `KafkaTransport`; omit for a producer-only app. */
  readonly consumer?: ConsumerRunnerOptions;
  /**
   * The logical topic keys `@EventPattern` methods name, resolved for this deployment (topic suffix, delay
   * tiers): e.g. `topicCatalog(config.kafka.topicSuffix)` and an app's own keys.
   */
  readonly topics?: Readonly<Record<string, TopicDefinition<unknown>>>;
  readonly producer?: ProducerOptions;
  /** The service's health topic, used by the readiness check. */
  readonly healthTopic: TopicDefinition<string>;
  /** Topics this app writes to; created at start-up when missing (the transport creates the consumed ones). */
  readonly producesTo?: readonly TopicDefinition<unknown>[];
  /** Partitions, replication and retention for topics created at start-up; omit to skip provisioning. */
  readonly provisionTopics?: TopicSettings;
  readonly logger?: MessagingLogger;
}

export interface MessagingModuleAsyncOptions extends Pick<ModuleMetadata, 'imports'> {
  readonly useFactory: (...args: never[]) => MessagingModuleOptions | Promise<MessagingModuleOptions>;
  readonly inject?: FactoryProvider['inject'];
}
