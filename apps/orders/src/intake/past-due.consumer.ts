import { Logger } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { type NotificationOrder } from '@notifications/contracts';
import { PermanentError, TransientError } from '@notifications/messaging';
import { KafkaController, type KafkaContext } from '@notifications/messaging/nest';
import { errorMessage } from '../domain/dependency-unavailable.error';
import { pauseOnDatabaseOutage } from '../store/database-outage';
import { PastDueService } from './past-due.service';
import { SendConditionUnavailableError } from './send-condition.client';

/**
 * `orders.pastdue` (and its retry topic): creates the order's notifications. A failure is retried with delay;
 * on the last attempt the order is put back to Registered instead, so it is never left in Processing — except
 * when its send condition could not be evaluated: that order ends `SendConditionNotMet` (bounded attempts).
 */
@KafkaController()
export class PastDueConsumer {
  private readonly logger = new Logger(PastDueConsumer.name);

  constructor(private readonly pastDue: PastDueService) {}

  @EventPattern('ordersPastDue')
  handle(@Payload() order: NotificationOrder, @Ctx() context: KafkaContext): Promise<void> {
    return pauseOnDatabaseOutage(() => this.process(order, context));
  }

  private async process(order: NotificationOrder, context: KafkaContext): Promise<void> {
    let outcome;
    try {
      outcome = await this.pastDue.processOrder(order);
    } catch (error) {
      if (context.isLastAttempt && error instanceof SendConditionUnavailableError) {
        // The tenant's endpoint failed every attempt: a final status, never another cycle through Registered.
        const stopped = await this.pastDue.stopUnevaluatedCondition(
          order.id,
          `${error.reason} (attempt ${context.attempt}/${context.maxAttempts})`,
        );
        if (stopped) return;
      }
      if (context.isLastAttempt) {
        // If even this fails (database down), the message is dead-lettered and the stale-Processing sweep
        // re-drives the order later.
        const requeued = await this.pastDue.requeueAfterFailure(
          order.id,
          `attempt ${context.attempt}/${context.maxAttempts}: ${errorMessage(error)}`,
        );
        if (requeued) return;
      }
      throw new TransientError(`Order ${order.id}: ${errorMessage(error)}`, { cause: error });
    }
    switch (outcome.kind) {
      case 'unknown-order':
        throw new PermanentError(`Order ${order.id} does not exist`);
      case 'skipped':
        this.logger.log(`Order ${order.id} is ${outcome.status}: nothing to do (redelivery)`);
        return;
      case 'processed':
      case 'condition-not-met':
      case 'condition-not-evaluated':
        return;
    }
  }
}
