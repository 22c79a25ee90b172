import { type EmailContentType } from '@notifications/contracts';
import { Column, Entity, PrimaryColumn } from 'typeorm';

/** The email template of an order (subject and body before personalisation). */
@Entity({ name: 'email_texts' })
export class EmailTextEntity {
  @PrimaryColumn({ name: 'order_id', type: 'uuid' })
  orderId!: string;

  @Column({ name: 'from_address', type: 'text' })
  fromAddress!: string;

  @Column({ type: 'text' })
  subject!: string;

  @Column({ type: 'text' })
  body!: string;

  @Column({ name: 'content_type', type: 'text' })
  contentType!: EmailContentType;
}
