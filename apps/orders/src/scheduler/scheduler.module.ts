import { Module } from '@nestjs/common';
import { DispatchModule } from '../dispatch/dispatch.module';
import { IntakeModule } from '../intake/intake.module';
import { StoreModule } from '../store/store.module';
import { SubscriptionsModule } from '../subscriptions/subscriptions.module';
import { OrdersScheduler } from './orders.scheduler';
import { SweeperService } from './sweeper.service';

/**
 * The timed loops: claim due orders, publish queued emails, relay the outbox, deliver subscriptions' events, sweep
 * what got stuck.
 */
@Module({
  imports: [StoreModule, IntakeModule, DispatchModule, SubscriptionsModule],
  providers: [OrdersScheduler, SweeperService],
  exports: [OrdersScheduler],
})
export class SchedulerModule {}
