import { Module } from '@nestjs/common';
import { ClientsModule } from '../clients/clients.module';
import { StoreModule } from '../store/store.module';
import { JwtAuthGuard } from './auth.guard';
import { OrdersController } from './orders.controller';
import { OrdersService } from './orders.service';

/** The public orders API; its controllers are the ones the OpenAPI document describes. */
@Module({
  imports: [StoreModule, ClientsModule],
  controllers: [OrdersController],
  providers: [OrdersService, JwtAuthGuard],
  // The operators' halt (ops/) is the same service without the creator scope.
  exports: [OrdersService],
})
export class ApiModule {}
