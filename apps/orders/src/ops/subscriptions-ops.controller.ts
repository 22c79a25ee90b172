import { Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiExcludeController, ApiOperation } from '@nestjs/swagger';
import { ManagementEndpoint } from '@notifications/observability';
import { type OperatorSubscriptionList, type SubscriptionReplayResult } from '@notifications/contracts';
import { ProblemException } from '../api/problem-details';
import { SubscriptionDeliveryRepository } from '../store/subscription-delivery.repository';
import { SubscriptionRepository } from '../store/subscription.repository';
import { UnitOfWork } from '../store/unit-of-work';
import { OrdersScheduler } from '../scheduler/orders.scheduler';
import { operatorSubscriptionView } from './ops.views';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Status subscriptions for operators (`npm run ops -- subscriptions …`; management listener, operator token): every
 * subscription's delivery state and backlog, and the replay of a failed one. No secret, filter value, destination
 * path or credential is shown.
 */
@ManagementEndpoint()
@ApiExcludeController()
@Controller('internal/subscriptions')
export class SubscriptionsOpsController {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly delivery: SubscriptionDeliveryRepository,
    private readonly subscriptions: SubscriptionRepository,
    private readonly scheduler: OrdersScheduler,
  ) {}

  @Get()
  @ApiOperation({ summary: "Every subscription's state, destination, pending events and last failure" })
  async list(): Promise<OperatorSubscriptionList> {
    const states = await this.delivery.deliveryStates(this.uow.autoCommit);
    const now = new Date();
    return { subscriptions: states.map((state) => operatorSubscriptionView(state, now)) };
  }

  @Post(':id/replay')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Resume a subscription (active, failure streak forgotten) and deliver its pending events now',
  })
  async replay(@Param('id') id: string): Promise<SubscriptionReplayResult> {
    const found =
      UUID.test(id) &&
      (await this.subscriptions.reactivate(this.uow.autoCommit, id.toLowerCase(), { onlyFailed: false }));
    if (!found) throw ProblemException.notFound(`Subscription ${id} was not found.`);
    this.scheduler.triggerSubscriptionDelivery();
    const state = (await this.delivery.deliveryStates(this.uow.autoCommit)).find(
      (subscription) => subscription.id === id.toLowerCase(),
    );
    if (state === undefined) throw ProblemException.notFound(`Subscription ${id} was not found.`);
    return { subscription: operatorSubscriptionView(state, new Date()) };
  }
}
