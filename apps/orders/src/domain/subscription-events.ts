import { createHmac, type KeyObject } from 'node:crypto';
import { EMAIL_RESULT_DESCRIPTIONS, ORDER_STATUS_DESCRIPTIONS } from './status-descriptions';

/** The event types a subscription may ask for (the `events` column's CHECK names the same two). */
export const SUBSCRIPTION_EVENT_TYPES = ['notification.status', 'order.completed'] as const;
export type SubscriptionEventType = (typeof SUBSCRIPTION_EVENT_TYPES)[number];

/** The `${name}` macros of a custom payload. */
export const MACROS = [
  'orderId',
  'notificationId',
  'sendersReference',
  'status',
  'recipient',
  'lastUpdate',
] as const;
export type Macro = (typeof MACROS)[number];

/** The macros a custom Kafka topic may use: their values (uuids, status names) are legal in topic names. */
export const TOPIC_MACROS = ['orderId', 'notificationId', 'status'] as const satisfies readonly Macro[];

// Kafka's own rule for topic names (kafka.common.internals.Topic): 1–249 of these characters, not `.` or `..`.
const KAFKA_TOPIC = /^[a-zA-Z0-9._-]{1,249}$/;

export function isValidKafkaTopic(topic: string): boolean {
  return KAFKA_TOPIC.test(topic) && topic !== '.' && topic !== '..';
}

const MACRO = /\$\{([A-Za-z]+)\}/g;

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
export interface HttpDestinationSettings {
  readonly url: string;
  /** Events per request; above 1 the body is a JSON array of payloads. Default 1. */
  readonly maxEventsPerRequest?: number;
}

/** `destination.kafka` of a subscription: the subscriber's own cluster. */
export interface KafkaDestinationSettings {
  /** `kafka://host1:9092,host2:9092` */
  readonly url: string;
  readonly topic: string;
  readonly sasl?: {
    readonly mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512';
    readonly username: string;
    readonly password: string;
  };
  readonly tls?: { readonly ca?: string; readonly rejectUnauthorized?: boolean };
}

export type SubscriptionDestination =
  | { readonly http: HttpDestinationSettings; readonly kafka?: undefined }
  | { readonly kafka: KafkaDestinationSettings; readonly http?: undefined };

/** `custom` of a subscription: a payload template (a string, or any JSON value) and, for Kafka, a topic template. */
export interface SubscriptionCustom {
  readonly payload?: unknown;
  readonly topic?: string;
}

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
export function macroValues(event: SubscriptionEvent): Readonly<Record<Macro, string>> {
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
export function substituteMacros(template: string, values: Readonly<Partial<Record<Macro, string>>>): string {
  return template.replace(MACRO, (whole, name: string) => values[name as Macro] ?? whole);
}

/**
 * Replaces macros inside every string of a JSON template (object keys stay as written): the result is then
 * serialised as a whole, so a value with quotes or newlines is escaped by JSON.stringify, never spliced into JSON text.
 */
function substituteInJson(template: unknown, values: Readonly<Record<Macro, string>>): unknown {
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
  return isValidKafkaTopic(topic) ? topic : destinationTopic;
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
  if (destination.http !== undefined) {
    try {
      return `http:${new URL(destination.http.url).host}`;
    } catch {
      return 'http:invalid';
    }
  }
  const [firstBroker] = kafkaBrokers(destination.kafka.url);
  return `kafka:${firstBroker ?? 'invalid'}/${destination.kafka.topic}`;
}

/** The brokers of a `kafka://h1:9092,h2:9092` URL. */
export function kafkaBrokers(url: string): string[] {
  const list = url.replace(/^kafka:\/\//i, '').split(/[/?#]/)[0] ?? '';
  return list
    .split(',')
    .map((broker) => broker.trim())
    .filter((broker) => broker !== '' && !broker.includes('@'));
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
