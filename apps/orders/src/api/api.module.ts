import { Module } from '@nestjs/common';
import { ClientsModule } from '../clients/clients.module';
import { ProgressModule } from '../progress/progress.module';
import { StoreModule } from '../store/store.module';
import { JwtAuthGuard } from './auth.guard';
import { IntakeGate } from './intake-gate';
import { OrdersController } from './orders.controller';
import { OrdersService } from './orders.service';
import { ProgressResponder } from './progress.responder';
import { SubscriptionsController } from './subscriptions.controller';
import { SubscriptionsService } from './subscriptions.service';

/** The public orders and subscriptions API; its controllers are the ones the OpenAPI document describes. */
@Module({
  imports: [StoreModule, ClientsModule, ProgressModule],
  controllers: [OrdersController, SubscriptionsController],
  providers: [OrdersService, SubscriptionsService, JwtAuthGuard, ProgressResponder, IntakeGate],
  // The operator console and the operators' halt (ops/) use the same service without the creator scope, and the
  // operators' progress route answers with the same responder.
  exports: [OrdersService, ProgressResponder],
})
export class ApiModule {}
