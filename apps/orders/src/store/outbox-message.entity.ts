import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * A Kafka message written in the same transaction as the state change it announces, published by the relay.
 * `payload` is the serialised wire form (checked against the topic's contract when it was written).
 */
@Entity({ name: 'outbox' })
export class OutboxMessageEntity {
  // bigint identity: pg returns it as a string.
  @PrimaryColumn({ type: 'bigint' })
  id!: string;

  @Column({ type: 'text' })
  topic!: string;

  @Column({ name: 'message_key', type: 'text', nullable: true })
  messageKey!: string | null;

  @Column({ type: 'text' })
  payload!: string;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  /** Claimable from this time: the back-off after a failed publish (`infinity`: parked for good). */
  @Column({ name: 'available_at', type: 'timestamptz' })
  availableAt!: Date;

  @Column({ type: 'integer' })
  attempts!: number;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError!: string | null;

  @Column({ name: 'published_at', type: 'timestamptz', nullable: true })
  publishedAt!: Date | null;

  /** JSON of extra Kafka headers to publish with (e.g. `x-order-id` on `email.queue`); null for none. */
  @Column({ type: 'text', nullable: true })
  headers!: string | null;

  /** JSON of the `traceparent`/`tracestate` headers the relay publishes with (null when tracing is off). */
  @Column({ name: 'trace_context', type: 'text', nullable: true })
  traceContext!: string | null;
}
