import { type Email, EmailContract } from './messages/email.contract';
import {
  type GenericServiceUpdate,
  GenericServiceUpdateContract,
} from './messages/generic-service-update.contract';
import { HealthCheckContract } from './messages/health-check.contract';
import { type NotificationOrder, NotificationOrderContract } from './messages/notification-order.contract';
import {
  type SendNotificationOperationIdentifier,
  SendNotificationOperationIdentifierContract,
} from './messages/send-notification-operation-identifier.contract';
import {
  type SendOperationResult,
  SendOperationResultContract,
} from './messages/send-operation-result.contract';
import {
  type EmailWithheld,
  EmailWithheldContract,
  type OrderHalted,
  OrderHaltedContract,
} from './messages/order-halt.contract';
import { type MessageContract } from './message-contract';

export interface TopicDefinition<T> {
  /** The full topic name. */
  readonly name: string;
  readonly contract: MessageContract<T>;
  /**
   * The record key (SPEC section 3), or undefined for a keyless record. Declared as a method so that every
   * TopicDefinition<T> is also a TopicDefinition<unknown>; implementations never use `this`.
   */
  keyOf(message: T): string | undefined;
  /** Where transient failures go, to be consumed again by the same app. A retry topic has none of its own. */
  readonly retryTopic?: string;
  /** Where poison messages and exhausted retries go (the raw record, which may not satisfy the contract). */
  readonly deadLetterTopic: string;
}

export interface TopicDefinitionInput<T> {
  name: string;
  contract: MessageContract<T>;
  /** Defaults to keyless. */
  keyOf?: (message: T) => string | undefined;
  retryTopic?: string;
  /** Defaults to `deadLetterTopicFor(name)`. */
  deadLetterTopic?: string;
}

// The project's own topics must stay under this prefix: the reference Kafka roles grant rights only on
// `altinn.notifications.*` (and `altinn.platform.*`, which we only use for the shared service-update topic).
const OWN_PREFIX = 'altinn.notifications.';
const PLATFORM_PREFIX = 'altinn.platform.';

/**
 * The prefixes every topic name starts with: what the notification principals' PREFIXED topic ACLs name
 * (docs/security.md; the local SASL broker and the test brokers create them from this list).
 */
export const TOPIC_PREFIXES: readonly string[] = Object.freeze([OWN_PREFIX, PLATFORM_PREFIX]);

/** Every consumer group id (`consumerGroups()`) starts with this: the prefix of the consumer's group ACL. */
export const CONSUMER_GROUP_PREFIX = OWN_PREFIX;

// Kafka's limits on topic names.
const LEGAL_TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/;

function ownTopicFor(topic: string, suffix: string): string {
  // altinn.platform.X → altinn.notifications.platform.X.<suffix>, to stay inside our ACL prefix.
  const base = topic.startsWith(PLATFORM_PREFIX) ? `${OWN_PREFIX}${topic.slice('altinn.'.length)}` : topic;
  return `${base}.${suffix}`;
}

/** `X.deadletter` for our topics; `altinn.platform.X` → `altinn.notifications.platform.X.deadletter`. */
export function deadLetterTopicFor(topic: string): string {
  return ownTopicFor(topic, 'deadletter');
}

/** `X.retry` for our topics; `altinn.platform.X` → `altinn.notifications.platform.X.retry`. */
export function retryTopicFor(topic: string): string {
  return ownTopicFor(topic, 'retry');
}

function assertTopicName(what: string, name: string): void {
  if (!LEGAL_TOPIC_NAME.test(name) || name === '.' || name === '..') {
    throw new Error(`${what} ${JSON.stringify(name)} is not a legal Kafka topic name`);
  }
}

/** Declares a topic (also for tests' throw-away topics). Throws on illegal or colliding names. */
export function defineTopic<T>(def: TopicDefinitionInput<T>): TopicDefinition<T> {
  const deadLetterTopic = def.deadLetterTopic ?? deadLetterTopicFor(def.name);
  assertTopicName('Topic', def.name);
  assertTopicName('Dead-letter topic', deadLetterTopic);
  if (def.retryTopic !== undefined) assertTopicName('Retry topic', def.retryTopic);
  const names = [def.name, deadLetterTopic, ...(def.retryTopic === undefined ? [] : [def.retryTopic])];
  if (new Set(names).size !== names.length) {
    throw new Error(`Topic ${def.name}: the topic, its retry topic and its dead-letter topic must differ`);
  }
  const keyOf = def.keyOf ?? ((): undefined => undefined);
  return Object.freeze({
    name: def.name,
    contract: def.contract,
    keyOf: (message: T) => keyOf(message),
    ...(def.retryTopic === undefined ? {} : { retryTopic: def.retryTopic }),
    deadLetterTopic,
  });
}

/** The definition of `main`'s retry topic: same contract, key and dead-letter topic, and no retry topic. */
export function defineRetryTopic<T>(main: TopicDefinition<T>): TopicDefinition<T> {
  if (main.retryTopic === undefined) throw new Error(`Topic ${main.name} has no retry topic`);
  return defineTopic({
    name: main.retryTopic,
    contract: main.contract,
    keyOf: (message: T) => main.keyOf(message),
    deadLetterTopic: main.deadLetterTopic,
  });
}

const healthCheck = defineTopic({
  // Reference name (orders' health check).
  name: 'altinn.notifications.health.check',
  contract: HealthCheckContract,
});

const emailHealthCheck = defineTopic({
  // Reference name (email service's health check).
  name: 'altinn.notifications.email.health.check',
  contract: HealthCheckContract,
});

const ordersPastDue = defineTopic<NotificationOrder>({
  // Reference name.
  name: 'altinn.notifications.orders.pastdue',
  contract: NotificationOrderContract,
  keyOf: (order) => order.id,
  // Reference name.
  retryTopic: 'altinn.notifications.orders.pastdue.retry',
});

const emailQueue = defineTopic<Email>({
  // Reference name.
  name: 'altinn.notifications.email.queue',
  contract: EmailContract,
  keyOf: (email) => email.notificationId,
  // Reference name (the reference never consumed it; here it is).
  retryTopic: 'altinn.notifications.email.queue.retry',
});

const emailSendingAccepted = defineTopic<SendNotificationOperationIdentifier>({
  // Reference name.
  name: 'altinn.notifications.email.sending.accepted',
  contract: SendNotificationOperationIdentifierContract,
  keyOf: (operation) => operation.notificationId,
  // Reference name (configured but never used by the reference).
  retryTopic: 'altinn.notifications.email.sending.accepted.retry',
});

const emailStatusUpdated = defineTopic<SendOperationResult>({
  // Reference name.
  name: 'altinn.notifications.email.status.updated',
  contract: SendOperationResultContract,
  // Delivery reports carry only the operation id; a send failure has operationId "".
  keyOf: (result) => result.notificationId ?? (result.operationId === '' ? undefined : result.operationId),
  // New in this project, named like the reference's retry topics.
  retryTopic: 'altinn.notifications.email.status.updated.retry',
});

const platformServiceUpdated = defineTopic<GenericServiceUpdate>({
  // Reference name, shared with other platform services (hence not under altinn.notifications.).
  name: 'altinn.platform.service.updated',
  contract: GenericServiceUpdateContract,
  keyOf: (update) => update.source,
  // New; under altinn.notifications. because our Kafka roles may not create altinn.platform.* topics.
  retryTopic: 'altinn.notifications.platform.service.updated.retry',
  // New; under altinn.notifications. for the same reason.
  deadLetterTopic: 'altinn.notifications.platform.service.updated.deadletter',
});

const ordersHalted = defineTopic<OrderHalted>({
  // New in this project: every halted order, read whole by every email-sender replica (no consumer group offsets,
  // so no retry topic; its dead-letter name is the convention's but unused: a record that is not valid is skipped).
  name: 'altinn.notifications.orders.halted',
  contract: OrderHaltedContract,
  keyOf: (halt) => halt.orderId,
});

const emailWithheld = defineTopic<EmailWithheld>({
  // New in this project: emails email-sender did not send because their order was halted (orders → Cancelled).
  name: 'altinn.notifications.email.withheld',
  contract: EmailWithheldContract,
  keyOf: (withheld) => withheld.notificationId,
  retryTopic: 'altinn.notifications.email.withheld.retry',
});

export interface TopicCatalog {
  readonly healthCheck: TopicDefinition<string>;
  readonly emailHealthCheck: TopicDefinition<string>;
  readonly ordersPastDue: TopicDefinition<NotificationOrder>;
  readonly ordersPastDueRetry: TopicDefinition<NotificationOrder>;
  readonly emailQueue: TopicDefinition<Email>;
  readonly emailQueueRetry: TopicDefinition<Email>;
  readonly emailSendingAccepted: TopicDefinition<SendNotificationOperationIdentifier>;
  readonly emailSendingAcceptedRetry: TopicDefinition<SendNotificationOperationIdentifier>;
  readonly emailStatusUpdated: TopicDefinition<SendOperationResult>;
  readonly emailStatusUpdatedRetry: TopicDefinition<SendOperationResult>;
  readonly platformServiceUpdated: TopicDefinition<GenericServiceUpdate>;
  readonly platformServiceUpdatedRetry: TopicDefinition<GenericServiceUpdate>;
  readonly ordersHalted: TopicDefinition<OrderHalted>;
  readonly emailWithheld: TopicDefinition<EmailWithheld>;
  readonly emailWithheldRetry: TopicDefinition<EmailWithheld>;
}

// A topic suffix isolates a whole deployment's topics and consumer groups on a shared broker (end-to-end tests,
// benchmarks, side-by-side environments). It is appended, so every name keeps its `altinn.notifications.` (or
// `altinn.platform.`) prefix and the reference's prefixed ACLs still cover it.
const LEGAL_SUFFIX = /^[A-Za-z0-9_-]{1,60}$/;

function assertSuffix(suffix: string): void {
  if (!LEGAL_SUFFIX.test(suffix)) {
    throw new Error(`Topic suffix ${JSON.stringify(suffix)} must be 1-60 letters, digits, _ or -`);
  }
}

/** `topic` with `.<suffix>` appended to it and to its retry and dead-letter topics (itself without a suffix). */
export function withTopicSuffix<T>(
  topic: TopicDefinition<T>,
  suffix: string | undefined,
): TopicDefinition<T> {
  if (suffix === undefined) return topic;
  assertSuffix(suffix);
  return defineTopic({
    name: `${topic.name}.${suffix}`,
    contract: topic.contract,
    keyOf: (message: T) => topic.keyOf(message),
    ...(topic.retryTopic === undefined ? {} : { retryTopic: `${topic.retryTopic}.${suffix}` }),
    deadLetterTopic: `${topic.deadLetterTopic}.${suffix}`,
  });
}

function buildCatalog(suffix: string | undefined): TopicCatalog {
  const main = {
    healthCheck: withTopicSuffix(healthCheck, suffix),
    emailHealthCheck: withTopicSuffix(emailHealthCheck, suffix),
    ordersPastDue: withTopicSuffix(ordersPastDue, suffix),
    emailQueue: withTopicSuffix(emailQueue, suffix),
    emailSendingAccepted: withTopicSuffix(emailSendingAccepted, suffix),
    emailStatusUpdated: withTopicSuffix(emailStatusUpdated, suffix),
    platformServiceUpdated: withTopicSuffix(platformServiceUpdated, suffix),
    ordersHalted: withTopicSuffix(ordersHalted, suffix),
    emailWithheld: withTopicSuffix(emailWithheld, suffix),
  };
  // Main topic, then its retry topic: the order of the README's topic table.
  return Object.freeze({
    healthCheck: main.healthCheck,
    emailHealthCheck: main.emailHealthCheck,
    ordersPastDue: main.ordersPastDue,
    ordersPastDueRetry: defineRetryTopic(main.ordersPastDue),
    emailQueue: main.emailQueue,
    emailQueueRetry: defineRetryTopic(main.emailQueue),
    emailSendingAccepted: main.emailSendingAccepted,
    emailSendingAcceptedRetry: defineRetryTopic(main.emailSendingAccepted),
    emailStatusUpdated: main.emailStatusUpdated,
    emailStatusUpdatedRetry: defineRetryTopic(main.emailStatusUpdated),
    platformServiceUpdated: main.platformServiceUpdated,
    platformServiceUpdatedRetry: defineRetryTopic(main.platformServiceUpdated),
    ordersHalted: main.ordersHalted,
    emailWithheld: main.emailWithheld,
    emailWithheldRetry: defineRetryTopic(main.emailWithheld),
  });
}

/** Every topic of SPEC section 3 and its retry topic. */
export const Topics: TopicCatalog = buildCatalog(undefined);

/** The catalog with every name suffixed by `.<suffix>`; `Topics` itself when there is no suffix. */
export function topicCatalog(suffix?: string): TopicCatalog {
  return suffix === undefined ? Topics : buildCatalog(suffix);
}

/** Every topic definition (main and retry topics); the dead-letter topics are their `deadLetterTopic`s. */
export const ALL_TOPICS: readonly TopicDefinition<unknown>[] = Object.freeze(Object.values(Topics));

/** Every topic name to provision: each topic, its retry topic and its dead-letter topic, without duplicates. */
export function allTopicNames(topics: readonly TopicDefinition<unknown>[] = ALL_TOPICS): string[] {
  const names = topics.flatMap((topic) => [
    topic.name,
    ...(topic.retryTopic === undefined ? [] : [topic.retryTopic]),
    topic.deadLetterTopic,
  ]);
  return [...new Set(names)];
}

export interface ConsumerGroupIds {
  readonly orders: string;
  /** orders' intake of `orders.pastdue`: a group of its own, so a large order's intake holds no status update. */
  readonly ordersIntake: string;
  readonly emailSender: string;
  readonly statusPoller: string;
}

/**
 * Consumer group ids, one per app (orders has two), under altinn.notifications. so that the reference's prefixed
 * ACLs cover them.
 */
export const ConsumerGroups: ConsumerGroupIds = Object.freeze({
  orders: 'altinn.notifications.orders',
  ordersIntake: 'altinn.notifications.orders-intake',
  emailSender: 'altinn.notifications.email-sender',
  statusPoller: 'altinn.notifications.status-poller',
} as const);

/** The consumer groups of a deployment whose topics carry `suffix` (see `topicCatalog`). */
export function consumerGroups(suffix?: string): ConsumerGroupIds {
  if (suffix === undefined) return ConsumerGroups;
  assertSuffix(suffix);
  return Object.freeze({
    orders: `${ConsumerGroups.orders}.${suffix}`,
    ordersIntake: `${ConsumerGroups.ordersIntake}.${suffix}`,
    emailSender: `${ConsumerGroups.emailSender}.${suffix}`,
    statusPoller: `${ConsumerGroups.statusPoller}.${suffix}`,
  });
}
