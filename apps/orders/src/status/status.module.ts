import { Module } from '@nestjs/common';
import { StoreModule } from '../store/store.module';
import { EmailStatusConsumer } from './email-status.consumer';
import { EmailStatusService } from './email-status.service';
import { EmailWithheldConsumer } from './email-withheld.consumer';

/** Email status updates (and withheld emails of halted orders) are applied to notifications, and orders complete. */
@Module({
  // The Kafka consumer of this step: an @EventPattern controller run by the app's KafkaTransport.
  controllers: [EmailStatusConsumer, EmailWithheldConsumer],
  imports: [StoreModule],
  providers: [EmailStatusService],
  exports: [EmailStatusService],
})
export class StatusModule {}
