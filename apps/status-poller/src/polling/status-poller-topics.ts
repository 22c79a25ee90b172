import {
  consumerGroups,
  defineTopic,
  Topics,
  withTopicSuffix,
  type SendNotificationOperationIdentifier,
  type SendOperationResult,
  type TopicDefinition,
} from '@notifications/contracts';

/**
 * A delay tier: messages wait in `topic.retryTopic` until their `x-due-at`. The messaging runtime gates only
 * retry topics by due time (pausing the partition until its head message is due), so each tier is registered as
 * a topic whose *retry topic* is the waiting room; the registration's main topic (`….unused`) exists only because
 * a registration needs one, and nothing is written to it.
 */
export interface DelayTier {
  readonly delayMs: number;
  readonly topic: TopicDefinition<SendNotificationOperationIdentifier>;
  /** Where messages wait (the gated topic). */
  readonly waitTopic: string;
}

export interface StatusPollerTopics {
  readonly sendingAccepted: TopicDefinition<SendNotificationOperationIdentifier>;
  readonly statusUpdated: TopicDefinition<SendOperationResult>;
  readonly healthCheck: TopicDefinition<string>;
  readonly delayTiers: readonly DelayTier[];
  readonly groupId: string;
}

export function durationLabel(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/**
 * The app's topics: the contracts' names, or (tests, benchmarks) the same names with `.<suffix>` appended so a
 * run has topics and a consumer group of its own. One delay tier per distinct check interval, named
 * `altinn.notifications.email.sending.accepted.delay.<interval>`; they share the accepted topic's dead-letter topic.
 */
export function statusPollerTopics(
  intervalsMs: readonly number[],
  options: { suffix?: string; groupId?: string } = {},
): StatusPollerTopics {
  const sendingAccepted = withTopicSuffix(Topics.emailSendingAccepted, options.suffix);
  const delayTiers = [...new Set(intervalsMs)]
    .sort((a, b) => a - b)
    .map((delayMs): DelayTier => {
      const waitTopic = `${sendingAccepted.name}.delay.${durationLabel(delayMs)}`;
      return {
        delayMs,
        waitTopic,
        topic: defineTopic({
          name: `${waitTopic}.unused`,
          contract: sendingAccepted.contract,
          keyOf: (message) => sendingAccepted.keyOf(message),
          retryTopic: waitTopic,
          deadLetterTopic: sendingAccepted.deadLetterTopic,
        }),
      };
    });
  return {
    sendingAccepted,
    statusUpdated: withTopicSuffix(Topics.emailStatusUpdated, options.suffix),
    healthCheck: withTopicSuffix(Topics.emailHealthCheck, options.suffix),
    delayTiers,
    groupId: options.groupId ?? consumerGroups(options.suffix).statusPoller,
  };
}

/** Every topic to provision: consumed topics with their retry and dead-letter topics, and produced topics. */
export function statusPollerTopicNames(topics: StatusPollerTopics): string[] {
  const consumed = [topics.sendingAccepted, ...topics.delayTiers.map((tier) => tier.topic)].flatMap(
    (topic) => [
      topic.name,
      ...(topic.retryTopic === undefined ? [] : [topic.retryTopic]),
      topic.deadLetterTopic,
    ],
  );
  const produced = [topics.statusUpdated.name, topics.healthCheck.name];
  return [...new Set([...consumed, ...produced])];
}

export const STATUS_POLLER_TOPICS = Symbol('STATUS_POLLER_TOPICS');
