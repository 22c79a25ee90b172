import { Module } from '@nestjs/common';
import { ORDERS_CONFIG } from '../config/tokens';
import { type OrdersConfig } from '../config/orders.config';
import { AddressPolicy } from '../domain/address-policy';
import { OutboundHttpClient } from './outbound-http.client';
import { RecipientResolver } from './recipient-resolver.service';

/**
 * The outbound-request guard (one instance per app, its allow-list from the configuration) and recipient
 * resolution. The contact-point register behind RecipientResolver
 * (CONTACT_POINT_SERVICE: the local table or the HTTP client) is chosen by the app's root module.
 */
@Module({
  providers: [
    {
      provide: OutboundHttpClient,
      inject: [ORDERS_CONFIG],
      useFactory: (config: OrdersConfig) =>
        new OutboundHttpClient(new AddressPolicy(config.outbound.allowList)),
    },
    RecipientResolver,
  ],
  exports: [OutboundHttpClient, RecipientResolver],
})
export class ClientsModule {}
