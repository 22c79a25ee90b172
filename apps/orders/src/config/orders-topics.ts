import {
  Topics,
  allTopicNames,
  type TopicCatalog,
  type Email,
  type GenericServiceUpdate,
  type NotificationOrder,
  type SendOperationResult,
  type TopicDefinition,
} from '@notifications/contracts';

/**
 * The topics `orders` reads and writes. Injected rather than imported so that tests (and the crash test's child
 * process) run the real app against their own throw-away topics.
 */
export interface OrdersTopics {
  /** Produced through the outbox and consumed here (with its retry topic). */
  readonly pastDue: TopicDefinition<NotificationOrder>;
  /** Produced through the outbox, consumed by email-sender. */
  readonly emailQueue: TopicDefinition<Email>;
  readonly emailStatusUpdated: TopicDefinition<SendOperationResult>;
  readonly platformServiceUpdated: TopicDefinition<GenericServiceUpdate>;
  /** The readiness check publishes `test` here. */
  readonly healthCheck: TopicDefinition<string>;
}

/** The app's topics out of a catalog (the reference names, or a suffixed catalog from `topicCatalog`). */
export function ordersTopics(catalog: TopicCatalog = Topics): OrdersTopics {
  return Object.freeze({
    pastDue: catalog.ordersPastDue,
    emailQueue: catalog.emailQueue,
    emailStatusUpdated: catalog.emailStatusUpdated,
    platformServiceUpdated: catalog.platformServiceUpdated,
    healthCheck: catalog.healthCheck,
  });
}

export const DEFAULT_ORDERS_TOPICS: OrdersTopics = ordersTopics();

/** Topics consumed by this app (each also implies its retry and dead-letter topic). */
export function consumedTopics(topics: OrdersTopics): TopicDefinition<unknown>[] {
  return [
    topics.pastDue as TopicDefinition<unknown>,
    topics.emailStatusUpdated as TopicDefinition<unknown>,
    topics.platformServiceUpdated as TopicDefinition<unknown>,
  ];
}

/** Every topic name this app needs at start-up: consumed topics with retry and dead-letter topics, produced ones. */
export function topicsToProvision(topics: OrdersTopics): string[] {
  return [...allTopicNames(consumedTopics(topics)), topics.emailQueue.name, topics.healthCheck.name];
}
