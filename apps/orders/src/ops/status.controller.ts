import { ManagementEndpoint } from '@notifications/observability';
import { Controller, Get } from '@nestjs/common';
import { ApiExcludeController, ApiOperation } from '@nestjs/swagger';
import { ACS_EMAIL_RESOURCE } from '@notifications/contracts';
import { KafkaRuntime } from '@notifications/messaging';
import { UnitOfWork } from '../store/unit-of-work';
import { OutboxRepository } from '../store/outbox.repository';
import { RateLimitRepository } from '../store/rate-limit.repository';
import { OrdersScheduler } from '../scheduler/orders.scheduler';

/**
 * What an operator wants to see at a glance (the reference had nothing like it): each consumer's counters (the
 * main group and the intake's), the scheduler's jobs, the outbox backlog and any rate-limit pause. Management
 * listener only (operator token).
 */
@ManagementEndpoint()
@ApiExcludeController()
@Controller('internal')
export class StatusController {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly scheduler: OrdersScheduler,
    private readonly runtime: KafkaRuntime,
    private readonly outbox: OutboxRepository,
    private readonly pauses: RateLimitRepository,
  ) {}

  @Get('status')
  @ApiOperation({ summary: 'Consumers, scheduler, outbox backlog and rate-limit pause of this replica' })
  async status(): Promise<Record<string, unknown>> {
    const tx = this.uow.autoCommit;
    const [backlog, pausedUntil] = await Promise.all([
      this.outbox.backlog(tx),
      this.pauses.activePause(tx, ACS_EMAIL_RESOURCE),
    ]);
    return {
      consumers: this.runtime.consumerRunners.map((runner) => ({
        groupId: runner.groupId,
        ...runner.statistics(),
      })),
      scheduler: this.scheduler.statistics(),
      outbox: {
        unpublished: backlog.unpublished,
        ...(backlog.oldestCreatedAt === undefined
          ? {}
          : { oldestUnpublishedAt: backlog.oldestCreatedAt.toISOString() }),
      },
      emailRateLimit:
        pausedUntil === undefined ? { paused: false } : { paused: true, until: pausedUntil.toISOString() },
    };
  }
}
