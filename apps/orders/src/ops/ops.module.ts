import { Module } from '@nestjs/common';
import { ApiModule } from '../api/api.module';
import { DispatchModule } from '../dispatch/dispatch.module';
import { IntakeModule } from '../intake/intake.module';
import { ProgressModule } from '../progress/progress.module';
import { SchedulerModule } from '../scheduler/scheduler.module';
import { StoreModule } from '../store/store.module';
import { OpsController } from './ops.controller';
import { OrdersMetrics } from './orders.metrics';
import { StatusController } from './status.controller';
import { TriggerController } from './trigger.controller';

/** Operator endpoints (management listener), the compatibility triggers and the orders' gauges. */
@Module({
  imports: [StoreModule, ProgressModule, ApiModule, IntakeModule, DispatchModule, SchedulerModule],
  controllers: [TriggerController, StatusController, OpsController],
  providers: [OrdersMetrics],
})
export class OpsModule {}
