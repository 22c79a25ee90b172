import { Module } from '@nestjs/common';
import { StoreModule } from '../store/store.module';
import { OrderProgressService } from './order-progress.service';

/** Progress snapshots of orders and their live streams (used by the public API and the operators' routes). */
@Module({
  imports: [StoreModule],
  providers: [OrderProgressService],
  exports: [OrderProgressService],
})
export class ProgressModule {}
