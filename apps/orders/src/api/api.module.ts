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
  // The operator console (ops/) reads and cancels orders through the same service.
  exports: [OrdersService],
})
export class ApiModule {}
