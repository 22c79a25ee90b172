import { type OrderProcessingStatus } from '@notifications/contracts';
import { Column, Entity, PrimaryColumn } from 'typeorm';
import { type OrderRecipient } from '../domain/order.model';

@Entity({ name: 'orders' })
export class OrderEntity {
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  /** The `org` claim of the token that created the order. */
  @Column({ type: 'text' })
  creator!: string;

  @Column({ name: 'senders_reference', type: 'text', nullable: true })
  sendersReference!: string | null;

  @Column({ name: 'requested_send_time', type: 'timestamptz' })
  requestedSendTime!: Date;

  @Column({ type: 'timestamptz' })
  created!: Date;

  @Column({ name: 'notification_channel', type: 'text' })
  notificationChannel!: string;

  @Column({ name: 'ignore_reservation', type: 'boolean', nullable: true })
  ignoreReservation!: boolean | null;

  @Column({ name: 'resource_id', type: 'text', nullable: true })
  resourceId!: string | null;

  @Column({ name: 'condition_endpoint', type: 'text', nullable: true })
  conditionEndpoint!: string | null;

  @Column({ name: 'order_type', type: 'text' })
  orderType!: string;

  /** The recipients as requested (identifiers are resolved when the order is processed). */
  @Column({ type: 'jsonb' })
  recipients!: OrderRecipient[];

  @Column({ name: 'recipient_count', type: 'integer' })
  recipientCount!: number;

  @Column({ name: 'processing_status', type: 'text' })
  processingStatus!: OrderProcessingStatus;

  @Column({ name: 'status_changed', type: 'timestamptz' })
  statusChanged!: Date;

  /** Not claimed before this time (set when processing is retried later). */
  @Column({ name: 'not_before', type: 'timestamptz', nullable: true })
  notBefore!: Date | null;

  @Column({ name: 'claimed_at', type: 'timestamptz', nullable: true })
  claimedAt!: Date | null;

  @Column({ name: 'processing_attempts', type: 'integer' })
  processingAttempts!: number;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError!: string | null;

  @Column({ name: 'idempotency_key', type: 'text', nullable: true })
  idempotencyKey!: string | null;

  @Column({ name: 'request_hash', type: 'text', nullable: true })
  requestHash!: string | null;

  @Column({ name: 'recipient_lookup', type: 'jsonb', nullable: true })
  recipientLookup!: unknown;

  /** When the order was halted (README "Halt"); it ends Cancelled once every notification is final. */
  @Column({ name: 'halted_at', type: 'timestamptz', nullable: true })
  haltedAt!: Date | null;

  /** Trace context of the creating request (JSON of `traceparent`/`tracestate`); null when tracing is off. */
  @Column({ name: 'trace_context', type: 'text', nullable: true })
  traceContext!: string | null;
}
