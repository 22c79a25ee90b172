import { Module } from '@nestjs/common';
import { ClientsModule } from '../clients/clients.module';
import { StoreModule } from '../store/store.module';
import { PastDueConsumer } from './past-due.consumer';
import { PastDueService } from './past-due.service';
import { SendConditionClient } from './send-condition.client';

/** Past-due orders become notifications: recipients resolved, send condition checked, emails queued. */
@Module({
  imports: [StoreModule, ClientsModule],
  providers: [PastDueService, SendConditionClient, PastDueConsumer],
  exports: [PastDueService, PastDueConsumer],
})
export class IntakeModule {}
