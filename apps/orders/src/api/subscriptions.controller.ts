import {
  Controller,
  Delete,
  Get,
  HttpCode,
  Inject,
  Param,
  Post,
  Put,
  Req,
  Res,
  UseGuards,
} from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import {
  type CreatedSubscriptionResponse,
  type SubscriptionListResponse,
  type SubscriptionResponse,
} from '@notifications/contracts';
import { OutboundHttpClient } from '../clients/outbound-http.client';
import { ORDERS_CONFIG } from '../config/tokens';
import { type OrdersConfig } from '../config/orders.config';
import { SUBSCRIPTION_MACROS, TOPIC_SAFE_MACROS } from '../domain/subscription-templates';
import { CurrentCaller, JwtAuthGuard } from './auth.guard';
import { type HttpRequest, type HttpResponse } from './http-types';
import { type Caller } from './jwt-verifier';
import { isUuid, jsonBody } from './orders.controller';
import { problem, ProblemException } from './problem-details';
import { validateSubscriptionRequest } from './subscription.request';
import { createdSubscriptionView, subscriptionUrl, subscriptionView } from './subscription.views';
import {
  SubscriptionLimitError,
  SubscriptionNotFoundError,
  SubscriptionsService,
} from './subscriptions.service';

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const problemResponse = (status: number, description: string) =>
  ApiResponse({
    status,
    description,
    content: { 'application/problem+json': { schema: ref('ProblemDetails') } },
  });
const macros = (names: readonly string[]) => names.map((name) => `\${${name}}`).join(', ');

/**
 * Status subscriptions (README "Subscriptions"): where the caller's organisation wants every status change of its
 * orders pushed, an HTTP endpoint or a topic in its own Kafka cluster. A caller sees only its own.
 */
@ApiTags('subscriptions')
@ApiBearerAuth()
@problemResponse(401, 'No valid bearer token')
@problemResponse(403, 'The token lacks the scope altinn:serviceowner/notifications.create or an org claim')
@Controller('subscriptions')
@UseGuards(JwtAuthGuard)
export class SubscriptionsController {
  constructor(
    private readonly subscriptions: SubscriptionsService,
    private readonly outbound: OutboundHttpClient,
    @Inject(ORDERS_CONFIG) private readonly config: OrdersConfig,
  ) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({
    summary: 'Subscribe to the status changes of your orders',
    description:
      '`notification` is exactly one of `http` (events POSTed, signed with the `secret` of this answer, shown ' +
      'only here) or `kafka` (records produced to your cluster). `custom.payload` and `custom.topic` are ' +
      `templates: the payload may use ${macros(SUBSCRIPTION_MACROS)}, the topic ${macros(TOPIC_SAFE_MACROS)}. ` +
      'URLs refused by the outbound guard (private, loopback, link-local addresses) are refused here.',
  })
  @ApiBody({ schema: ref('SubscriptionRequest') })
  @ApiResponse({
    status: 201,
    description: 'Created; Location points at it. The only answer that shows `secret`.',
    schema: ref('CreatedSubscriptionResponse'),
  })
  @problemResponse(400, 'Invalid request: `errors` names each bad field')
  @problemResponse(409, 'The organisation holds as many subscriptions as allowed')
  @problemResponse(415, 'The body is not JSON')
  async create(
    @CurrentCaller() caller: Caller,
    @Req() request: HttpRequest,
    @Res({ passthrough: true }) response: HttpResponse,
  ): Promise<CreatedSubscriptionResponse> {
    const validation = validateSubscriptionRequest(jsonBody(request), {
      now: new Date(),
      checkUrl: (url) => this.outbound.checkUrl(url),
    });
    if (!validation.ok) {
      const fields = Object.keys(validation.errors);
      throw ProblemException.badRequest(
        `${validation.total} problem(s) with ${fields.length === 1 ? 'field' : 'fields'} ${fields.join(', ')}`,
        validation.errors,
      );
    }
    try {
      const { subscription, secret } = await this.subscriptions.create(caller.org, validation.request);
      response.setHeader('Location', subscriptionUrl(this.baseUrl(request), subscription.id));
      return createdSubscriptionView(subscription, secret);
    } catch (error) {
      throw asProblem(error);
    }
  }

  @Get()
  @ApiOperation({ summary: "The caller's subscriptions, newest first" })
  @ApiResponse({ status: 200, schema: ref('SubscriptionListResponse') })
  async list(@CurrentCaller() caller: Caller): Promise<SubscriptionListResponse> {
    const subscriptions = await this.subscriptions.list(caller.org);
    return { count: subscriptions.length, subscriptions: subscriptions.map(subscriptionView) };
  }

  @Get(':id')
  @ApiOperation({ summary: 'A subscription with its delivery record (never its secrets)' })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiResponse({ status: 200, schema: ref('SubscriptionResponse') })
  @problemResponse(404, "No such subscription among the caller's")
  async get(@CurrentCaller() caller: Caller, @Param('id') id: string): Promise<SubscriptionResponse> {
    try {
      return subscriptionView(await this.subscriptions.get(caller.org, subscriptionId(id)));
    } catch (error) {
      throw asProblem(error);
    }
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a subscription and its undelivered events' })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiResponse({ status: 204, description: 'Deleted' })
  @problemResponse(404, "No such subscription among the caller's")
  async delete(@CurrentCaller() caller: Caller, @Param('id') id: string): Promise<void> {
    try {
      await this.subscriptions.delete(caller.org, subscriptionId(id));
    } catch (error) {
      throw asProblem(error);
    }
  }

  @Put(':id/resume')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Resume a failed subscription',
    description:
      'A `failed` subscription becomes `active`: its failure count is reset and its pending events are tried at ' +
      'once. Resuming an active one changes nothing.',
  })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiResponse({ status: 200, schema: ref('SubscriptionResponse') })
  @problemResponse(404, "No such subscription among the caller's")
  async resume(@CurrentCaller() caller: Caller, @Param('id') id: string): Promise<SubscriptionResponse> {
    try {
      return subscriptionView(await this.subscriptions.resume(caller.org, subscriptionId(id)));
    } catch (error) {
      throw asProblem(error);
    }
  }

  private baseUrl(request: HttpRequest): string {
    return this.config.api.publicBaseUrl ?? `${request.protocol}://${request.get('host') ?? 'localhost'}`;
  }
}

/** A malformed id cannot name a subscription: the same 404 as an unknown one, as for orders. */
function subscriptionId(id: string): string {
  if (!isUuid(id)) throw new SubscriptionNotFoundError(id);
  return id.toLowerCase();
}

function asProblem(error: unknown): unknown {
  if (error instanceof SubscriptionNotFoundError) return ProblemException.notFound(error.message);
  if (error instanceof SubscriptionLimitError) return new ProblemException(problem(409, error.message));
  return error;
}
