import { ContactPointEntity } from '../contact-points/contact-point.entity';
import { EmailNotificationEntity } from '../notifications/email-notification.entity';
import { EmailTextEntity } from '../orders/email-text.entity';
import { OrderEntity } from '../orders/order.entity';
import { OutboxMessageEntity } from '../outbox/outbox-message.entity';
import { RateLimitPauseEntity } from '../rate-limit/rate-limit-pause.entity';

/** Every entity, listed explicitly (no globs). */
export const ordersEntities = [
  OrderEntity,
  EmailTextEntity,
  EmailNotificationEntity,
  RateLimitPauseEntity,
  OutboxMessageEntity,
  ContactPointEntity,
];
