import { Module } from '@nestjs/common';
import { ClientsModule } from '../clients/clients.module';
import { StoreModule } from '../store/store.module';
import { OrderClaimService } from './order-claim.service';
import { PastDueConsumer } from './past-due.consumer';
import { PastDueService } from './past-due.service';
import { SendConditionClient } from './send-condition.client';

/** Past-due orders become notifications: recipients resolved, send condition checked, emails queued. */
@Module({
  // The Kafka consumer of this step: an @EventPattern controller run by the app's KafkaTransport.
  controllers: [PastDueConsumer],
  imports: [StoreModule, ClientsModule],
  providers: [OrderClaimService, PastDueService, SendConditionClient],
  exports: [OrderClaimService, PastDueService],
})
export class IntakeModule {}
