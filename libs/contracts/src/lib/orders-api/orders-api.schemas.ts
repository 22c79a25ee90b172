import { z } from 'zod';
import { EmailContentType, EmailNotificationResultType, OrderProcessingStatus } from '../enums';

// Response shapes of the orders API (the reference's v1 models). One declaration gives the TypeScript types, the
// OpenAPI schemas (z.toJSONSchema, apps/orders), the checks the API tests run on real responses, and what the ops
// CLI parses: the operator endpoints answer with the same shapes (progress, halt).

const timestamp = z.string().describe('ISO-8601, UTC');
const uuid = z.string().describe('UUID');

export const RecipientLookupResponse = z.object({
  status: z.enum(['Success', 'PartialSuccess', 'Failed']),
  isReserved: z.array(z.string()).optional().describe('National identity numbers of reserved persons'),
  missingContact: z.array(z.string()).optional().describe('Identifiers without an email address'),
});

export const OrderIdResponse = z.object({
  orderId: uuid,
  recipientLookup: RecipientLookupResponse.optional().describe(
    'Present when identity or organisation numbers had to be looked up',
  ),
});

export const RecipientResponse = z.object({
  emailAddress: z.string().optional(),
  nationalIdentityNumber: z.string().optional(),
  organizationNumber: z.string().optional(),
});

const orderFields = {
  id: uuid,
  creator: z.string().describe("The creator's org (the token's org claim)"),
  sendersReference: z.string().optional(),
  requestedSendTime: timestamp,
  created: timestamp,
  notificationChannel: z.literal('Email'),
  ignoreReservation: z.boolean().optional(),
  resourceId: z.string().optional(),
  conditionEndpoint: z.string().optional(),
};

export const NotificationOrderResponse = z.object({
  ...orderFields,
  recipients: z.array(RecipientResponse),
  emailTemplate: z.object({
    fromAddress: z.string(),
    subject: z.string(),
    body: z.string(),
    contentType: z.enum(EmailContentType),
  }),
  links: z.object({ self: z.string(), status: z.string() }),
});

export const StatusResponse = z.object({
  status: z.enum(OrderProcessingStatus),
  description: z.string(),
  lastUpdate: timestamp,
});

export const HaltedResponse = z
  .object({
    at: timestamp.describe('When the order was halted'),
    sent: z
      .number()
      .int()
      .describe('Notifications with a result of their own (sent, or failed before or at sending)'),
    withheld: z.number().int().describe('Notifications never sent: Cancelled'),
    inFlight: z.number().int().describe('Not settled yet (New or Sending); 0 once the order is Cancelled'),
  })
  .describe('Present when the order was halted (PUT …/halt); final once processingStatus is Cancelled');

export const OrderWithStatusResponse = z.object({
  ...orderFields,
  processingStatus: StatusResponse,
  halted: HaltedResponse.optional(),
  notificationsStatusSummary: z.object({
    email: z.object({
      links: z.object({ self: z.string() }),
      generated: z.number().int().describe('Email notifications created'),
      succeeded: z.number().int().describe('Of those, Succeeded or Delivered'),
    }),
  }),
});

export const EmailNotificationResponse = z.object({
  id: uuid,
  succeeded: z.boolean(),
  recipient: RecipientResponse,
  sendStatus: z.object({
    status: z.enum(EmailNotificationResultType),
    description: z.string(),
    lastUpdate: timestamp,
  }),
});

export const EmailNotificationSummaryResponse = z.object({
  orderId: uuid,
  sendersReference: z.string().optional(),
  generated: z.number().int(),
  succeeded: z.number().int(),
  halted: HaltedResponse.optional(),
  notifications: z.array(EmailNotificationResponse),
});

export const OrderListResponse = z.object({
  count: z.number().int(),
  orders: z.array(NotificationOrderResponse),
});

/** `GET /orders/{id}/progress`: one snapshot (also each event of its stream); see domain/order-progress.ts. */
export const OrderProgressResponse = z.object({
  orderId: uuid,
  orderStatus: z.enum(OrderProcessingStatus).describe("The order's processing status"),
  total: z.number().int().describe("The order's email notifications (0 until its recipients are resolved)"),
  final: z.number().int().describe('Notifications in a final status'),
  counts: z
    .record(z.string(), z.number().int())
    .describe(
      'Notifications per status (the statuses of sendStatus.status); statuses with none are left out',
    ),
  ratePerSecond: z.number().describe('Notifications that became final per second, over a recent window'),
  etaSeconds: z
    .number()
    .int()
    .nullable()
    .describe('Seconds until all are final, an active rate-limit pause included; null when unknown or final'),
  rateLimitPausedUntil: timestamp
    .nullable()
    .describe('End of an active ACS rate-limit pause: no email is sent before it'),
  updatedAt: timestamp.describe('When the snapshot was taken'),
});

export const ProblemDetailsResponse = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string().optional(),
  instance: z.string().optional(),
  errors: z.record(z.string(), z.array(z.string())).optional().describe('Each bad field with its problems'),
});

export type OrderIdResponse = z.infer<typeof OrderIdResponse>;
export type NotificationOrderResponse = z.infer<typeof NotificationOrderResponse>;
export type OrderWithStatusResponse = z.infer<typeof OrderWithStatusResponse>;
export type HaltedResponse = z.infer<typeof HaltedResponse>;
export type EmailNotificationSummaryResponse = z.infer<typeof EmailNotificationSummaryResponse>;
export type OrderListResponse = z.infer<typeof OrderListResponse>;
export type OrderProgressResponse = z.infer<typeof OrderProgressResponse>;
