import { z } from 'zod';

// Response shapes of the subscriptions resource (`/notifications/api/v1/subscriptions`, apps/orders README
// "Subscriptions"): the TypeScript types, the OpenAPI schemas, the API tests' checks and what the ops CLI parses.
// Unlike the orders' answers (the reference's models, absent values omitted), a subscription shows every field,
// `null` when it has no value, so that a client sees the full record (e.g. `lastFailure: null`).

// Event type names: receivers switch on them (the `type` field, the Kafka `type` header): never rename.
export const SubscriptionEventType = ['notification.status', 'order.completed'] as const;
export type SubscriptionEventType = (typeof SubscriptionEventType)[number];

export const SubscriptionStatus = ['active', 'failed', 'expired'] as const;
export type SubscriptionStatus = (typeof SubscriptionStatus)[number];

// SASL mechanisms a subscriber's cluster may ask for (kafkajs' names).
export const KafkaSaslMechanism = ['plain', 'scram-sha-256', 'scram-sha-512'] as const;
export type KafkaSaslMechanism = (typeof KafkaSaslMechanism)[number];

const timestamp = z.string().describe('ISO-8601, UTC');

export const HttpDestinationResponse = z.object({
  http: z.object({
    url: z.string(),
    maxEventsPerRequest: z
      .number()
      .int()
      .describe('Events per POST: 1 = one event object per request, more = a JSON array of them'),
  }),
});

export const KafkaDestinationResponse = z.object({
  kafka: z.object({
    url: z.string().describe('kafka://host:port[,host:port…]'),
    topic: z.string(),
    sasl: z
      .object({ mechanism: z.enum(KafkaSaslMechanism), username: z.string() })
      .nullable()
      .describe('The password is never shown'),
    tls: z.object({ ca: z.string().nullable(), rejectUnauthorized: z.boolean() }).nullable(),
  }),
});

export const SubscriptionResponse = z.object({
  id: z.string().describe('UUID'),
  description: z.string().nullable(),
  filter: z.object({ sendersReference: z.string().nullable(), resourceId: z.string().nullable() }),
  events: z.array(z.enum(SubscriptionEventType)),
  notification: z.union([HttpDestinationResponse, KafkaDestinationResponse]),
  custom: z
    .object({
      payload: z
        .unknown()
        .describe('The payload template: a string or a JSON value; null = the default payload'),
      topic: z.string().nullable().describe('The topic template (Kafka); null = notification.kafka.topic'),
    })
    .nullable(),
  expires: timestamp.nullable(),
  created: timestamp,
  status: z
    .enum(SubscriptionStatus)
    .describe(
      'expired once `expires` has passed; failed after too many consecutive failed deliveries (PUT …/resume)',
    ),
  timesSent: z.number().int().describe('Events delivered'),
  lastNotification: timestamp.nullable().describe('The last delivery attempt'),
  lastSuccess: timestamp.nullable(),
  lastFailure: timestamp.nullable(),
  lastFailureReason: z.string().nullable(),
  failsCounter: z.number().int().describe('Consecutive failed deliveries'),
  pendingEvents: z.number().int().describe('Events recorded and not delivered yet'),
});

/** The answer to `POST /subscriptions`: the only one that shows the signing secret. */
export const CreatedSubscriptionResponse = SubscriptionResponse.extend({
  secret: z
    .string()
    .describe(
      'HMAC-SHA256 key of the x-notifications-signature header (base64url of 32 random bytes). Shown only here: keep it.',
    ),
});

export const SubscriptionListResponse = z.object({
  count: z.number().int(),
  subscriptions: z.array(SubscriptionResponse).describe('Newest first'),
});

export type SubscriptionResponse = z.infer<typeof SubscriptionResponse>;
export type CreatedSubscriptionResponse = z.infer<typeof CreatedSubscriptionResponse>;
export type SubscriptionListResponse = z.infer<typeof SubscriptionListResponse>;
