import { Module } from '@nestjs/common';
import { EmailNotificationRepository } from './email-notification.repository';
import { LocalContactPointRepository } from './local-contact-point.repository';
import { OrderProgressRepository } from './order-progress.repository';
import { OrderRepository } from './order.repository';
import { OutboxRepository } from './outbox.repository';
import { RateLimitRepository } from './rate-limit.repository';
import { SubscriptionDeliveryRepository } from './subscription-delivery.repository';
import { SubscriptionRepository } from './subscription.repository';
import { UnitOfWork } from './unit-of-work';

const repositories = [
  UnitOfWork,
  OrderRepository,
  EmailNotificationRepository,
  OutboxRepository,
  RateLimitRepository,
  OrderProgressRepository,
  LocalContactPointRepository,
  SubscriptionRepository,
  SubscriptionDeliveryRepository,
];

/** Every table's repository and the unit of work; the data source comes from the app's database module. */
@Module({ providers: repositories, exports: repositories })
export class StoreModule {}
