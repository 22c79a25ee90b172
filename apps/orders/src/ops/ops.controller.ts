import { ManagementEndpoint } from '@notifications/observability';
import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Put, Req, Res } from '@nestjs/common';
import { ApiExcludeController, ApiOperation } from '@nestjs/swagger';
import { parseDurationMs } from '@notifications/config';
import {
  ACS_EMAIL_RESOURCE,
  type OrdersRateLimitClearResult,
  type OrdersRateLimitView,
  type OutboxRedriveResult,
  type OutboxView,
  type OrderWithStatusResponse,
} from '@notifications/contracts';
import { z } from 'zod';
import { UnitOfWork } from '../store/unit-of-work';
import { problem, ProblemException } from '../api/problem-details';
import { ProgressResponder, type StreamingRequest, type StreamingResponse } from '../api/progress.responder';
import { OutboxRepository } from '../store/outbox.repository';
import { RateLimitRepository } from '../store/rate-limit.repository';
import { RateLimitService } from '../dispatch/rate-limit.service';
import { OrdersScheduler } from '../scheduler/orders.scheduler';
import { outboxView, rateLimitView } from './ops.views';
import { OrdersService } from '../api/orders.service';
import { asProblem, orderId } from '../api/orders.controller';
import { orderWithStatusView } from '../api/order.views';
import { type HttpRequest } from '../api/http-types';
import { ORDERS_CONFIG } from '../config/tokens';
import { type OrdersConfig } from '../config/orders.config';

// Who ended a pause, as recorded in rate_limit_pauses.source.
const OPERATOR_SOURCE = 'ops';

const DEFAULT_REDRIVE_OLDER_THAN_MS = 5 * 60_000;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

// Operators' progress streams count together against ORDERS_PROGRESS_MAX_STREAMS_PER_CALLER.
const OPERATORS_STREAM_KEY = 'operators';

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
    private readonly progress: ProgressResponder,
    private readonly orders: OrdersService,
    @Inject(ORDERS_CONFIG) private readonly config: OrdersConfig,
  ) {}

  @Get('orders/:id/progress')
  @ApiOperation({
    summary:
      "Any order's progress snapshot, or its Server-Sent Events stream (Accept: text/event-stream); the same " +
      'answer as the public GET /orders/{id}/progress, without the creator scope',
  })
  async orderProgress(
    @Req() request: StreamingRequest,
    @Res() response: StreamingResponse,
    @Param('id') id: string,
  ): Promise<void> {
    const answered =
      UUID.test(id) &&
      (await this.progress.respond(request, response, id.toLowerCase(), {
        creator: undefined,
        key: OPERATORS_STREAM_KEY,
      }));
    if (!answered) throw ProblemException.notFound(`Order ${id} was not found.`);
  }

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
    return rateLimitView(await this.pauses.findPause(this.uow.autoCommit, ACS_EMAIL_RESOURCE));
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
    return outboxView(await this.outbox.backlogByTopic(this.uow.autoCommit));
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
