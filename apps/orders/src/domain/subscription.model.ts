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

export interface KafkaBroker {
  /** Without IPv6 brackets. */
  readonly host: string;
  readonly port: number;
}

const KAFKA_SCHEME = 'kafka://';
// host:port, the host a name, an IPv4 address or a bracketed IPv6 address.
const BROKER = /^(\[[0-9a-fA-F:.]+\]|[a-zA-Z0-9._-]+):(\d{1,5})$/;

/** The brokers of `kafka://h1:9092,h2:9092`, or why it is not such a URL. */
export function parseKafkaUrl(
  url: string,
): { readonly ok: true; readonly brokers: KafkaBroker[] } | { readonly ok: false; readonly reason: string } {
  const malformed = {
    ok: false,
    reason: 'must be kafka://host:port[,host:port…] (no path, credentials or query)',
  } as const;
  if (!url.toLowerCase().startsWith(KAFKA_SCHEME)) return malformed;
  const brokers: KafkaBroker[] = [];
  for (const part of url.slice(KAFKA_SCHEME.length).split(',')) {
    const match = BROKER.exec(part.trim());
    const port = Number(match?.[2]);
    if (match?.[1] === undefined || port < 1 || port > 65_535) return malformed;
    brokers.push({ host: match[1].replace(/^\[(.*)\]$/, '$1'), port });
  }
  return { ok: true, brokers };
}

/** `host:port` as kafkajs takes it (IPv6 in brackets). */
export function brokerAddress(broker: KafkaBroker): string {
  return broker.host.includes(':') ? `[${broker.host}]:${broker.port}` : `${broker.host}:${broker.port}`;
}
