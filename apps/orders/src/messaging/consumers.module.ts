import { Module } from '@nestjs/common';
import { DispatchModule } from '../dispatch/dispatch.module';
import { IntakeModule } from '../intake/intake.module';
import { StatusModule } from '../status/status.module';
import { OrdersConsumerHost } from './orders-consumer.host';

/** The Kafka consumer that feeds the steps (its group id, ORDERS_CONSUMER_GROUP, comes from the root module). */
@Module({
  imports: [IntakeModule, DispatchModule, StatusModule],
  providers: [OrdersConsumerHost],
  exports: [OrdersConsumerHost],
})
export class ConsumersModule {}
