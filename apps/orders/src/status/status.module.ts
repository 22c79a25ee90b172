import { Module } from '@nestjs/common';
import { StoreModule } from '../store/store.module';
import { EmailStatusConsumer } from './email-status.consumer';
import { EmailStatusService } from './email-status.service';

/** Email status updates are applied to notifications, and orders complete. */
@Module({
  imports: [StoreModule],
  providers: [EmailStatusService, EmailStatusConsumer],
  exports: [EmailStatusService, EmailStatusConsumer],
})
export class StatusModule {}
