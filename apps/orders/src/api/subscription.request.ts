import { KafkaSaslMechanism, SubscriptionEventType } from '@notifications/contracts';
import { z } from 'zod';
import { type UrlCheck } from '../domain/address-policy';
import {
  parseKafkaUrl,
  type KafkaTls,
  type SubscriptionCustom,
  type SubscriptionDestination,
} from '../domain/subscription.model';
import {
  payloadTemplateProblem,
  topicNameProblem,
  topicTemplateProblem,
} from '../domain/subscription-templates';
import {
  optional,
  parseZonedDateTime,
  singleLine,
  validateBody,
  type BodyValidation,
} from './email-order.request';

/** The subscription resource's size limits (documented in the README). */
export const SUBSCRIPTION_LIMITS = Object.freeze({
  descriptionMaxLength: 500,
  sendersReferenceMaxLength: 100,
  resourceIdMaxLength: 255,
  urlMaxLength: 2_000,
  maxEventsPerRequest: 500,
  saslUsernameMaxLength: 255,
  saslPasswordMaxLength: 1_024,
  // A CA bundle of a few dozen certificates.
  caMaxLength: 64 * 1024,
});

const RESOURCE_PREFIX = 'urn:altinn:resource:';
const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/;

export interface SubscriptionRequestContext {
  readonly now: Date;
  /** The outbound guard's check of a URL a tenant supplies (what can be refused without DNS). */
  readonly checkUrl: (url: string) => UrlCheck;
}

/** The body of `POST /subscriptions`, validated. */
export interface SubscriptionRequest {
  readonly description?: string;
  readonly filter: { readonly sendersReference?: string; readonly resourceId?: string };
  readonly events: SubscriptionEventType[];
  readonly destination: SubscriptionDestination;
  readonly custom?: SubscriptionCustom;
  readonly expires?: Date;
}

const notBlank = (value: string) => value.trim() !== '';

function httpDestination(context: SubscriptionRequestContext) {
  return z.object({
    url: singleLine(SUBSCRIPTION_LIMITS.urlMaxLength).superRefine((value, ctx) => {
      // Hosts that need DNS are checked again at every delivery (the guard's connect-time check).
      const check = context.checkUrl(value);
      if (!check.ok) ctx.addIssue({ code: 'custom', message: check.reason });
    }),
    maxEventsPerRequest: optional(
      z
        .number()
        .int('must be an integer')
        .min(1, 'must be at least 1')
        .max(
          SUBSCRIPTION_LIMITS.maxEventsPerRequest,
          `must be at most ${SUBSCRIPTION_LIMITS.maxEventsPerRequest}`,
        ),
    ).transform((value) => value ?? 1),
  });
}

function kafkaDestination(context: SubscriptionRequestContext) {
  return z.object({
    url: singleLine(SUBSCRIPTION_LIMITS.urlMaxLength).superRefine((value, ctx) => {
      const parsed = parseKafkaUrl(value);
      if (!parsed.ok) {
        ctx.addIssue({ code: 'custom', message: parsed.reason });
        return;
      }
      // The guard's rule for an IP literal or localhost; a host name is checked when the delivery's socket connects.
      for (const broker of parsed.brokers) {
        const check = context.checkUrl(`http://${broker}/`);
        if (!check.ok) ctx.addIssue({ code: 'custom', message: `broker ${broker} ${check.reason}` });
      }
    }),
    topic: z.string().superRefine((value, ctx) => {
      const problem = topicNameProblem(value);
      if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
    }),
    sasl: optional(
      z.object({
        mechanism: z.enum(KafkaSaslMechanism, { message: `must be one of ${KafkaSaslMechanism.join(', ')}` }),
        username: singleLine(SUBSCRIPTION_LIMITS.saslUsernameMaxLength).refine(notBlank, 'must not be empty'),
        password: z
          .string()
          .min(1, 'must not be empty')
          .max(
            SUBSCRIPTION_LIMITS.saslPasswordMaxLength,
            `must be at most ${SUBSCRIPTION_LIMITS.saslPasswordMaxLength} characters`,
          ),
      }),
    ),
    tls: optional(
      z.union([
        z.boolean(),
        z.object({
          ca: optional(
            z
              .string()
              .max(
                SUBSCRIPTION_LIMITS.caMaxLength,
                `must be at most ${SUBSCRIPTION_LIMITS.caMaxLength} characters`,
              )
              .refine(
                (value) => PEM_CERTIFICATE.test(value),
                'must hold PEM certificate(s) (-----BEGIN CERTIFICATE-----)',
              ),
          ),
          rejectUnauthorized: optional(z.boolean()),
        }),
      ]),
    ).transform((value): KafkaTls | undefined => {
      if (value === undefined || value === false) return undefined;
      if (value === true) return {};
      return {
        ...(value.ca === undefined ? {} : { ca: value.ca }),
        ...(value.rejectUnauthorized === undefined ? {} : { rejectUnauthorized: value.rejectUnauthorized }),
      };
    }),
  });
}

/** The body of `POST /subscriptions`; every bad field is reported at once, named by its path. */
export function subscriptionRequestSchema(context: SubscriptionRequestContext) {
  return z
    .object({
      description: optional(singleLine(SUBSCRIPTION_LIMITS.descriptionMaxLength)),
      filter: optional(
        z.object({
          sendersReference: optional(
            singleLine(SUBSCRIPTION_LIMITS.sendersReferenceMaxLength).refine(notBlank, 'must not be empty'),
          ),
          resourceId: optional(
            singleLine(SUBSCRIPTION_LIMITS.resourceIdMaxLength).refine(
              (value) => value.startsWith(RESOURCE_PREFIX) && value.length > RESOURCE_PREFIX.length,
              `must start with ${RESOURCE_PREFIX}`,
            ),
          ),
        }),
      ),
      events: z
        .array(
          z.enum(SubscriptionEventType, { message: `must be one of ${SubscriptionEventType.join(', ')}` }),
        )
        .min(1, 'at least one event type is required')
        .superRefine((events, ctx) => {
          if (new Set(events).size !== events.length) {
            ctx.addIssue({ code: 'custom', message: 'must not name an event type twice' });
          }
        }),
      notification: z
        .object({ http: optional(httpDestination(context)), kafka: optional(kafkaDestination(context)) })
        .superRefine((notification, ctx) => {
          if ((notification.http === undefined) === (notification.kafka === undefined)) {
            ctx.addIssue({ code: 'custom', message: 'needs exactly one of http or kafka' });
          }
        }),
      custom: optional(
        z.object({
          payload: optional(z.unknown()).superRefine((value, ctx) => {
            if (value === undefined) return;
            const problem = payloadTemplateProblem(value);
            if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
          }),
          topic: optional(z.string()).superRefine((value, ctx) => {
            if (value === undefined) return;
            const problem = topicTemplateProblem(value);
            if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
          }),
        }),
      ),
      expires: optional(z.string()).transform((value, ctx): Date | undefined => {
        if (value === undefined) return undefined;
        const time = parseZonedDateTime(value);
        if (time === undefined) {
          ctx.addIssue({
            code: 'custom',
            message: 'must be an ISO-8601 date-time with a time zone, e.g. 2027-01-01T00:00:00Z',
          });
          return z.NEVER;
        }
        if (time.getTime() <= context.now.getTime()) {
          ctx.addIssue({ code: 'custom', message: 'must be in the future' });
          return z.NEVER;
        }
        return time;
      }),
    })
    .superRefine((body, ctx) => {
      if (body.custom?.topic !== undefined && body.notification.kafka === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['custom', 'topic'],
          message: 'is for kafka destinations only',
        });
      }
    })
    .transform((body, ctx): SubscriptionRequest => {
      const destination = destinationOf(body.notification);
      if (destination === undefined) {
        // Reported by the refinement above already; unreachable with a valid body.
        ctx.addIssue({
          code: 'custom',
          path: ['notification'],
          message: 'needs exactly one of http or kafka',
        });
        return z.NEVER;
      }
      const custom = body.custom;
      const hasCustom = custom !== undefined && (custom.payload !== undefined || custom.topic !== undefined);
      return {
        ...(body.description === undefined ? {} : { description: body.description }),
        filter: {
          ...(body.filter?.sendersReference === undefined
            ? {}
            : { sendersReference: body.filter.sendersReference }),
          ...(body.filter?.resourceId === undefined ? {} : { resourceId: body.filter.resourceId }),
        },
        events: body.events,
        destination,
        ...(hasCustom
          ? {
              custom: {
                ...(custom.payload === undefined ? {} : { payload: custom.payload }),
                ...(custom.topic === undefined ? {} : { topic: custom.topic }),
              },
            }
          : {}),
        ...(body.expires === undefined ? {} : { expires: body.expires }),
      };
    });
}

type HttpInput = z.output<ReturnType<typeof httpDestination>>;
type KafkaInput = z.output<ReturnType<typeof kafkaDestination>>;

function destinationOf(notification: {
  readonly http?: HttpInput | undefined;
  readonly kafka?: KafkaInput | undefined;
}): SubscriptionDestination | undefined {
  const { http, kafka } = notification;
  if (http !== undefined) return { http: { url: http.url, maxEventsPerRequest: http.maxEventsPerRequest } };
  if (kafka === undefined) return undefined;
  return {
    kafka: {
      url: kafka.url,
      topic: kafka.topic,
      ...(kafka.sasl === undefined ? {} : { sasl: kafka.sasl }),
      ...(kafka.tls === undefined ? {} : { tls: kafka.tls }),
    },
  };
}

export function validateSubscriptionRequest(
  body: unknown,
  context: SubscriptionRequestContext,
): BodyValidation<SubscriptionRequest> {
  return validateBody(subscriptionRequestSchema(context), body);
}
