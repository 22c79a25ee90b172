import { isIP } from 'node:net';
import { normaliseHost } from './address-policy';
// A status subscription as stored (table `subscriptions`, README "Subscriptions"). The jsonb columns hold these
// shapes; the secrets in them (SASL password, signing secret) are written by the API and never shown by it.

import {
  type KafkaSaslMechanism,
  type SubscriptionEventType,
  type SubscriptionStatus,
} from '@notifications/contracts';

export { type KafkaSaslMechanism, type SubscriptionEventType, type SubscriptionStatus };

export interface KafkaSasl {
  readonly mechanism: KafkaSaslMechanism;
  readonly username: string;
  readonly password: string;
}

/** TLS to the subscriber's brokers; `{}` = TLS with the system's trusted CAs (the API's `tls: true`). */
export interface KafkaTls {
  /** PEM certificate(s) trusted instead of the system's. */
  readonly ca?: string;
  /** Default true: the brokers' certificates are verified. */
  readonly rejectUnauthorized?: boolean;
}

export interface HttpDestination {
  readonly http: { readonly url: string; readonly maxEventsPerRequest: number };
}

export interface KafkaDestination {
  readonly kafka: {
    /** `kafka://host:port[,host:port…]` */
    readonly url: string;
    readonly topic: string;
    readonly sasl?: KafkaSasl;
    readonly tls?: KafkaTls;
  };
}

export type SubscriptionDestination = HttpDestination | KafkaDestination;

/** A payload template (a string, or a JSON value whose strings are templates) and, for Kafka, a topic template. */
export interface SubscriptionCustom {
  readonly payload?: unknown;
  readonly topic?: string;
}

/** The stored state; the API shows `expired` instead once `expires` has passed (SubscriptionStatus). */
export type SubscriptionState = Exclude<SubscriptionStatus, 'expired'>;

export interface NewSubscription {
  readonly id: string;
  readonly creator: string;
  readonly description?: string;
  readonly filter: { readonly sendersReference?: string; readonly resourceId?: string };
  readonly events: readonly SubscriptionEventType[];
  readonly destination: SubscriptionDestination;
  readonly custom?: SubscriptionCustom;
  readonly signingSecret: string;
  readonly expires?: Date;
}

/** A stored subscription with its delivery record, as the API reads it (the signing secret left out). */
export interface SubscriptionRecord extends Omit<NewSubscription, 'signingSecret'> {
  readonly created: Date;
  readonly status: SubscriptionStatus;
  readonly timesSent: number;
  readonly lastNotification?: Date;
  readonly lastSuccess?: Date;
  readonly lastFailure?: Date;
  readonly lastFailureReason?: string;
  readonly failsCounter: number;
  /** Events recorded for it and not delivered yet. */
  readonly pendingEvents: number;
}

/** The most bootstrap brokers a destination URL may list (a subscriber's cluster needs two or three). */
export const MAX_KAFKA_URL_BROKERS = 16;

export type KafkaUrlCheck =
  | { readonly ok: true; readonly brokers: readonly string[] }
  | { readonly ok: false; readonly reason: string };

const HOST_NAME = /^(?=.{1,253}$)[a-z0-9_](?:[a-z0-9_-]{0,62})(?:\.[a-z0-9_](?:[a-z0-9_-]{0,62}))*$/;

/**
 * The bootstrap brokers of `kafka://host1:9092,host2:9092` (Orion's notation), as `host:port` strings, lower case.
 * Every broker needs a port (1..65535); no credentials, path or query (SASL settings are separate fields, so no
 * secret ever sits in a URL); IPv6 literals are refused because kafkajs splits a broker at its first `:`.
 */
export function parseKafkaUrl(raw: string): KafkaUrlCheck {
  const match = /^kafka:\/\/(.*)$/i.exec(raw.trim());
  if (match?.[1] === undefined) return { ok: false, reason: 'must start with kafka://' };
  const entries = match[1].split(',');
  if (entries.length > MAX_KAFKA_URL_BROKERS) {
    return { ok: false, reason: `lists more than ${MAX_KAFKA_URL_BROKERS} brokers` };
  }
  const brokers: string[] = [];
  for (const entry of entries) {
    const broker = entry.trim();
    if (broker === '') return { ok: false, reason: 'has an empty broker entry' };
    if (/[/?#@]/.test(broker)) {
      return { ok: false, reason: 'must list host:port pairs only (no credentials, path or query)' };
    }
    if (broker.startsWith('[')) {
      return { ok: false, reason: `${broker}: IPv6 literals are not supported, use a host name` };
    }
    const colon = broker.lastIndexOf(':');
    if (colon === -1) return { ok: false, reason: `${broker} has no port` };
    const host = normaliseHost(broker.slice(0, colon));
    const portText = broker.slice(colon + 1);
    if (isIP(host) === 6 || host.includes(':')) {
      return { ok: false, reason: `${broker}: IPv6 literals are not supported, use a host name` };
    }
    if (isIP(host) !== 4 && !HOST_NAME.test(host))
      return { ok: false, reason: `${broker} has an invalid host` };
    const port = /^\d{1,5}$/.test(portText) ? Number(portText) : 0;
    if (port < 1 || port > 65_535) return { ok: false, reason: `${broker} has an invalid port (1..65535)` };
    brokers.push(`${host}:${port}`);
  }
  return { ok: true, brokers };
}
