/** A subscriber's Kafka cluster, as a subscription's `destination.kafka` names it (secrets included). */
export interface KafkaDestinationSettings {
  /** `kafka://host1:9092,host2:9092`: the bootstrap brokers. */
  readonly url: string;
  readonly topic: string;
  readonly sasl?: {
    readonly mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512';
    readonly username: string;
    readonly password: string;
  };
  /** `true` = TLS with Node's trust store; an object names the CA (PEM) or turns verification off. */
  readonly tls?: true | { readonly ca?: string; readonly rejectUnauthorized?: boolean };
}

/** One subscription event as a Kafka record (key = orderId keeps an order's events on one partition, in order). */
export interface KafkaEventRecord {
  readonly topic: string;
  readonly key: string;
  readonly value: string;
  readonly headers: Readonly<Record<string, string>>;
}

/** Writes events into a subscriber's cluster; resolves once every record is acknowledged by all in-sync replicas. */
export interface KafkaEventSender {
  send(destination: KafkaDestinationSettings, records: readonly KafkaEventRecord[]): Promise<void>;
}

export const KAFKA_EVENT_SENDER = Symbol('KafkaEventSender');
