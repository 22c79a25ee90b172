import { Controller, Get, HttpCode, Param, Put, Query } from '@nestjs/common';
import { ApiExcludeController, ApiOperation } from '@nestjs/swagger';
import { ManagementEndpoint } from '@notifications/observability';
import {
  type EmailNotificationSummaryResponse,
  type OperatorOrderPage,
  type OperatorOrderSummary,
  type OperatorOrderView,
} from '@notifications/contracts';
import { z } from 'zod';
import { asProblem, orderId } from '../api/orders.controller';
import { emailNotificationsView, haltedView } from '../api/order.views';
import { problem, ProblemException } from '../api/problem-details';
import { ANY_CREATOR, OrdersService } from '../api/orders.service';
import { type EmailOrder } from '../domain/order.model';
import { type OrderSummary } from '../store/order.repository';

const MAX_PAGE_SIZE = 200;
const DEFAULT_PAGE_SIZE = 50;

const pageSize = z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(DEFAULT_PAGE_SIZE);

const searchQuery = z.object({
  creator: z.string().trim().min(1).max(100).optional(),
  sendersReference: z.string().trim().min(1).max(100).optional(),
  /** The `next` cursor of the previous page. */
  cursor: z.string().max(200).optional(),
  pageSize,
});

const notificationsQuery = z.object({
  page: z.coerce.number().int().min(1).max(1_000_000).default(1),
  pageSize,
});

export interface OperatorNotificationsPage extends EmailNotificationSummaryResponse {
  readonly page: number;
  readonly pageSize: number;
  readonly hasNext: boolean;
}

/**
 * The operator console's order routes (`/internal/orders…`, management listener, operator token): any creator's
 * orders, read and cancelled through the same service and rules as the public API (cancel: `Registered` only, 409
 * otherwise). The order's live progress and halt are routes of their own (progress and halt).
 */
@ManagementEndpoint()
@ApiExcludeController()
@Controller('internal/orders')
export class OperatorOrdersController {
  constructor(private readonly orders: OrdersService) {}

  @Get()
  @ApiOperation({
    summary: "Search every creator's orders by creator and/or senders reference, newest first",
  })
  async search(@Query() query: unknown): Promise<OperatorOrderPage> {
    const { creator, sendersReference, cursor, pageSize: limit } = parse(searchQuery, query);
    const before = cursor === undefined ? undefined : decodeCursor(cursor);
    // One row more than the page tells whether there is a next page without a count.
    const rows = await this.orders.search({
      ...(creator === undefined ? {} : { creator }),
      ...(sendersReference === undefined ? {} : { sendersReference }),
      ...(before === undefined ? {} : { before }),
      limit: limit + 1,
    });
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      orders: page.map(summaryView),
      ...(rows.length > limit && last !== undefined ? { next: encodeCursor(last) } : {}),
    };
  }

  @Get(':id')
  @ApiOperation({ summary: 'One order of any creator, with its notification counts' })
  async get(@Param('id') id: string): Promise<OperatorOrderView> {
    try {
      const { order, counts } = await this.orders.getWithCounts(ANY_CREATOR, orderId(id));
      return {
        ...orderSummaryView(order),
        generated: counts.generated,
        succeeded: counts.succeeded,
        ...haltedView(order, counts),
      };
    } catch (error) {
      throw asProblem(error);
    }
  }

  @Get(':id/notifications')
  @ApiOperation({ summary: "The order's email notifications with their statuses, a page at a time" })
  async notifications(@Param('id') id: string, @Query() query: unknown): Promise<OperatorNotificationsPage> {
    const { page, pageSize: size } = parse(notificationsQuery, query);
    try {
      const { order, counts, notifications } = await this.orders.getEmailNotifications(
        ANY_CREATOR,
        orderId(id),
        { limit: size + 1, offset: (page - 1) * size },
      );
      return {
        ...emailNotificationsView(order, counts, notifications.slice(0, size)),
        page,
        pageSize: size,
        hasNext: notifications.length > size,
      };
    } catch (error) {
      throw asProblem(error);
    }
  }

  @Put(':id/cancel')
  @HttpCode(200)
  @ApiOperation({ summary: 'Cancel an order of any creator while it is still Registered (409 otherwise)' })
  async cancel(@Param('id') id: string): Promise<OperatorOrderView> {
    try {
      const order = await this.orders.cancel(ANY_CREATOR, orderId(id));
      return { ...orderSummaryView(order), generated: 0, succeeded: 0 };
    } catch (error) {
      throw asProblem(error);
    }
  }
}

function parse<T>(schema: z.ZodType<T>, query: unknown): T {
  const parsed = schema.safeParse(query ?? {});
  if (!parsed.success) {
    const errors: Record<string, string[]> = {};
    for (const issue of parsed.error.issues) (errors[issue.path.join('.') || '$'] ??= []).push(issue.message);
    throw ProblemException.badRequest('Invalid query parameters.', errors);
  }
  return parsed.data;
}

// The cursor is the last row's (created in microseconds, id), opaque to the caller. Microseconds, not the
// JavaScript Date's milliseconds: rows created within one millisecond would otherwise be skipped.
function encodeCursor(row: OrderSummary): string {
  return Buffer.from(JSON.stringify([row.createdMicros, row.id])).toString('base64url');
}

function decodeCursor(cursor: string): { createdMicros: string; id: string } {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && typeof value[0] === 'string' && /^\d{1,18}$/.test(value[0])) {
      if (typeof value[1] === 'string') return { createdMicros: value[0], id: orderId(value[1]) };
    }
  } catch {
    // Falls through to the 400 below.
  }
  throw new ProblemException(problem(400, 'cursor: not a cursor this API returned'));
}

function summaryView(row: OrderSummary): OperatorOrderSummary {
  return {
    id: row.id,
    creator: row.creator,
    ...(row.sendersReference === undefined ? {} : { sendersReference: row.sendersReference }),
    requestedSendTime: row.requestedSendTime.toISOString(),
    created: row.created.toISOString(),
    recipientCount: row.recipientCount,
    processingStatus: row.processingStatus,
    statusChanged: row.statusChanged.toISOString(),
  };
}

function orderSummaryView(order: EmailOrder): Omit<OperatorOrderView, 'generated' | 'succeeded'> {
  return {
    id: order.id,
    creator: order.creator,
    ...(order.sendersReference === undefined ? {} : { sendersReference: order.sendersReference }),
    requestedSendTime: order.requestedSendTime.toISOString(),
    created: order.created.toISOString(),
    processingStatus: order.processingStatus,
    statusChanged: order.statusChanged.toISOString(),
    subject: order.email.subject,
    ...(order.lastError === undefined ? {} : { lastError: order.lastError }),
  };
}
