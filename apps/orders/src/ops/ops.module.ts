import { Module } from '@nestjs/common';
import { ApiModule } from '../api/api.module';
import { DispatchModule } from '../dispatch/dispatch.module';
import { IntakeModule } from '../intake/intake.module';
import { ProgressModule } from '../progress/progress.module';
import { SchedulerModule } from '../scheduler/scheduler.module';
import { StoreModule } from '../store/store.module';
import { ConsoleController } from './console.controller';
import { DeadLettersController } from './dead-letters.controller';
import { OperatorKafkaService } from './operator-kafka.service';
import { OperatorOrdersController } from './operator-orders.controller';
import { OpsController } from './ops.controller';
import { PipelineController } from './pipeline.controller';
import { OrdersMetrics } from './orders.metrics';
import { StatusController } from './status.controller';
import { SubscriptionsOpsController } from './subscriptions-ops.controller';
import { TriggerController } from './trigger.controller';

/**
 * Operator endpoints (management listener), the compatibility triggers, the orders' gauges and the operator
 * console (its page and the routes only it uses).
 */
@Module({
  imports: [StoreModule, ProgressModule, ApiModule, IntakeModule, DispatchModule, SchedulerModule],
  controllers: [
    TriggerController,
    StatusController,
    OpsController,
    OperatorOrdersController,
    DeadLettersController,
    PipelineController,
    ConsoleController,
    SubscriptionsOpsController,
  ],
  providers: [OrdersMetrics, OperatorKafkaService],
})
export class OpsModule {}
