import { type KafkaDestinationSettings } from '../domain/subscription-events';

export { type KafkaDestinationSettings } from '../domain/subscription-events';

/** One event as a record for a subscriber's cluster: key = order id (one partition per order), headers `type` and `eventId`. */
export interface KafkaEventRecord {
  readonly topic: string;
  readonly key: string;
  readonly value: string;
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * Sends subscription events into a subscriber's own Kafka cluster (`destination.kafka`). Resolves once every record
 * is acknowledged by all in-sync replicas, in the given order per partition (key = order id, so per order); rejects
 * when any is not (the delivery counts the whole batch as failed and sends it again later: receivers de-duplicate
 * on `eventId`). Implemented by KafkaDestinationPool (clients/kafka-destinations.ts: one long-lived producer per
 * cluster).
 */
export interface KafkaEventSender {
  send(destination: KafkaDestinationSettings, records: readonly KafkaEventRecord[]): Promise<void>;
}

/** The injection token of the KafkaEventSender (provided by ClientsModule). */
export const KAFKA_EVENT_SENDER = Symbol('KAFKA_EVENT_SENDER');
