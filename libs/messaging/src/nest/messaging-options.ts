import { type FactoryProvider, type ModuleMetadata } from '@nestjs/common';
import { type TopicCatalog, type TopicDefinition } from '@notifications/contracts';
import { type KafkaConnectionOptions } from '../lib/connection';
import { type ConsumerRunnerOptions } from '../lib/consumer-runner';
import { type MessagingLogger } from '../lib/logger';
import { type ProducerOptions } from '../lib/producer';
import { type TopicSettings } from '../lib/topic-provisioner';
import { type TopicKeys } from './topic-bindings';

export const MESSAGING_OPTIONS = Symbol('MESSAGING_OPTIONS');

/** Injection token of this deployment's `TopicCatalog` (what services publish to). */
export const TOPIC_CATALOG = Symbol('TOPIC_CATALOG');

export interface MessagingModuleOptions {
  readonly connection: KafkaConnectionOptions;
  /** Consumer settings for the app's `KafkaTransport`; omit for a producer-only app. */
  readonly consumer?: ConsumerRunnerOptions;
  /**
   * Topic keys read by a consumer group of their own (the other settings as `consumer`). kafkajs fetches again
   * only once every batch of the last fetch is handled, so one slow handler holds every topic its consumer reads;
   * a topic whose messages take long (orders' intake of a large order) gets its own consumer so the others go on.
   */
  readonly separateConsumers?: readonly SeparateConsumer[];
  /**
   * This deployment's topics, `topicCatalog(config.kafka.topicSuffix)`: injectable as {@link TOPIC_CATALOG}, and
   * its keys (`emailQueue`, `ordersPastDue`, …) are the logical topic keys `@EventPattern` methods name.
   */
  readonly catalog: TopicCatalog;
  /** Further logical topic keys an app resolves at start-up (e.g. status-poller's delay tiers). */
  readonly topics?: TopicKeys;
  readonly producer?: ProducerOptions;
  /** The service's health topic, used by the readiness check. */
  readonly healthTopic: TopicDefinition<string>;
  /** Topics this app writes to; created at start-up when missing (the transport creates the consumed ones). */
  readonly producesTo?: readonly TopicDefinition<unknown>[];
  /** Partitions, replication and retention for topics created at start-up; omit to skip provisioning. */
  readonly provisionTopics?: TopicSettings;
  readonly logger?: MessagingLogger;
}

export interface SeparateConsumer {
  readonly groupId: string;
  /** Logical topic keys (`@EventPattern` patterns) this consumer reads instead of the app's main consumer. */
  readonly topicKeys: readonly string[];
}

export interface MessagingModuleAsyncOptions extends Pick<ModuleMetadata, 'imports'> {
  readonly useFactory: (...args: never[]) => MessagingModuleOptions | Promise<MessagingModuleOptions>;
  readonly inject?: FactoryProvider['inject'];
}
