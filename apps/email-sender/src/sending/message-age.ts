import { MessagingHeaders, type MessageContext } from '@notifications/messaging';

/**
 * When an `email.queue` message was first published: its `x-original-timestamp` (kept when it moves to a retry
 * topic) or else its own Kafka timestamp. Undefined when neither is a number.
 */
export function firstPublishedAtMs(
  context: Pick<MessageContext, 'headers' | 'timestamp'>,
): number | undefined {
  const raw = context.headers[MessagingHeaders.originalTimestamp] ?? context.timestamp;
  const ms = Number(raw);
  return raw !== '' && Number.isFinite(ms) ? ms : undefined;
}

/**
 * How much older than `maxAgeMs` the message is (ms), or 0 when it may still be sent. An email older than the
 * notification's expiry is never sent: after a consumer group's offsets expire (offsets.retention.minutes, 7 days
 * by default) the group starts again at the earliest retained record, and every email it sent before then is
 * older than that — so with a max age below the offset retention, a reset group re-sends nothing. Orders turns
 * the notification, if still unfinished, into `Failed_TTL` (SPEC step 9: expiry + grace).
 */
export function tooOldByMs(
  context: Pick<MessageContext, 'headers' | 'timestamp'>,
  maxAgeMs: number,
  now: number = Date.now(),
): number {
  const publishedAt = firstPublishedAtMs(context);
  if (publishedAt === undefined) return 0;
  return Math.max(0, now - publishedAt - maxAgeMs);
}
