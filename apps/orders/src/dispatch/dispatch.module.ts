import { Module } from '@nestjs/common';
import { StoreModule } from '../store/store.module';
import { EmailPublisherService } from './email-publisher.service';
import { OutboxRelay } from './outbox.relay';
import { RateLimitService } from './rate-limit.service';
import { ServiceUpdateConsumer } from './service-update.consumer';

/** Queued emails go out through the outbox, paused while the email service is rate-limited. */
@Module({
  imports: [StoreModule],
  providers: [EmailPublisherService, OutboxRelay, RateLimitService, ServiceUpdateConsumer],
  exports: [EmailPublisherService, OutboxRelay, RateLimitService, ServiceUpdateConsumer],
})
export class DispatchModule {}
