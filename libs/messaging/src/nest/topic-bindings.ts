import { type TopicDefinition } from '@notifications/contracts';
import { type RetryPolicy } from '../lib/retry-policy';

/**
 * What a logical topic key resolves to at start-up: a topic, or a topic with settings that come from the app's
 * configuration (a delay tier's retry policy, a batch size) and override the `@EventPattern` extras — or several,
 * when one handler consumes a set of topics known only from settings.
 */
export type TopicBinding =
  | TopicDefinition<unknown>
  | {
      readonly topic: TopicDefinition<unknown>;
      readonly retryPolicy?: RetryPolicy;
      readonly gatedByDueAt?: boolean;
      readonly maxBatchSize?: number;
    };

export type TopicKeys = Readonly<Record<string, TopicBinding | readonly TopicBinding[]>>;

export function bindingsOf(entry: TopicBinding | readonly TopicBinding[]): readonly TopicBinding[] {
  return Array.isArray(entry) ? entry : [entry as TopicBinding];
}

export function isTopicDefinition(binding: TopicBinding): binding is TopicDefinition<unknown> {
  return 'name' in binding;
}
