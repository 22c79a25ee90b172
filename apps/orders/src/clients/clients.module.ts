import { Module } from '@nestjs/common';
import { ORDERS_CONFIG } from '../config/tokens';
import { type OrdersConfig } from '../config/orders.config';
import { AddressPolicy } from '../domain/address-policy';
import { KafkaDestinationPool } from './kafka-destinations';
import { KAFKA_EVENT_SENDER } from './kafka-event-sender';
import { OutboundHttpClient } from './outbound-http.client';
import { RecipientResolver } from './recipient-resolver.service';

/**
 * The outbound-request guard (one instance per app, its allow-list from the configuration), the producers into
 * subscribers' Kafka clusters (connecting through the same guard) and recipient resolution. The contact-point
 * register behind RecipientResolver (CONTACT_POINT_SERVICE: the local table or the HTTP client) is chosen by the
 * app's root module.
 */
@Module({
  providers: [
    {
      provide: OutboundHttpClient,
      inject: [ORDERS_CONFIG],
      useFactory: (config: OrdersConfig) =>
        new OutboundHttpClient(new AddressPolicy(config.outbound.allowList)),
    },
    {
      // A class instance as the provider's value: Nest calls its onApplicationShutdown, which disconnects all.
      provide: KAFKA_EVENT_SENDER,
      inject: [ORDERS_CONFIG, OutboundHttpClient],
      useFactory: (config: OrdersConfig, outbound: OutboundHttpClient) =>
        new KafkaDestinationPool(outbound.guard, {
          maxProducers: config.subscriptions.maxKafkaProducers,
          idleMs: config.subscriptions.kafkaIdleMs,
          deliveryTimeoutMs: config.subscriptions.deliveryTimeoutMs,
        }),
    },
    RecipientResolver,
  ],
  exports: [OutboundHttpClient, KAFKA_EVENT_SENDER, RecipientResolver],
})
export class ClientsModule {}
