import { Module } from '@nestjs/common';
import { ClientsModule } from '../clients/clients.module';
import { StoreModule } from '../store/store.module';
import { SubscriptionDeliveryMetrics } from './subscription-delivery.metrics';
import { SubscriptionDeliveryService } from './subscription-delivery.service';

/**
 * Delivery of status subscriptions' events to their destinations (HTTP through the outbound-request guard, Kafka
 * through the KafkaEventSender of ClientsModule); the scheduler drives it.
 */
@Module({
  imports: [StoreModule, ClientsModule],
  providers: [SubscriptionDeliveryService, SubscriptionDeliveryMetrics],
  exports: [SubscriptionDeliveryService, SubscriptionDeliveryMetrics],
})
export class SubscriptionsModule {}
