import { z } from 'zod';
import { OrderProcessingStatus } from '../enums';
import { HaltedResponse } from '../orders-api/orders-api.schemas';

/**
 * The JSON bodies of the apps' operator endpoints (management listener, operator token) that `npm run ops`
 * reads. Not Kafka messages, but a contract between processes all the same: the apps type their controllers'
 * answers with these, the ops CLI parses what it receives with them, so a renamed field fails a type check
 * instead of printing `undefined` in an incident.
 */

const isoTimestamp = z.string().describe('ISO 8601');

/** orders `GET /notifications/api/v1/internal/rate-limit`: the stored pause that stops it publishing emails. */
export const OrdersRateLimitView = z.object({
  resource: z.string(),
  paused: z.boolean(),
  /** The end of the stored pause (in the past when `paused` is false), or null when there never was one. */
  pausedUntil: isoTimestamp.nullable(),
  source: z.string().nullable(),
  updatedAt: isoTimestamp.nullable(),
});
export type OrdersRateLimitView = z.infer<typeof OrdersRateLimitView>;

/** orders `DELETE /notifications/api/v1/internal/rate-limit`. */
export const OrdersRateLimitClearResult = z.object({
  resource: z.string(),
  cleared: z.boolean(),
  /** The end the pause had, when one was in force. */
  pausedUntil: isoTimestamp.nullable(),
});
export type OrdersRateLimitClearResult = z.infer<typeof OrdersRateLimitClearResult>;

/** orders `GET /notifications/api/v1/internal/outbox`: the backlog of unpublished rows. */
export const OutboxView = z.object({
  unpublished: z.number().int(),
  oldestUnpublishedAt: isoTimestamp.nullable(),
  oldestAgeMs: z.number().nullable(),
  topics: z.array(
    z.object({
      topic: z.string(),
      unpublished: z.number().int(),
      available: z.number().int(),
      waiting: z.number().int(),
      failing: z.number().int(),
      oldestUnpublishedAt: isoTimestamp,
    }),
  ),
});
export type OutboxView = z.infer<typeof OutboxView>;

/** orders `POST /notifications/api/v1/internal/outbox/redrive`. */
export const OutboxRedriveResult = z.object({
  redriven: z.number().int(),
  olderThanMs: z.number(),
});
export type OutboxRedriveResult = z.infer<typeof OutboxRedriveResult>;

/** email-sender `GET /internal/rate-limit`: this replica's in-process pause after an ACS 429. */
export const EmailSenderRateLimitView = z.object({
  paused: z.boolean(),
  pausedUntil: isoTimestamp.nullable(),
  /** Sends running now, and handlers waiting for a send slot (held by a pause or the rate limit among them). */
  inFlight: z.number().int(),
  waitingForSlot: z.number().int(),
});
export type EmailSenderRateLimitView = z.infer<typeof EmailSenderRateLimitView>;

/** email-sender `DELETE /internal/rate-limit`. */
export const EmailSenderRateLimitClearResult = z.object({
  cleared: z.boolean(),
  /** The end the pause had, when one was in force. */
  pausedUntil: isoTimestamp.nullable(),
});
export type EmailSenderRateLimitClearResult = z.infer<typeof EmailSenderRateLimitClearResult>;

/** An order as the operators' search lists it: who, what reference, how many recipients, which status since when. */
export const OperatorOrderSummary = z.object({
  id: z.string(),
  creator: z.string(),
  sendersReference: z.string().optional(),
  requestedSendTime: isoTimestamp,
  created: isoTimestamp,
  recipientCount: z.number().int(),
  processingStatus: z.enum(OrderProcessingStatus),
  statusChanged: isoTimestamp,
});
export type OperatorOrderSummary = z.infer<typeof OperatorOrderSummary>;

/** orders `GET /notifications/api/v1/internal/orders?creator=…&sendersReference=…&pageSize=…`: newest first. */
export const OperatorOrderPage = z.object({
  orders: z.array(OperatorOrderSummary),
  /** Pass as `cursor` for the next (older) page; absent on the last page. */
  next: z.string().optional(),
});
export type OperatorOrderPage = z.infer<typeof OperatorOrderPage>;

/**
 * orders `GET /notifications/api/v1/internal/orders/{id}` (and `PUT …/{id}/cancel`): one order of any creator,
 * with the email's subject, the last processing error and its notification counts.
 */
export const OperatorOrderView = OperatorOrderSummary.omit({ recipientCount: true }).extend({
  subject: z.string(),
  lastError: z.string().optional(),
  generated: z.number().int(),
  succeeded: z.number().int(),
  /** A halted order's halt: when, and how many were sent, withheld and still in flight. */
  halted: HaltedResponse.optional(),
});
export type OperatorOrderView = z.infer<typeof OperatorOrderView>;

/**
 * A status subscription as operators see it (orders `GET /notifications/api/v1/internal/subscriptions`): its state,
 * destination label and backlog. Never its secret, filter values, the destination's path or credentials.
 */
export const OperatorSubscriptionView = z.object({
  id: z.string(),
  creator: z.string(),
  /** `expired` once `expires` has passed (its events recorded before are still delivered), else the state. */
  status: z.enum(['active', 'failed', 'expired']),
  /** `http:<host>` or `kafka:<first broker>/<topic>`, as in the metrics. */
  destination: z.string(),
  pending: z.number().int(),
  oldestPendingAt: isoTimestamp.nullable(),
  oldestPendingAgeMs: z.number().nullable(),
  timesSent: z.number().int(),
  failsCounter: z.number().int(),
  lastSuccess: isoTimestamp.nullable(),
  lastFailure: isoTimestamp.nullable(),
  /** One line, no personal data. */
  lastFailureReason: z.string().nullable(),
  /** Its events are not tried before this time (the back-off after a failure). */
  nextAttemptAt: isoTimestamp,
});
export type OperatorSubscriptionView = z.infer<typeof OperatorSubscriptionView>;

/** orders `GET /notifications/api/v1/internal/subscriptions`: every subscription, oldest first. */
export const OperatorSubscriptionList = z.object({ subscriptions: z.array(OperatorSubscriptionView) });
export type OperatorSubscriptionList = z.infer<typeof OperatorSubscriptionList>;

/**
 * orders `POST /notifications/api/v1/internal/subscriptions/{id}/replay`: the subscription resumed (active, failure
 * streak forgotten) and its pending events due now.
 */
export const SubscriptionReplayResult = z.object({
  subscription: OperatorSubscriptionView,
});
export type SubscriptionReplayResult = z.infer<typeof SubscriptionReplayResult>;

/** Where those answers are served, relative to each app's management listener. */
export const InternalApiPaths = {
  ordersRateLimit: '/notifications/api/v1/internal/rate-limit',
  ordersOutbox: '/notifications/api/v1/internal/outbox',
  ordersOutboxRedrive: '/notifications/api/v1/internal/outbox/redrive',
  emailSenderRateLimit: '/internal/rate-limit',
  /** Search (GET, `OperatorOrderPage`); `/{id}` (GET, `OperatorOrderView`), `/{id}/progress` (GET,
   * `OrderProgressResponse`, or its event stream), `/{id}/halt` (PUT, `OrderWithStatusResponse`), `/{id}/cancel`
   * (PUT, `OperatorOrderView`). */
  ordersOrders: '/notifications/api/v1/internal/orders',
  /** List (GET, `OperatorSubscriptionList`); `/{id}/replay` (POST, `SubscriptionReplayResult`). */
  ordersSubscriptions: '/notifications/api/v1/internal/subscriptions',
} as const;

/** `InternalApiPaths.ordersOrders` + `/{id}` + the rest. */
export function operatorOrderPath(id: string, rest: '' | '/progress' | '/halt' | '/cancel' = ''): string {
  return `${InternalApiPaths.ordersOrders}/${encodeURIComponent(id)}${rest}`;
}

/** `InternalApiPaths.ordersSubscriptions` + `/{id}/replay`. */
export function operatorSubscriptionReplayPath(id: string): string {
  return `${InternalApiPaths.ordersSubscriptions}/${encodeURIComponent(id)}/replay`;
}
