import {
  ACS_EMAIL_RESOURCE,
  type OperatorSubscriptionView,
  type OrdersRateLimitView,
  type OutboxView,
} from '@notifications/contracts';
import { destinationLabel } from '../domain/subscription-events';
import { type OutboxTopicBacklog } from '../store/outbox.repository';
import { type RateLimitPause } from '../store/rate-limit.repository';
import { type SubscriptionDeliveryState } from '../store/subscription-delivery.repository';

/** The stored email rate-limit pause as `GET /internal/rate-limit` and the console's pipeline page show it. */
export function rateLimitView(pause: RateLimitPause | undefined, now = Date.now()): OrdersRateLimitView {
  return {
    resource: ACS_EMAIL_RESOURCE,
    paused: pause !== undefined && pause.pausedUntil.getTime() > now,
    pausedUntil: pause?.pausedUntil.toISOString() ?? null,
    source: pause?.source ?? null,
    updatedAt: pause?.updatedAt.toISOString() ?? null,
  };
}

/** The outbox backlog as `GET /internal/outbox` and the console's pipeline page show it. */
export function outboxView(topics: readonly OutboxTopicBacklog[], now = Date.now()): OutboxView {
  const oldest = topics.reduce<Date | undefined>(
    (min, topic) => (min === undefined || topic.oldestCreatedAt < min ? topic.oldestCreatedAt : min),
    undefined,
  );
  return {
    unpublished: topics.reduce((sum, topic) => sum + topic.unpublished, 0),
    oldestUnpublishedAt: oldest?.toISOString() ?? null,
    oldestAgeMs: oldest === undefined ? null : Math.max(0, now - oldest.getTime()),
    topics: topics.map((topic) => ({
      topic: topic.topic,
      unpublished: topic.unpublished,
      available: topic.available,
      waiting: topic.waiting,
      failing: topic.failing,
      oldestUnpublishedAt: topic.oldestCreatedAt.toISOString(),
    })),
  };
}

/** A subscription's delivery state as `GET /internal/subscriptions` shows it (no secret, no personal data). */
export function operatorSubscriptionView(
  state: SubscriptionDeliveryState,
  now: Date,
): OperatorSubscriptionView {
  const expired = state.expires !== null && state.expires.getTime() <= now.getTime();
  return {
    id: state.id,
    creator: state.creator,
    status: expired ? 'expired' : state.state,
    destination: destinationLabel(state.destination),
    pending: state.pending,
    oldestPendingAt: state.oldestPending?.toISOString() ?? null,
    oldestPendingAgeMs:
      state.oldestPending === null ? null : Math.max(0, now.getTime() - state.oldestPending.getTime()),
    timesSent: state.timesSent,
    failsCounter: state.failsCounter,
    lastSuccess: state.lastSuccess?.toISOString() ?? null,
    lastFailure: state.lastFailure?.toISOString() ?? null,
    lastFailureReason: state.lastFailureReason,
    nextAttemptAt: state.nextAttemptAt.toISOString(),
  };
}
