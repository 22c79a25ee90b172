import { Module } from '@nestjs/common';
import { StoreModule } from '../store/store.module';
import { EmailPublisherService } from './email-publisher.service';
import { OutboxRelay } from './outbox.relay';
import { RateLimitService } from './rate-limit.service';
import { ServiceUpdateConsumer } from './service-update.consumer';

/** Queued emails go out through the outbox, paused while the email service is rate-limited. */
@Module({
  // The Kafka consumer of this step: an @EventPattern controller run by the app's KafkaTransport.
  controllers: [ServiceUpdateConsumer],
  imports: [StoreModule],
  providers: [EmailPublisherService, OutboxRelay, RateLimitService],
  exports: [EmailPublisherService, OutboxRelay, RateLimitService],
})
export class DispatchModule {}
