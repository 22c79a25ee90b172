import {
  allTopicNames,
  defineTopic,
  type SendNotificationOperationIdentifier,
  type TopicCatalog,
  type TopicDefinition,
} from '@notifications/contracts';
import { type RetryPolicy } from '@notifications/messaging';
import { type TopicBinding } from '@notifications/messaging/nest';

/**
 * The logical topic key of every delay tier (`@EventPattern(DELAY_TIERS_KEY)`): how many tiers there are comes
 * from the check schedule, so the key resolves to one topic per tier at start-up.
 */
export const DELAY_TIERS_KEY = 'emailSendingAcceptedDelayTiers';

/**
 * A delay tier: a topic where operations wait until their `x-due-at` (the messaging runtime pauses its partition
 * until the head message is due — `gatedByDueAt`). It has no retry topic: a failed check goes back to the tier
 * itself, due after exactly the tier's delay, so every message in it keeps the same delay and the topic stays in
 * due-time order. Dead letters go with the accepted topic's.
 */
export interface DelayTier {
  readonly delayMs: number;
  readonly topic: TopicDefinition<SendNotificationOperationIdentifier>;
}

export function durationLabel(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/** The tiers of a check schedule, one per distinct interval, shortest first. */
export class DelayTiers {
  readonly tiers: readonly DelayTier[];

  /** `accepted`: the deployment's `email.sending.accepted` (tier `X.delay.2s` for a 2 s interval). */
  constructor(
    accepted: TopicDefinition<SendNotificationOperationIdentifier>,
    intervalsMs: readonly number[],
  ) {
    this.tiers = [...new Set(intervalsMs)]
      .sort((a, b) => a - b)
      .map((delayMs) => ({
        delayMs,
        topic: defineTopic({
          name: `${accepted.name}.delay.${durationLabel(delayMs)}`,
          contract: accepted.contract,
          keyOf: (message) => accepted.keyOf(message),
          deadLetterTopic: accepted.deadLetterTopic,
        }),
      }));
  }

  get(delayMs: number): DelayTier | undefined {
    return this.tiers.find((tier) => tier.delayMs === delayMs);
  }

  /** What {@link DELAY_TIERS_KEY} resolves to: each tier gated by due time, retried after its own delay. */
  bindings(): TopicBinding[] {
    return this.tiers.map((tier) => ({
      topic: tier.topic as TopicDefinition<unknown>,
      gatedByDueAt: true,
      retryPolicy: tierRetryPolicy(tier.delayMs),
    }));
  }
}

/** Retrying after exactly the tier's delay keeps every message in the tier at the same delay. */
function tierRetryPolicy(delayMs: number): RetryPolicy {
  return { maxAttempts: 10, initialDelayMs: delayMs, multiplier: 1, maxDelayMs: delayMs };
}

/** Every topic status-poller reads or writes (tests and benchmarks create them up front). */
export function statusPollerTopicNames(catalog: TopicCatalog, tiers: DelayTiers): string[] {
  return [
    ...allTopicNames([catalog.emailSendingAccepted, ...tiers.tiers.map((tier) => tier.topic)]),
    catalog.emailStatusUpdated.name,
    catalog.emailHealthCheck.name,
  ];
}
