import { z } from 'zod';
import { MAX_PER_MINUTE } from '../scripting/rate-limiter';
import { statusMixSchema } from '../scripting/rule.schema';

const DAY_MS = 86_400_000;

export const builtInRulesSchema = z.strictObject({ enabled: z.boolean() });

export const rateLimitSchema = z.strictObject({
  /** Accepted sends per sliding minute; `0` or `null` switches the limit off. */
  perMinute: z.number().int().min(0).max(MAX_PER_MINUTE).nullable(),
});

export const sendSettingsSchema = z.strictObject({
  operationDelayMs: z.number().int().min(0).max(DAY_MS).optional(),
  pollRetryAfterSeconds: z.number().int().min(0).max(3600).optional(),
  deduplicateOperationIds: z.boolean().optional(),
});

export const deliveryReportSettingsSchema = z.strictObject({
  /** `null` switches delivery reports off. */
  webhookUrl: z
    .url({ protocol: /^https?$/, error: 'webhookUrl must be an http(s) URL' })
    .nullable()
    .optional(),
  statusMix: statusMixSchema.optional(),
  delayMs: z.number().int().min(0).max(DAY_MS).optional(),
});

const queryInt = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, 'expected a non-negative integer')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

export const messageQuerySchema = z.object({
  after: queryInt(0, Number.MAX_SAFE_INTEGER).optional(),
  since: z
    .string()
    .refine((text) => !Number.isNaN(Date.parse(text)), 'expected an ISO-8601 timestamp')
    .transform((text) => new Date(text).toISOString())
    .optional(),
  limit: queryInt(1, 10_000).default(1000),
  operationId: z
    .string()
    .transform((id) => id.toLowerCase())
    .optional(),
  recipient: z.string().optional(),
});

export const resetQuerySchema = z.object({
  config: z
    .enum(['true', 'false'])
    .transform((value) => value === 'true')
    .optional(),
});
