import { z } from 'zod';

/**
 * Event Grid `EmailDeliveryReportReceived` statuses (`AcsEmailDeliveryReportStatus`). Spelled as ACS sends them:
 * consumers map these exact strings.
 */
export const DELIVERY_REPORT_STATUSES = [
  'Delivered',
  'Suppressed',
  'Bounced',
  'Quarantined',
  'FilteredSpam',
  'Failed',
  'Expanded',
] as const;
export type DeliveryReportStatus = (typeof DELIVERY_REPORT_STATUSES)[number];

const DAY_MS = 86_400_000;
const milliseconds = z.number().int().min(0).max(DAY_MS);
const seconds = z.number().int().min(0).max(86_400);

const deliveryReportStatus = z.enum(DELIVERY_REPORT_STATUSES);

/**
 * One status (`"Bounced"`) or weights (`{"Delivered": 0.9, "Bounced": 0.1}`); weights need not sum to 1. The pick
 * is deterministic per operation id and recipient.
 */
export const statusMixSchema = z.union([
  deliveryReportStatus,
  z
    .partialRecord(deliveryReportStatus, z.number().min(0).max(1_000_000))
    .refine((mix) => Object.values(mix).some((weight) => weight > 0), {
      message: 'at least one status needs a weight > 0',
    }),
]);
export type StatusMix = z.infer<typeof statusMixSchema>;

const responseDelayMs = milliseconds.optional();
const operationTiming = {
  /** Time from acceptance until the operation is terminal; default: the emulator's `operationDelayMs`. */
  delayMs: milliseconds.optional(),
  /** The first part of `delayMs` during which polling reports `NotStarted` instead of `Running`. */
  notStartedMs: milliseconds.optional(),
};

const succeed = z.strictObject({
  type: z.literal('succeed'),
  ...operationTiming,
  deliveryReport: statusMixSchema.optional(),
  responseDelayMs,
});
const fail = z.strictObject({
  type: z.literal('fail'),
  ...operationTiming,
  error: z.strictObject({ code: z.string().min(1).optional(), message: z.string().optional() }).optional(),
  responseDelayMs,
});
const suppress = z.strictObject({ type: z.literal('suppress'), ...operationTiming, responseDelayMs });
const invalidAddress = z.strictObject({ type: z.literal('invalidAddress'), responseDelayMs });
const throttle = z.strictObject({
  type: z.literal('throttle'),
  retryAfterSeconds: seconds.optional(),
  responseDelayMs,
});
const serverError = z.strictObject({
  type: z.literal('serverError'),
  status: z.number().int().min(500).max(599).optional(),
  retryAfterSeconds: seconds.optional(),
  responseDelayMs,
});
const drop = z.strictObject({
  type: z.literal('drop'),
  /** Record the message and then drop the connection: the client cannot know the email went out. */
  afterAccept: z.boolean().optional(),
  responseDelayMs,
});

export const BEHAVIOUR_TYPES = [
  'succeed',
  'fail',
  'suppress',
  'invalidAddress',
  'throttle',
  'serverError',
  'drop',
] as const;

/** What a matching `POST /emails:send` does. A bare string is shorthand for `{ "type": <string> }`. */
export const behaviourSchema = z.preprocess(
  (value) => (typeof value === 'string' ? { type: value } : value),
  z.discriminatedUnion('type', [succeed, fail, suppress, invalidAddress, throttle, serverError, drop]),
);
export type Behaviour = z.infer<typeof behaviourSchema>;
export type BehaviourType = Behaviour['type'];

const REGEX_LITERAL = /^\/(.+)\/([a-z]*)$/s;

/**
 * `*@bounce.test` (a glob: `*` any run of characters, `?` one character; whole address, case-insensitive) or
 * `/^ops-\d+@example\.org$/i` (a JavaScript regular expression literal).
 */
export const matchSchema = z
  .string()
  .min(1)
  .max(500)
  .refine((match) => compileMatch(match) !== undefined, { message: 'not a valid regular expression' });

export const ruleSchema = z.strictObject({
  /** Unique among the installed rules; generated when omitted. */
  id: z
    .string()
    .regex(/^[A-Za-z0-9._:-]{1,100}$/, 'letters, digits and ._:- only (at most 100)')
    .optional(),
  match: matchSchema,
  /** Apply to the first N matching requests only, then fall through to the next rule. */
  times: z.number().int().min(1).max(1_000_000_000).optional(),
  /** Apply for this long after the first matching request, then fall through to the next rule. */
  forMs: z
    .number()
    .int()
    .min(1)
    .max(30 * DAY_MS)
    .optional(),
  behaviour: behaviourSchema,
});
export type Rule = z.infer<typeof ruleSchema>;

/** One rule or an array of rules (the body of `POST/PUT /admin/rules`, and `ACS_RULES`). */
export const rulesSchema = z.preprocess(
  (value) => (Array.isArray(value) ? value : [value]),
  z.array(ruleSchema).max(1000),
);

/** A glob or regex literal as a RegExp (never global or sticky, so `test()` keeps no state); `undefined` if bad. */
export function compileMatch(match: string): RegExp | undefined {
  const literal = REGEX_LITERAL.exec(match);
  if (literal) {
    const [, source = '', flags = ''] = literal;
    try {
      return new RegExp(source, flags.replace(/[gy]/g, ''));
    } catch {
      return undefined;
    }
  }
  const pattern = match
    .split('')
    .map((char) => {
      if (char === '*') return '.*';
      if (char === '?') return '.';
      return char.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    })
    .join('');
  return new RegExp(`^${pattern}$`, 'i');
}
