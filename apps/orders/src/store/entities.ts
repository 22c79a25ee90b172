import { ContactPointEntity } from './contact-point.entity';
import { EmailNotificationEntity } from './email-notification.entity';
import { EmailTextEntity } from './email-text.entity';
import { OrderEntity } from './order.entity';
import { OutboxMessageEntity } from './outbox-message.entity';
import { RateLimitPauseEntity } from './rate-limit-pause.entity';

/** Every entity, listed explicitly (no globs). */
export const ordersEntities = [
  OrderEntity,
  EmailTextEntity,
  EmailNotificationEntity,
  RateLimitPauseEntity,
  OutboxMessageEntity,
  ContactPointEntity,
];
