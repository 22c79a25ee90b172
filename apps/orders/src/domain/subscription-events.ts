import { createHmac, type KeyObject } from 'node:crypto';
import { EMAIL_RESULT_DESCRIPTIONS, ORDER_STATUS_DESCRIPTIONS } from './status-descriptions';
import {
  type HttpDestination,
  type KafkaDestination,
  parseKafkaUrl,
  type SubscriptionCustom,
  type SubscriptionDestination,
  type SubscriptionEventType,
} from './subscription.model';
import { isKafkaTopicName, MACRO_PATTERN, type SubscriptionMacro } from './subscription-templates';

// One list of event types (libs/contracts), of macros and of topic rules (./subscription-templates), and one shape
// of a stored destination (./subscription.model): the API validates with them, delivery renders with them.
export { type SubscriptionCustom, type SubscriptionDestination };

/** One pending row of `subscription_events`, as delivery reads it. */
export interface SubscriptionEvent {
  /** The row id (bigint as text): delivery order within the subscription. */
  readonly id: string;
  /** Stable across redeliveries: receivers de-duplicate on it. */
  readonly eventId: string;
  readonly subscriptionId: string;
  readonly type: SubscriptionEventType;
  readonly orderId: string;
  readonly sendersReference: string | null;
  readonly notificationId: string | null;
  readonly recipientEmail: string | null;
  /** An email result (`notification.status`) or an order's processing status (`order.completed`). */
  readonly status: string;
  readonly statusTime: Date;
}

/** `destination.http` of a subscription. */
export type HttpDestinationSettings = HttpDestination['http'];

/** `destination.kafka` of a subscription: the subscriber's own cluster. */
export type KafkaDestinationSettings = KafkaDestination['kafka'];

/** The default payload of an event (README "Subscriptions"). */
export interface DefaultEventPayload {
  readonly eventId: string;
  readonly subscriptionId: string;
  readonly type: SubscriptionEventType;
  readonly orderId: string;
  readonly sendersReference: string | null;
  readonly notificationId: string | null;
  readonly channel: 'Email';
  readonly recipient: { readonly emailAddress: string } | null;
  readonly status: string;
  readonly description: string;
  readonly lastUpdate: string;
}

export function statusDescription(event: Pick<SubscriptionEvent, 'type' | 'status'>): string {
  const descriptions: Readonly<Record<string, string>> =
    event.type === 'order.completed' ? ORDER_STATUS_DESCRIPTIONS : EMAIL_RESULT_DESCRIPTIONS;
  return descriptions[event.status] ?? '';
}

export function defaultPayload(event: SubscriptionEvent): DefaultEventPayload {
  const isNotification = event.type === 'notification.status';
  return {
    eventId: event.eventId,
    subscriptionId: event.subscriptionId,
    type: event.type,
    orderId: event.orderId,
    sendersReference: event.sendersReference,
    notificationId: isNotification ? event.notificationId : null,
    channel: 'Email',
    recipient:
      isNotification && event.recipientEmail !== null ? { emailAddress: event.recipientEmail } : null,
    status: event.status,
    description: statusDescription(event),
    lastUpdate: event.statusTime.toISOString(),
  };
}

/** The value of each macro for one event; absent values are empty strings. */
export function macroValues(event: SubscriptionEvent): Readonly<Record<SubscriptionMacro, string>> {
  return {
    orderId: event.orderId,
    notificationId: event.notificationId ?? '',
    sendersReference: event.sendersReference ?? '',
    status: event.status,
    recipient: event.recipientEmail ?? '',
    lastUpdate: event.statusTime.toISOString(),
  };
}

/** Replaces the known `${macro}`s in `template`; anything else (an unknown name, a lone `$`) stays as written. */
export function substituteMacros(
  template: string,
  values: Readonly<Partial<Record<SubscriptionMacro, string>>>,
): string {
  return template.replace(MACRO_PATTERN, (whole, name: string) =>
    Object.hasOwn(values, name) ? (values[name as SubscriptionMacro] ?? whole) : whole,
  );
}

/**
 * Replaces macros inside every string of a JSON template (object keys stay as written): the result is then
 * serialised as a whole, so a value with quotes or newlines is escaped by JSON.stringify, never spliced into JSON text.
 */
function substituteInJson(template: unknown, values: Readonly<Record<SubscriptionMacro, string>>): unknown {
  if (typeof template === 'string') return substituteMacros(template, values);
  if (Array.isArray(template)) return template.map((item) => substituteInJson(item, values));
  if (template !== null && typeof template === 'object') {
    return Object.fromEntries(
      Object.entries(template).map(([key, value]) => [key, substituteInJson(value, values)]),
    );
  }
  return template;
}

/** An event as sent: the body (or Kafka value) and its media type. */
export interface RenderedPayload {
  readonly body: string;
  readonly contentType: 'application/json' | 'text/plain; charset=utf-8';
}

/**
 * The payload of one event: the default payload, or the subscription's custom template. A string template is plain
 * text (substitution as written, sent as text/plain); any other JSON value is a JSON template.
 */
export function renderPayload(event: SubscriptionEvent, custom: SubscriptionCustom | null): RenderedPayload {
  if (custom?.payload === undefined || custom.payload === null) {
    return { body: JSON.stringify(defaultPayload(event)), contentType: 'application/json' };
  }
  const values = macroValues(event);
  if (typeof custom.payload === 'string') {
    return { body: substituteMacros(custom.payload, values), contentType: 'text/plain; charset=utf-8' };
  }
  return { body: JSON.stringify(substituteInJson(custom.payload, values)), contentType: 'application/json' };
}

/** Whether several events can share one request: a JSON array of JSON payloads, never of plain-text ones. */
export function isBatchable(custom: SubscriptionCustom | null): boolean {
  return typeof custom?.payload !== 'string';
}

/**
 * The Kafka topic of one event: the custom topic template with its macros replaced, or the destination's topic. A
 * template whose result is not a legal topic name for this event (e.g. `${notificationId}` alone for an
 * `order.completed` event, which has none) falls back to the destination's topic rather than blocking delivery.
 */
export function renderTopic(
  event: SubscriptionEvent,
  destinationTopic: string,
  custom: SubscriptionCustom | null,
): string {
  if (custom?.topic === undefined) return destinationTopic;
  const values = macroValues(event);
  const topic = substituteMacros(custom.topic, {
    orderId: values.orderId,
    notificationId: values.notificationId,
    status: values.status,
  });
  return isKafkaTopicName(topic) ? topic : destinationTopic;
}

/** The headers a receiver verifies an HTTP delivery with (README "Subscriptions", "Verifying a delivery"). */
export const SIGNATURE_HEADERS = {
  signature: 'x-notifications-signature',
  timestamp: 'x-notifications-timestamp',
  eventId: 'x-notifications-event-id',
  eventType: 'x-notifications-event-type',
  eventCount: 'x-notifications-event-count',
} as const;

/** `v1=` + hex HMAC-SHA256 under the subscription's secret of `<timestamp>.<body>` (timestamp in unix seconds). */
export function signature(key: KeyObject | string, timestampSeconds: number, body: string): string {
  return `v1=${createHmac('sha256', key).update(`${timestampSeconds}.${body}`).digest('hex')}`;
}

/**
 * The signed headers of one HTTP delivery of `events` (in order; the body holds them all). The event id and type
 * are the first event's; `x-notifications-event-count` says how many the body holds when there are several.
 */
export function signedHeaders(
  key: KeyObject | string,
  events: readonly Pick<SubscriptionEvent, 'eventId' | 'type'>[],
  body: string,
  now: Date,
): Record<string, string> {
  const [first] = events;
  if (first === undefined) throw new Error('signedHeaders: no event');
  const timestamp = Math.floor(now.getTime() / 1000);
  return {
    [SIGNATURE_HEADERS.eventId]: first.eventId,
    [SIGNATURE_HEADERS.eventType]: first.type,
    [SIGNATURE_HEADERS.timestamp]: String(timestamp),
    [SIGNATURE_HEADERS.signature]: signature(key, timestamp, body),
    ...(events.length > 1 ? { [SIGNATURE_HEADERS.eventCount]: String(events.length) } : {}),
  };
}

/**
 * A subscription's destination as metrics and operators see it: `http:<host>` or `kafka:<first broker>/<topic>`,
 * never a path, query, user info or SASL secret (they may hold tokens).
 */
export function destinationLabel(destination: SubscriptionDestination): string {
  if ('http' in destination) {
    try {
      return `http:${new URL(destination.http.url).host}`;
    } catch {
      return 'http:invalid';
    }
  }
  const parsed = parseKafkaUrl(destination.kafka.url);
  const firstBroker = parsed.ok ? parsed.brokers[0] : undefined;
  return `kafka:${firstBroker ?? 'invalid'}/${destination.kafka.topic}`;
}

// Longest stored failure reason; operators read it, it never holds the answer's body (personal data may be there).
const MAX_FAILURE_REASON = 500;

/** A delivery failure as stored: one line, at most 500 characters, email addresses masked. */
export function failureReason(text: string): string {
  const line = text
    .replace(/[\r\n\t]+/g, ' ')
    .replace(/[^\s@<>"'(),;:]+@[^\s@<>"'(),;:]+\.[^\s@<>"'(),;:]+/g, '<address>')
    .trim();
  return line.length <= MAX_FAILURE_REASON ? line : `${line.slice(0, MAX_FAILURE_REASON - 1)}…`;
}

/** The wait after the `fails`-th consecutive failure: initial × 2^(fails − 1), at most `maxMs`. */
export function retryDelayMs(fails: number, initialMs: number, maxMs: number): number {
  const exponent = Math.min(Math.max(fails - 1, 0), 40);
  return Math.min(maxMs, initialMs * 2 ** exponent);
}
