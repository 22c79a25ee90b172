import { EmailContentType, isTimestamp, toDate } from '@notifications/contracts';
import { z } from 'zod';
import { type UrlCheck } from '../domain/address-policy';
import { type OrderRecipient } from '../domain/order.model';

/** The API's size limits (documented in the README). */
export const ORDER_LIMITS = Object.freeze({
  subjectMaxLength: 500,
  // Each personalised body travels in one Kafka message (1 MiB by default): 100 000 characters stay below it
  // even when every character needs three UTF-8 bytes.
  bodyMaxLength: 100_000,
  recipientsMax: 100_000,
  emailAddressMaxLength: 254,
  sendersReferenceMaxLength: 100,
  resourceIdMaxLength: 255,
  conditionEndpointMaxLength: 2_000,
  idempotencyKeyMaxLength: 255,
});

// At most this many field errors are listed in one response.
const MAX_REPORTED_ERRORS = 100;

const NATIONAL_IDENTITY_NUMBER = /^\d{11}$/;
const ORGANIZATION_NUMBER = /^\d{9}$/;
// A pragmatic address check (RFC 5322 allows more, mail systems accept less): one @, no spaces or
// specials, a dotted domain.
const EMAIL_ADDRESS = /^[^\s@<>()[\]\\,;:"]+@[^\s@<>()[\]\\,;:"]+\.[^\s@<>()[\]\\,;:".]{2,}$/;
const RESOURCE_PREFIX = 'urn:altinn:resource:';

/** JSON null means absent, as in the reference (.NET) API. */
export const optional = <S extends z.ZodType>(schema: S) =>
  schema.nullish().transform((value): z.output<S> | undefined => value ?? undefined);

// C0 and C1 controls (CR and LF among them), DEL, and the Unicode line and paragraph separators: none belongs
// in a one-line field, and a line break in a subject could end up as a header break downstream.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
const NO_CONTROL_CHARACTERS = 'must not contain control characters (line breaks, tabs, C0/C1 controls)';

/** Text that must stay on one line. */
export const singleLine = (max: number) =>
  z
    .string()
    .max(max, `must be at most ${max} characters`)
    .refine((value) => !CONTROL_CHARACTERS.test(value), NO_CONTROL_CHARACTERS);

const text = (max: number) => z.string().max(max, `must be at most ${max} characters`);

const nonBlank = <S extends z.ZodType<string>>(schema: S) =>
  schema.refine((value) => value.trim() !== '', 'must not be empty');

const RecipientSchema = z
  .object({
    emailAddress: optional(z.string()),
    nationalIdentityNumber: optional(z.string()),
    organizationNumber: optional(z.string()),
  })
  .superRefine((recipient, ctx) => {
    const given = [
      recipient.emailAddress,
      recipient.nationalIdentityNumber,
      recipient.organizationNumber,
    ].filter((value) => value !== undefined).length;
    if (given !== 1) {
      ctx.addIssue({
        code: 'custom',
        message:
          'a recipient needs exactly one of emailAddress, nationalIdentityNumber (11 digits) or organizationNumber (9 digits)',
      });
      return;
    }
    const email = recipient.emailAddress?.trim();
    if (
      email !== undefined &&
      (email.length > ORDER_LIMITS.emailAddressMaxLength ||
        !EMAIL_ADDRESS.test(email) ||
        CONTROL_CHARACTERS.test(email))
    ) {
      ctx.addIssue({ code: 'custom', path: ['emailAddress'], message: 'must be a valid email address' });
    }
    if (
      recipient.nationalIdentityNumber !== undefined &&
      !NATIONAL_IDENTITY_NUMBER.test(recipient.nationalIdentityNumber)
    ) {
      ctx.addIssue({ code: 'custom', path: ['nationalIdentityNumber'], message: 'must be 11 digits' });
    }
    if (
      recipient.organizationNumber !== undefined &&
      !ORGANIZATION_NUMBER.test(recipient.organizationNumber)
    ) {
      ctx.addIssue({ code: 'custom', path: ['organizationNumber'], message: 'must be 9 digits' });
    }
  })
  .transform((recipient): OrderRecipient => {
    if (recipient.emailAddress !== undefined) return { emailAddress: recipient.emailAddress.trim() };
    if (recipient.nationalIdentityNumber !== undefined) {
      return { nationalIdentityNumber: recipient.nationalIdentityNumber };
    }
    return { organizationNumber: recipient.organizationNumber as string };
  });

/** An ISO-8601 date-time with a zone; seconds optional (`2026-03-16T08:00+01:00`). */
export function parseZonedDateTime(value: string): Date | undefined {
  const withSeconds = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?:Z|[+-]\d{2}:\d{2})$/i.test(value)
    ? value.replace(/^(.{16})/, '$1:00')
    : value;
  const normalised = withSeconds.replace(/z$/, 'Z').replace(/^(.{10})t/, '$1T');
  return isTimestamp(normalised) ? toDate(normalised) : undefined;
}

export interface EmailOrderRequestContext {
  readonly now: Date;
  /** How far in the past a requested send time may lie. */
  readonly sendTimeGraceMs: number;
  /** The outbound guard's check of a URL a tenant supplies (what can be refused without DNS). */
  readonly checkUrl: (url: string) => UrlCheck;
}

/** The body of `POST /orders/email`, validated; every bad field is reported at once. */
export function emailOrderRequestSchema(context: EmailOrderRequestContext) {
  return emailOrderFieldsSchema(context).extend({
    recipients: z
      .array(RecipientSchema)
      .min(1, 'at least one recipient is required')
      .max(ORDER_LIMITS.recipientsMax, `at most ${ORDER_LIMITS.recipientsMax} recipients per order`),
  });
}

/** Every field of the body but `recipients`. */
function emailOrderFieldsSchema(context: EmailOrderRequestContext) {
  return z.object({
    sendersReference: optional(singleLine(ORDER_LIMITS.sendersReferenceMaxLength)).transform((value) =>
      value === undefined || value.trim() === '' ? undefined : value,
    ),
    requestedSendTime: optional(z.string()).transform((value, ctx): Date | undefined => {
      if (value === undefined) return undefined;
      const time = parseZonedDateTime(value);
      if (time === undefined) {
        ctx.addIssue({
          code: 'custom',
          message: 'must be an ISO-8601 date-time with a time zone, e.g. 2026-03-16T08:00:00Z or +01:00',
        });
        return z.NEVER;
      }
      if (time.getTime() < context.now.getTime() - context.sendTimeGraceMs) {
        ctx.addIssue({
          code: 'custom',
          message: `must not be more than ${Math.round(context.sendTimeGraceMs / 1000)} seconds in the past`,
        });
        return z.NEVER;
      }
      return time;
    }),
    conditionEndpoint: optional(
      singleLine(ORDER_LIMITS.conditionEndpointMaxLength).superRefine((value, ctx) => {
        // Hosts that need DNS are checked when fetched; a refusal then ends the order (SendConditionNotMet).
        if (CONTROL_CHARACTERS.test(value)) return;
        const check = URL.canParse(value) ? context.checkUrl(value) : undefined;
        if (check === undefined) ctx.addIssue({ code: 'custom', message: 'must be an absolute http(s) URL' });
        else if (!check.ok) ctx.addIssue({ code: 'custom', message: check.reason });
      }),
    ),
    ignoreReservation: optional(z.boolean()),
    resourceId: optional(
      singleLine(ORDER_LIMITS.resourceIdMaxLength).refine(
        (value) => value.startsWith(RESOURCE_PREFIX) && value.length > RESOURCE_PREFIX.length,
        {
          message: `must start with ${RESOURCE_PREFIX}`,
        },
      ),
    ),
    subject: nonBlank(singleLine(ORDER_LIMITS.subjectMaxLength)),
    body: nonBlank(text(ORDER_LIMITS.bodyMaxLength)),
    contentType: optional(z.string()).transform((value, ctx) => {
      if (value === undefined) return 'Plain' as const;
      const match = EmailContentType.find((type) => type.toLowerCase() === value.toLowerCase());
      if (match === undefined) {
        ctx.addIssue({ code: 'custom', message: `must be one of ${EmailContentType.join(', ')}` });
        return z.NEVER;
      }
      return match;
    }),
  });
}

export type EmailOrderRequest = z.output<ReturnType<typeof emailOrderRequestSchema>>;

export type ValidationResult = BodyValidation<EmailOrderRequest>;

/** A request body validated against its schema: the value, or every bad field (the first 100) with its problems. */
export type BodyValidation<T> =
  | { readonly ok: true; readonly request: T }
  | { readonly ok: false; readonly errors: Record<string, string[]>; readonly total: number };

export function validateEmailOrderRequest(
  body: unknown,
  context: EmailOrderRequestContext,
): ValidationResult {
  const request = validRequestWithoutRecipientSchema(body, context);
  if (request !== undefined) return { ok: true, request };
  // Something is wrong (or unusual): the schema decides, and names every problem.
  return validateBody(emailOrderRequestSchema(context), body);
}

/**
 * The request when it is valid and its recipients are plain, checked without running each recipient through zod;
 * undefined when anything is wrong or unusual, and the schema must decide. zod allocated ≈ 1.8 KB per recipient
 * (178 MB for 100 000, garbage, much of it promoted); this walk allocates nothing for a recipient given as the
 * schema outputs it. It must accept exactly what the schema accepts, with the same output
 * (email-order.request.spec.ts checks both on generated bodies).
 */
function validRequestWithoutRecipientSchema(
  body: unknown,
  context: EmailOrderRequestContext,
): EmailOrderRequest | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  const { recipients, ...fields } = body as Record<string, unknown>;
  const valid = validRecipients(recipients);
  // Valid recipients hold no U+0000 (digits, or an address without control characters): the rest is checked.
  if (valid === undefined || pathOfNulCharacter(fields) !== undefined) return undefined;
  const result = emailOrderFieldsSchema(context).safeParse(fields);
  return result.success ? { ...result.data, recipients: valid } : undefined;
}

/** `recipients` as the schema outputs them when every one is valid, else undefined. */
function validRecipients(value: unknown): OrderRecipient[] | undefined {
  if (!Array.isArray(value) || value.length < 1 || value.length > ORDER_LIMITS.recipientsMax)
    return undefined;
  // Copied only from the first recipient that the schema would output differently (e.g. an address to trim).
  let copy: OrderRecipient[] | undefined;
  for (let index = 0; index < value.length; index += 1) {
    const item: unknown = value[index];
    const recipient = validRecipient(item);
    if (recipient === undefined) return undefined;
    if (copy === undefined && recipient !== item) copy = (value as OrderRecipient[]).slice(0, index);
    copy?.push(recipient);
  }
  // Every item is a recipient exactly as the schema outputs it (validRecipient returned it unchanged).
  return copy ?? (value as OrderRecipient[]);
}

/** One recipient as RecipientSchema outputs it (`item` itself when that is the same), or undefined. */
function validRecipient(item: unknown): OrderRecipient | undefined {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) return undefined;
  const record = item as Record<string, unknown>;
  let emailAddress: string | undefined;
  let nationalIdentityNumber: string | undefined;
  let organizationNumber: string | undefined;
  let keys = 0;
  for (const key in record) {
    const value = record[key];
    // Another key (stripped by the schema, but it might hold U+0000) or another type: the schema decides.
    if (!Object.hasOwn(record, key) || (value !== null && typeof value !== 'string')) return undefined;
    keys += 1;
    const given = value ?? undefined;
    if (key === 'emailAddress') emailAddress = given;
    else if (key === 'nationalIdentityNumber') nationalIdentityNumber = given;
    else if (key === 'organizationNumber') organizationNumber = given;
    else return undefined;
  }
  const given =
    (emailAddress === undefined ? 0 : 1) +
    (nationalIdentityNumber === undefined ? 0 : 1) +
    (organizationNumber === undefined ? 0 : 1);
  if (given !== 1) return undefined;
  if (emailAddress !== undefined) {
    const email = emailAddress.trim();
    if (
      email.length > ORDER_LIMITS.emailAddressMaxLength ||
      !EMAIL_ADDRESS.test(email) ||
      CONTROL_CHARACTERS.test(email)
    ) {
      return undefined;
    }
    return keys === 1 && email === emailAddress ? record : { emailAddress: email };
  }
  if (nationalIdentityNumber !== undefined) {
    if (!NATIONAL_IDENTITY_NUMBER.test(nationalIdentityNumber)) return undefined;
    return keys === 1 ? record : { nationalIdentityNumber };
  }
  if (organizationNumber === undefined || !ORGANIZATION_NUMBER.test(organizationNumber)) return undefined;
  return keys === 1 ? record : { organizationNumber };
}

/** Validates a JSON request body with `schema`, reporting every bad field at once (API 400s name them). */
export function validateBody<S extends z.ZodType>(schema: S, body: unknown): BodyValidation<z.output<S>> {
  // PostgreSQL cannot store U+0000 in text, so it is refused anywhere in the body — also in the fields whose own
  // rules allow other control characters (the email body) — next to whatever else is wrong with the request.
  const nulAt = pathOfNulCharacter(body);
  const result = schema.safeParse(body, { reportInput: true });
  if (result.success && nulAt === undefined) return { ok: true, request: result.data };
  const errors: Record<string, string[]> = {};
  const issues = result.success ? [] : result.error.issues;
  let reported = 0;
  for (const issue of issues) {
    if (reported >= MAX_REPORTED_ERRORS) break;
    const field = fieldName(issue.path);
    (errors[field] ??= []).push(describeIssue(issue));
    reported += 1;
  }
  if (nulAt !== undefined && errors[fieldName(nulAt)] === undefined) {
    errors[fieldName(nulAt)] = [NUL_CHARACTER_REFUSED];
    return { ok: false, errors, total: issues.length + 1 };
  }
  return { ok: false, errors, total: issues.length };
}

// PostgreSQL text and jsonb cannot hold U+0000 (the INSERT would fail with a server error): refused as bad input.
const NUL_CHARACTER = '\u0000';
export const NUL_CHARACTER_REFUSED = 'must not contain the NUL character (U+0000)';

export function containsNulCharacter(text: string): boolean {
  return text.includes(NUL_CHARACTER);
}

/**
 * The path of the first string (in document order) in a decoded JSON body that holds U+0000. Walks without
 * recursion, because a body may nest as deep as its size allows, and keeps one frame per open array or object:
 * the walk's memory grows with the nesting depth, not with the number of values (a frame per value was 37 MB of
 * garbage for 100 000 recipients, much of it promoted to the old generation). The path is built only for the hit.
 */
export function pathOfNulCharacter(body: unknown): PropertyKey[] | undefined {
  interface Frame {
    readonly container: Readonly<Record<string, unknown>>;
    /** An object's own keys; undefined for an array (its indexes). */
    readonly keys: readonly string[] | undefined;
    readonly size: number;
    /** The position of the child being visited. */
    at: number;
  }
  const keyOf = (frame: Frame): string | number =>
    frame.keys === undefined ? frame.at : (frame.keys[frame.at] as string);
  const open: Frame[] = [];
  let value = body;
  for (;;) {
    if (typeof value === 'string') {
      if (containsNulCharacter(value)) return open.map(keyOf);
    } else if (Array.isArray(value)) {
      open.push({
        container: value as unknown as Frame['container'],
        keys: undefined,
        size: value.length,
        at: -1,
      });
    } else if (typeof value === 'object' && value !== null) {
      const keys = Object.keys(value);
      open.push({ container: value as Frame['container'], keys, size: keys.length, at: -1 });
    }
    // On to the next child of the innermost open container that has one.
    let frame = open.at(-1);
    while (frame !== undefined && ++frame.at >= frame.size) {
      open.pop();
      frame = open.at(-1);
    }
    if (frame === undefined) return undefined;
    value = frame.container[keyOf(frame)];
  }
}

/** `recipients[0].emailAddress`; `$` for the body itself (as ASP.NET does). */
export function fieldName(path: readonly PropertyKey[]): string {
  let name = '';
  for (const segment of path) {
    if (typeof segment === 'number') name += `[${segment}]`;
    else name += name === '' ? String(segment) : `.${String(segment)}`;
  }
  return name === '' ? '$' : name;
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code !== 'invalid_type') return issue.message;
  return issue.input === undefined ? 'is required' : `expected ${issue.expected}, got ${kindOf(issue.input)}`;
}
