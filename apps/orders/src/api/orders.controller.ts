import {
  Controller,
  Get,
  HttpCode,
  Inject,
  Param,
  Post,
  Put,
  Query,
  Req,
  Res,
  UseGuards,
} from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiBody,
  ApiHeader,
  ApiOperation,
  ApiParam,
  ApiQuery,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import { CurrentCaller, JwtAuthGuard } from './auth.guard';
import { type Caller } from './jwt-verifier';
import { ORDERS_CONFIG } from '../config/tokens';
import { type OrdersConfig } from '../config/orders.config';
import { type HttpRequest, type HttpResponse } from './http-types';
import { ProgressResponder, type StreamingRequest, type StreamingResponse } from './progress.responder';
import { problem, ProblemException } from './problem-details';
import { OutboundHttpClient } from '../clients/outbound-http.client';
import {
  containsNulCharacter,
  NUL_CHARACTER_REFUSED,
  ORDER_LIMITS,
  validateEmailOrderRequest,
} from './email-order.request';
import {
  type EmailNotificationSummaryResponse,
  type NotificationOrderResponse,
  type OrderIdResponse,
  type OrderListResponse,
  type OrderWithStatusResponse,
} from '@notifications/contracts';
import { emailNotificationsView, orderIdView, orderUrl, orderView, orderWithStatusView } from './order.views';
import {
  HaltNotAcknowledgedError,
  IdempotencyConflictError,
  OrderNotCancellableError,
  OrderNotFoundError,
  OrderNotHaltableError,
  OrdersService,
} from './orders.service';
import { NO_NOTIFICATIONS } from '../domain/order.model';
import { deferredJsonBodyReader } from './deferred-json-body';
import { IntakeGate } from './intake-gate';

/** The route whose body is read by its handler, after authentication and admission (see deferred-json-body.ts). */
export const ORDER_CREATION_PATH = 'orders/email';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const JSON_MEDIA_TYPE = /^application\/(?:[\w.+-]+\+)?json$/i;

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const problemResponse = (status: number, description: string) =>
  ApiResponse({
    status,
    description,
    content: { 'application/problem+json': { schema: ref('ProblemDetails') } },
  });

/** The order API (SPEC section 5), scoped to the caller's organisation. */
@ApiTags('orders')
@ApiBearerAuth()
@problemResponse(401, 'No valid bearer token')
@problemResponse(403, 'The token lacks the scope altinn:serviceowner/notifications.create or an org claim')
@Controller('orders')
@UseGuards(JwtAuthGuard)
export class OrdersController {
  private readonly readBody: (request: HttpRequest, response: HttpResponse) => Promise<unknown>;

  constructor(
    private readonly orders: OrdersService,
    private readonly outbound: OutboundHttpClient,
    private readonly progress: ProgressResponder,
    private readonly intakeGate: IntakeGate,
    @Inject(ORDERS_CONFIG) private readonly config: OrdersConfig,
  ) {
    this.readBody = deferredJsonBodyReader(config.api.bodyLimitBytes);
  }

  @Post('email')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Create an email order',
    description:
      `Limits: subject ≤ ${ORDER_LIMITS.subjectMaxLength} characters, body ≤ ${ORDER_LIMITS.bodyMaxLength} ` +
      `characters, 1–${ORDER_LIMITS.recipientsMax} recipients. The same Idempotency-Key from the same ` +
      'organisation returns the original order; with a different body it is refused (422).',
  })
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: 'Makes retries of this request safe' })
  @ApiBody({ schema: ref('EmailOrderRequest') })
  @ApiResponse({
    status: 202,
    description: 'Registered; Location points at the order',
    schema: ref('OrderIdResponse'),
  })
  @problemResponse(400, 'Invalid request: `errors` names each bad field')
  @problemResponse(415, 'The body is not JSON')
  @problemResponse(422, 'The Idempotency-Key was used with a different body')
  @problemResponse(503, 'Too many large orders arrive at once: retry after Retry-After seconds')
  async create(
    @CurrentCaller() caller: Caller,
    @Req() request: HttpRequest,
    @Res({ passthrough: true }) response: HttpResponse,
  ): Promise<OrderIdResponse> {
    // The guard has verified the token; the body is still unread (the app's parser skips this route).
    const mediaType = jsonMediaType(request);
    if (mediaType === undefined) throw new ProblemException(problem(400, 'A JSON request body is required.'));
    const clientGone = new AbortController();
    response.once('close', () => clientGone.abort());
    const release = await this.intakeGate.admit(request.headers, clientGone.signal);
    try {
      return await this.createAdmitted(caller, request, response);
    } finally {
      release();
    }
  }

  private async createAdmitted(
    caller: Caller,
    request: HttpRequest,
    response: HttpResponse,
  ): Promise<OrderIdResponse> {
    const body: unknown = await this.readBody(request, response);
    if (body === undefined) throw new ProblemException(problem(400, 'A JSON request body is required.'));
    const idempotencyKey = idempotencyKeyOf(request);
    const validation = validateEmailOrderRequest(body, {
      now: new Date(),
      sendTimeGraceMs: this.config.api.sendTimeGraceMs,
      checkUrl: (url) => this.outbound.checkUrl(url),
    });
    if (!validation.ok) {
      const fields = Object.keys(validation.errors);
      throw ProblemException.badRequest(
        `${validation.total} problem(s) with ${fields.length === 1 ? 'field' : 'fields'} ${fields.join(', ')}` +
          (validation.total > Object.values(validation.errors).flat().length ? ' (first 100 listed)' : ''),
        validation.errors,
      );
    }
    try {
      const created = await this.orders.create(caller.org, validation.request, idempotencyKey);
      response.setHeader('Location', orderUrl(this.baseUrl(request), created.orderId));
      if (created.replayed) response.setHeader('Idempotent-Replayed', 'true');
      return orderIdView(created.orderId, created.recipientLookup);
    } catch (error) {
      throw asProblem(error);
    }
  }

  @Get()
  @ApiOperation({ summary: "The caller's orders with a given senders' reference" })
  @ApiQuery({ name: 'sendersReference', required: true })
  @ApiResponse({ status: 200, schema: ref('OrderListResponse') })
  @problemResponse(400, 'sendersReference is missing')
  async findBySendersReference(
    @CurrentCaller() caller: Caller,
    @Req() request: HttpRequest,
    @Query('sendersReference') sendersReference: unknown,
  ): Promise<OrderListResponse> {
    if (typeof sendersReference !== 'string' || sendersReference.trim() === '') {
      throw ProblemException.badRequest('The query parameter sendersReference is required.', {
        sendersReference: ['is required'],
      });
    }
    if (containsNulCharacter(sendersReference)) {
      throw ProblemException.badRequest('The query parameter sendersReference is invalid.', {
        sendersReference: [NUL_CHARACTER_REFUSED],
      });
    }
    const orders = await this.orders.findBySendersReference(caller.org, sendersReference);
    const baseUrl = this.baseUrl(request);
    return { count: orders.length, orders: orders.map((order) => orderView(order, baseUrl)) };
  }

  @Get(':id')
  @ApiOperation({ summary: 'The order as registered' })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiResponse({ status: 200, schema: ref('NotificationOrderResponse') })
  @problemResponse(404, "No such order among the caller's orders")
  async get(
    @CurrentCaller() caller: Caller,
    @Req() request: HttpRequest,
    @Param('id') id: string,
  ): Promise<NotificationOrderResponse> {
    try {
      return orderView(await this.orders.get(caller.org, orderId(id)), this.baseUrl(request));
    } catch (error) {
      throw asProblem(error);
    }
  }

  @Get(':id/status')
  @ApiOperation({ summary: 'The order with its processing status and notification counts' })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiResponse({ status: 200, schema: ref('OrderWithStatusResponse') })
  @problemResponse(404, "No such order among the caller's orders")
  async status(
    @CurrentCaller() caller: Caller,
    @Req() request: HttpRequest,
    @Param('id') id: string,
  ): Promise<OrderWithStatusResponse> {
    try {
      const { order, counts } = await this.orders.getWithCounts(caller.org, orderId(id));
      return orderWithStatusView(order, counts, this.baseUrl(request));
    } catch (error) {
      throw asProblem(error);
    }
  }

  @Get(':id/notifications/email')
  @ApiOperation({ summary: 'Every email notification of the order with its recipient and send status' })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiResponse({ status: 200, schema: ref('EmailNotificationSummaryResponse') })
  @problemResponse(404, "No such order among the caller's orders")
  async emailNotifications(
    @CurrentCaller() caller: Caller,
    @Param('id') id: string,
  ): Promise<EmailNotificationSummaryResponse> {
    try {
      const { order, counts, notifications } = await this.orders.getEmailNotifications(
        caller.org,
        orderId(id),
      );
      return emailNotificationsView(order, counts, notifications);
    } catch (error) {
      throw asProblem(error);
    }
  }

  @Get(':id/progress')
  @ApiOperation({
    summary: 'Live progress of the order: one snapshot, or a Server-Sent Events stream of them',
    description:
      'Counts per notification status, final/total, the rate of final notifications per second, an ETA that ' +
      'includes an active ACS rate-limit pause, and the order status. With `Accept: text/event-stream` the same ' +
      'snapshots stream as they change (at most a few per second): each event has an `id:`, and a reconnect ' +
      'with `Last-Event-ID` does not resend what the client has; `: keep-alive` comments keep quiet streams ' +
      'open; the stream ends with the final snapshot once the order is final.',
  })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiHeader({ name: 'Last-Event-ID', required: false, description: 'The id of the last event received' })
  @ApiResponse({
    status: 200,
    description: 'The snapshot (JSON), or its stream (`text/event-stream`, each `data:` one snapshot)',
    content: {
      'application/json': { schema: ref('OrderProgressResponse') },
      'text/event-stream': { schema: { type: 'string' } },
    },
  })
  @problemResponse(404, "No such order among the caller's orders")
  @problemResponse(429, 'The caller has as many progress streams open as allowed')
  @problemResponse(503, 'The server has as many progress streams open as allowed')
  async orderProgress(
    @CurrentCaller() caller: Caller,
    @Req() request: StreamingRequest,
    @Res() response: StreamingResponse,
    @Param('id') id: string,
  ): Promise<void> {
    try {
      const order = orderId(id);
      const answered = await this.progress.respond(request, response, order, {
        creator: caller.org,
        key: `org:${caller.org}`,
      });
      if (!answered) throw new OrderNotFoundError(order);
    } catch (error) {
      throw asProblem(error);
    }
  }

  @Put(':id/cancel')
  @HttpCode(200)
  @ApiOperation({ summary: 'Cancel an order that is still Registered' })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiResponse({ status: 200, schema: ref('OrderWithStatusResponse') })
  @problemResponse(404, "No such order among the caller's orders")
  @problemResponse(409, 'The order is no longer Registered')
  async cancel(
    @CurrentCaller() caller: Caller,
    @Req() request: HttpRequest,
    @Param('id') id: string,
  ): Promise<OrderWithStatusResponse> {
    try {
      const order = await this.orders.cancel(caller.org, orderId(id));
      return orderWithStatusView(order, NO_NOTIFICATIONS, this.baseUrl(request));
    } catch (error) {
      throw asProblem(error);
    }
  }

  @Put(':id/halt')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Halt an order mid-flight (Registered, Processing or Processed)',
    description:
      'Once this answers 200, no email of the order is sent any more, except sends already in flight (at most ' +
      'EMAIL_SEND_CONCURRENCY per email-sender replica). Emails not sent end Cancelled; the order ends Cancelled with `halted` counts once every notification is final. Idempotent.',
  })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiResponse({ status: 200, schema: ref('OrderWithStatusResponse') })
  @problemResponse(404, "No such order among the caller's orders")
  @problemResponse(409, 'The order is final (Completed, SendConditionNotMet, or cancelled before processing)')
  @problemResponse(503, 'Halted, but not yet acknowledged by Kafka: repeat the request')
  async halt(
    @CurrentCaller() caller: Caller,
    @Req() request: HttpRequest,
    @Param('id') id: string,
  ): Promise<OrderWithStatusResponse> {
    try {
      const { order, counts } = await this.orders.halt(caller.org, orderId(id));
      return orderWithStatusView(order, counts, this.baseUrl(request));
    } catch (error) {
      throw asProblem(error);
    }
  }

  private baseUrl(request: HttpRequest): string {
    return this.config.api.publicBaseUrl ?? `${request.protocol}://${request.get('host') ?? 'localhost'}`;
  }
}

/** A malformed id cannot name an order: the same 404 as an unknown one (the reference's route constraint). */
export function orderId(id: string): string {
  if (!isUuid(id)) throw new OrderNotFoundError(id);
  return id.toLowerCase();
}

export function isUuid(id: string): boolean {
  return UUID.test(id);
}

/** The JSON media type of the body; undefined without Content-Type, 415 for another media type. */
function jsonMediaType(request: HttpRequest): string | undefined {
  const contentType = request.get('content-type');
  const mediaType = contentType?.split(';')[0]?.trim() ?? '';
  if (contentType !== undefined && !JSON_MEDIA_TYPE.test(mediaType)) {
    throw new ProblemException(
      problem(415, `Expected a JSON body (application/json), got ${mediaType || 'none'}.`),
    );
  }
  return contentType === undefined ? undefined : mediaType;
}

/** The parsed JSON body; 415 for another media type, 400 for none. */
export function jsonBody(request: HttpRequest): unknown {
  jsonMediaType(request);
  if (request.body === undefined) {
    throw new ProblemException(problem(400, 'A JSON request body is required.'));
  }
  return request.body;
}

function idempotencyKeyOf(request: HttpRequest): string | undefined {
  const key = request.get('idempotency-key');
  if (key === undefined) return undefined;
  if (key.trim() === '' || key.length > ORDER_LIMITS.idempotencyKeyMaxLength) {
    throw ProblemException.badRequest('Invalid Idempotency-Key header.', {
      'Idempotency-Key': [`must be 1–${ORDER_LIMITS.idempotencyKeyMaxLength} characters`],
    });
  }
  return key;
}

/** The order errors as problem details (404, 409, 422); anything else unchanged. */
export function asProblem(error: unknown): unknown {
  if (error instanceof OrderNotFoundError) return ProblemException.notFound(error.message);
  if (error instanceof OrderNotCancellableError) return new ProblemException(problem(409, error.message));
  if (error instanceof OrderNotHaltableError) return new ProblemException(problem(409, error.message));
  if (error instanceof HaltNotAcknowledgedError) return new ProblemException(problem(503, error.message));
  if (error instanceof IdempotencyConflictError) return new ProblemException(problem(422, error.message));
  return error;
}
