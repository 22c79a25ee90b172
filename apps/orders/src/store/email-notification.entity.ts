import { type EmailNotificationResultType } from '@notifications/contracts';
import { Column, Entity, PrimaryColumn } from 'typeorm';

/** One email to one address of one order: unique per (order, recipient key). */
@Entity({ name: 'email_notifications' })
export class EmailNotificationEntity {
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ name: 'order_id', type: 'uuid' })
  orderId!: string;

  /** The normalised address, or `nin:<number>` / `org:<number>` for a recipient that got no address. */
  @Column({ name: 'recipient_key', type: 'text' })
  recipientKey!: string;

  @Column({ name: 'to_address', type: 'text', nullable: true })
  toAddress!: string | null;

  @Column({ name: 'national_identity_number', type: 'text', nullable: true })
  nationalIdentityNumber!: string | null;

  @Column({ name: 'organization_number', type: 'text', nullable: true })
  organizationNumber!: string | null;

  @Column({ name: 'recipient_name', type: 'text', nullable: true })
  recipientName!: string | null;

  @Column({ name: 'is_reserved', type: 'boolean', nullable: true })
  isReserved!: boolean | null;

  @Column({ type: 'text' })
  result!: EmailNotificationResultType;

  @Column({ name: 'result_time', type: 'timestamptz' })
  resultTime!: Date;

  @Column({ type: 'timestamptz' })
  created!: Date;

  @Column({ type: 'timestamptz' })
  expiry!: Date;

  /** A `New` notification is not claimed before this time (resend delay after a transient failure). */
  @Column({ name: 'next_attempt_at', type: 'timestamptz' })
  nextAttemptAt!: Date;

  @Column({ name: 'sending_since', type: 'timestamptz', nullable: true })
  sendingSince!: Date | null;

  @Column({ name: 'send_attempts', type: 'integer' })
  sendAttempts!: number;

  @Column({ type: 'integer' })
  redrives!: number;

  @Column({ name: 'operation_id', type: 'text', nullable: true })
  operationId!: string | null;

  /** Trace context of the `orders.pastdue` processing that created it; null when tracing is off. */
  @Column({ name: 'trace_context', type: 'text', nullable: true })
  traceContext!: string | null;
}
