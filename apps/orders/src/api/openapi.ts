import { type INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { z } from 'zod';
import { ApiModule } from './api.module';
import { emailOrderRequestSchema } from './email-order.request';
import { subscriptionRequestSchema } from './subscription.request';
import {
  CreatedSubscriptionResponse,
  EmailNotificationSummaryResponse,
  NotificationOrderResponse,
  OrderIdResponse,
  OrderListResponse,
  OrderProgressResponse,
  OrderWithStatusResponse,
  ProblemDetailsResponse,
  SubscriptionListResponse,
  SubscriptionResponse,
} from '@notifications/contracts';

type SchemaObject = Record<string, unknown>;

/** Schemas published in the OpenAPI document, by component name. */
const RESPONSE_SCHEMAS = {
  OrderIdResponse,
  NotificationOrderResponse,
  OrderWithStatusResponse,
  EmailNotificationSummaryResponse,
  OrderListResponse,
  OrderProgressResponse,
  SubscriptionResponse,
  CreatedSubscriptionResponse,
  SubscriptionListResponse,
  ProblemDetails: ProblemDetailsResponse,
} as const;

function toOpenApi(schema: z.ZodType, io: 'input' | 'output'): SchemaObject {
  const json = z.toJSONSchema(schema, { target: 'openapi-3.0', io, unrepresentable: 'any' }) as SchemaObject;
  const { $schema: _schema, ...rest } = json;
  return rest;
}

/**
 * The OpenAPI document (`/docs-json`) and its browsable page (`/docs`) of the public API, schemas generated from the
 * zod ones. Served unless ORDERS_API_DOCS_ENABLED is false (default: off in production).
 */
export function setUpOpenApi(app: INestApplication): void {
  const config = new DocumentBuilder()
    .setTitle('Notifications: orders API')
    .setDescription(
      'Email notification orders (Altinn Notifications v1 compatible) and subscriptions to their status ' +
        'changes. Errors are RFC 9457 problem details. ' +
        'Authenticate with a bearer JWT carrying the scope altinn:serviceowner/notifications.create; ' +
        "orders belong to the token's org claim. Development tokens: `npm run token -- --org ttd`.",
    )
    .setVersion('1')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
    .build();
  // The public API only: the API module's controllers, less the management ones (@ApiExcludeController); the
  // probes (HealthModule) and the management listener's /metrics and /status (ObservabilityModule) stay out.
  const document = SwaggerModule.createDocument(app, config, { include: [ApiModule] });
  const request = emailOrderRequestSchema({
    now: new Date(0),
    sendTimeGraceMs: 0,
    // The document describes the shape only; nothing is validated with this schema.
    checkUrl: (url) => ({ ok: true, url: new URL(url) }),
  });
  const subscriptionRequest = subscriptionRequestSchema({
    now: new Date(0),
    checkUrl: (url) => ({ ok: true, url: new URL(url) }),
  });
  const schemas: Record<string, SchemaObject> = {
    EmailOrderRequest: toOpenApi(request, 'input'),
    SubscriptionRequest: toOpenApi(subscriptionRequest, 'input'),
    ...Object.fromEntries(
      Object.entries(RESPONSE_SCHEMAS).map(([name, schema]) => [name, toOpenApi(schema, 'output')]),
    ),
  };
  document.components = { ...document.components, schemas: { ...document.components?.schemas, ...schemas } };
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });
}
