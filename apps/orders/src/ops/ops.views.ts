import { ACS_EMAIL_RESOURCE, type OrdersRateLimitView, type OutboxView } from '@notifications/contracts';
import { type OutboxTopicBacklog } from '../store/outbox.repository';
import { type RateLimitPause } from '../store/rate-limit.repository';

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
