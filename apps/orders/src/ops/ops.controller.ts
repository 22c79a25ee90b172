import { ManagementEndpoint } from '@notifications/observability';
import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Put, Req } from '@nestjs/common';
import { ApiExcludeController, ApiOperation } from '@nestjs/swagger';
import { parseDurationMs } from '@notifications/config';
import {
  ACS_EMAIL_RESOURCE,
  type OrdersRateLimitClearResult,
  type OrdersRateLimitView,
  type OutboxRedriveResult,
  type OutboxView,
} from '@notifications/contracts';
import { z } from 'zod';
import { UnitOfWork } from '../store/unit-of-work';
import { problem, ProblemException } from '../api/problem-details';
import { OutboxRepository } from '../store/outbox.repository';
import { RateLimitRepository } from '../store/rate-limit.repository';
import { RateLimitService } from '../dispatch/rate-limit.service';
import { OrdersScheduler } from '../scheduler/orders.scheduler';
import { OrdersService } from '../api/orders.service';
import { asProblem, orderId } from '../api/orders.controller';
import { orderWithStatusView } from '../api/order.views';
import { type OrderWithStatusResponse } from '../api/order.responses';
import { type HttpRequest } from '../api/http-types';
import { ORDERS_CONFIG } from '../config/tokens';
import { type OrdersConfig } from '../config/orders.config';

// Who ended a pause, as recorded in rate_limit_pauses.source.
const OPERATOR_SOURCE = 'ops';

const DEFAULT_REDRIVE_OLDER_THAN_MS = 5 * 60_000;

const redriveRequest = z
  .object({
    /** A duration (`5m`, `30s`, `1h`) or milliseconds; rows created longer ago than this are re-driven. */
    olderThan: z.union([z.string(), z.number().int().nonnegative()]).optional(),
  })
  .strict();

/**
 * Operator endpoints behind `npm run ops` (apps/ops): the email rate-limit pause and the outbox backlog, with the
 * two interventions an operator needs (end a pause early, re-drive stuck outbox rows), and the halt of any order. Management listener only
 * (operator token), like the status and trigger endpoints.
 */
@ManagementEndpoint()
@ApiExcludeController()
@Controller('internal')
export class OpsController {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly pauses: RateLimitRepository,
    private readonly rateLimits: RateLimitService,
    private readonly outbox: OutboxRepository,
    private readonly scheduler: OrdersScheduler,
    private readonly orders: OrdersService,
    @Inject(ORDERS_CONFIG) private readonly config: OrdersConfig,
  ) {}

  @Put('orders/:id/halt')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Halt any creator\'s order mid-flight: the public PUT orders/{id}/halt without the creator scope (README "Halt")',
  })
  async haltOrder(@Req() request: HttpRequest, @Param('id') id: string): Promise<OrderWithStatusResponse> {
    try {
      const { order, counts } = await this.orders.halt(undefined, orderId(id));
      const baseUrl =
        this.config.api.publicBaseUrl ?? `${request.protocol}://${request.get('host') ?? 'localhost'}`;
      return orderWithStatusView(order, counts, baseUrl);
    } catch (error) {
      throw asProblem(error);
    }
  }

  @Get('rate-limit')
  @ApiOperation({ summary: 'The email rate-limit pause (ACS throttling)' })
  async rateLimit(): Promise<OrdersRateLimitView> {
    const pause = await this.pauses.findPause(this.uow.autoCommit, ACS_EMAIL_RESOURCE);
    return {
      resource: ACS_EMAIL_RESOURCE,
      paused: pause !== undefined && pause.pausedUntil.getTime() > Date.now(),
      pausedUntil: pause?.pausedUntil.toISOString() ?? null,
      source: pause?.source ?? null,
      updatedAt: pause?.updatedAt.toISOString() ?? null,
    };
  }

  @Delete('rate-limit')
  @ApiOperation({ summary: 'End the email rate-limit pause now; held-back emails are published again' })
  async clearRateLimit(): Promise<OrdersRateLimitClearResult> {
    // The publish cycle (every ORDERS_EMAIL_PUBLISH_INTERVAL) claims the held-back emails again once no pause is in force.
    const previous = await this.rateLimits.endEmailPause(OPERATOR_SOURCE);
    return {
      resource: ACS_EMAIL_RESOURCE,
      cleared: previous !== undefined,
      pausedUntil: previous?.toISOString() ?? null,
    };
  }

  @Get('outbox')
  @ApiOperation({ summary: 'The outbox backlog: unpublished rows per topic, oldest age' })
  async outboxBacklog(): Promise<OutboxView> {
    const topics = await this.outbox.backlogByTopic(this.uow.autoCommit);
    const oldest = topics.reduce<Date | undefined>(
      (min, topic) => (min === undefined || topic.oldestCreatedAt < min ? topic.oldestCreatedAt : min),
      undefined,
    );
    return {
      unpublished: topics.reduce((sum, topic) => sum + topic.unpublished, 0),
      oldestUnpublishedAt: oldest?.toISOString() ?? null,
      oldestAgeMs: oldest === undefined ? null : Math.max(0, Date.now() - oldest.getTime()),
      topics: topics.map((topic) => ({
        topic: topic.topic,
        unpublished: topic.unpublished,
        available: topic.available,
        waiting: topic.waiting,
        failing: topic.failing,
        oldestUnpublishedAt: topic.oldestCreatedAt.toISOString(),
      })),
    };
  }

  @Post('outbox/redrive')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Make stuck unpublished rows (back-off not over, or parked) older than `olderThan` claimable now',
  })
  async redriveOutbox(@Body() body: unknown): Promise<OutboxRedriveResult> {
    const olderThanMs = parseOlderThan(body);
    const redriven = await this.outbox.redrive(this.uow.autoCommit, olderThanMs);
    if (redriven > 0) this.scheduler.triggerRelay();
    return { redriven, olderThanMs };
  }
}

function parseOlderThan(body: unknown): number {
  const parsed = redriveRequest.safeParse(body ?? {});
  if (!parsed.success) {
    throw new ProblemException(
      problem(400, 'Expected {"olderThan": "<duration such as 5m>" | <milliseconds>} or no body'),
    );
  }
  const { olderThan } = parsed.data;
  if (olderThan === undefined) return DEFAULT_REDRIVE_OLDER_THAN_MS;
  if (typeof olderThan === 'number') return olderThan;
  const ms = parseDurationMs(olderThan);
  if (ms === undefined || ms < 0) {
    throw new ProblemException(
      problem(400, `olderThan: ${JSON.stringify(olderThan)} is not a duration such as 500ms, 30s, 5m or 1h`),
    );
  }
  return ms;
}
