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
  /** Consumer settings; omit for a producer-only app. */
  readonly consumer?: ConsumerRunnerOptions;
  readonly producer?: ProducerOptions;
  /** The service's health topic, used by the readiness check. */
  readonly healthTopic: TopicDefinition<string>;
  /** Topics this app writes to; created at start-up with the consumed ones when missing. */
  readonly producesTo?: readonly TopicDefinition<unknown>[];
  /** Partitions, replication and retention for topics created at start-up; omit to skip provisioning. */
  readonly provisionTopics?: TopicSettings;
  readonly logger?: MessagingLogger;
}

export interface MessagingModuleAsyncOptions extends Pick<ModuleMetadata, 'imports'> {
  readonly useFactory: (...args: never[]) => MessagingModuleOptions | Promise<MessagingModuleOptions>;
  readonly inject?: FactoryProvider['inject'];
}
