import { Module } from '@nestjs/common';
import { StoreModule } from '../store/store.module';
import { EmailStatusConsumer } from './email-status.consumer';
import { EmailStatusService } from './email-status.service';

/** Email status updates are applied to notifications, and orders complete. */
@Module({
  // The Kafka consumer of this step: an @EventPattern controller run by the app's KafkaTransport.
  controllers: [EmailStatusConsumer],
  imports: [StoreModule],
  providers: [EmailStatusService],
  exports: [EmailStatusService],
})
export class StatusModule {}
