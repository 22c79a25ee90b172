import { ManagementEndpoint } from '@notifications/observability';
import { Controller, HttpCode, Post } from '@nestjs/common';
import { ApiExcludeController, ApiOperation, ApiResponse } from '@nestjs/swagger';
import { EmailPublisherService } from '../dispatch/email-publisher.service';
import { OrderClaimService } from '../intake/order-claim.service';
import { OrdersScheduler } from '../scheduler/orders.scheduler';

/**
 * The reference's cron-triggered endpoints, kept for compatibility. The built-in scheduler does the same work
 * every second, so nothing depends on them; calling them only runs one cycle now. Management listener only
 * (operator token).
 */
@ManagementEndpoint()
@ApiExcludeController()
@Controller('trigger')
export class TriggerController {
  constructor(
    private readonly claims: OrderClaimService,
    private readonly emailPublisher: EmailPublisherService,
    private readonly scheduler: OrdersScheduler,
  ) {}

  @Post('pastdueorders')
  @HttpCode(200)
  @ApiOperation({ summary: 'Claim due orders now (compatibility; the scheduler does this every second)' })
  @ApiResponse({ status: 200 })
  async pastDueOrders(): Promise<void> {
    if ((await this.claims.claimDueOrders()) > 0) this.scheduler.triggerRelay();
  }

  @Post('sendemail')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Claim New email notifications now (compatibility; the scheduler does this every second)',
  })
  @ApiResponse({ status: 200 })
  async sendEmail(): Promise<void> {
    const outcome = await this.emailPublisher.publishBatch();
    if (outcome.kind === 'claimed' && outcome.count > 0) this.scheduler.triggerRelay();
  }
}
