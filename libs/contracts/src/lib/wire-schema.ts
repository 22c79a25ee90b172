import { z } from 'zod';
import { type ContractIssue } from './contract-violation.error';
import { isTimestamp, TIMESTAMP_FORMAT_DESCRIPTION } from './timestamp';

// Building blocks for the payload schemas. They implement the reader rules of SPEC section 4 once:
// property names case-insensitive, unknown properties dropped, null treated as absent, enum values and UUIDs
// normalised. The writer side needs no code of its own: a parsed object has exactly the declared properties, in
// declaration order, with absent ones missing, so JSON.stringify of it is the wire form.

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Picks the declared properties out of a decoded JSON object: an exact name wins over a case-insensitive match,
 * null counts as absent, anything undeclared is dropped.
 */
function pickDeclared(declared: readonly string[]): (value: unknown) => unknown {
  const byLowerCase = new Map(declared.map((name) => [name.toLowerCase(), name]));
  return (value) => {
    if (!isRecord(value)) return value;
    const picked: Record<string, unknown> = {};
    let exactMatches = 0;
    for (const name of declared) {
      if (!Object.hasOwn(value, name)) continue;
      exactMatches += 1;
      const exact = value[name];
      if (exact !== null && exact !== undefined) picked[name] = exact;
    }
    // The common case (our own writers) spells every property exactly: no case-insensitive pass needed.
    if (exactMatches === Object.keys(value).length) return picked;
    for (const [property, propertyValue] of Object.entries(value)) {
      const name = byLowerCase.get(property.toLowerCase());
      if (name === undefined || Object.hasOwn(picked, name)) continue;
      if (propertyValue !== null && propertyValue !== undefined) picked[name] = propertyValue;
    }
    return picked;
  };
}

/** A JSON object read with the SPEC's reader rules; its properties are written in the order declared here. */
export function wireObject<const S extends z.core.$ZodLooseShape>(shape: S) {
  return z.preprocess(pickDeclared(Object.keys(shape)), z.object(shape));
}

/**
 * One member of a polymorphic type: `"$"` (the reference's System.Text.Json type discriminator) is declared first
 * because .NET readers require it to be the first property.
 */
export function wireVariant<const Tag extends string, const S extends z.core.$ZodLooseShape>(
  tag: Tag,
  shape: S,
) {
  return z.object({ $: z.literal(tag), ...shape });
}

type Variant = ReturnType<typeof wireVariant<string, z.core.$ZodLooseShape>>;

/** A polymorphic JSON object discriminated by `"$"`, whose value is matched case-insensitively. */
export function polymorphic<const V extends readonly [Variant, ...Variant[]]>(variants: V) {
  const tags = variants.map((variant) => variant.shape.$.value);
  const pick = pickDeclared([...new Set(variants.flatMap((variant) => Object.keys(variant.shape)))]);
  return z.preprocess(
    (value) => {
      const picked = pick(value);
      if (isRecord(picked) && typeof picked.$ === 'string') picked.$ = canonicalSpelling(tags, picked.$);
      return picked;
    },
    z.discriminatedUnion('$', variants),
  );
}

function canonicalSpelling(allowed: readonly string[], value: string): string {
  if (allowed.includes(value)) return value;
  const lower = value.toLowerCase();
  return allowed.find((candidate) => candidate.toLowerCase() === lower) ?? value;
}

/** A string enum; a value in another letter case is accepted and normalised to the canonical spelling. */
export function wireEnum<const T extends readonly [string, ...string[]]>(values: T) {
  return z.preprocess(
    (value) => (typeof value === 'string' ? canonicalSpelling(values, value) : value),
    z.enum(values),
  );
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A UUID in the 8-4-4-4-12 form, any letter case in, lowercase out. Any version: .NET Guids need not be v4. */
export const wireUuid = z
  .string()
  .refine((value) => UUID.test(value), {
    error: (issue) => `expected a UUID, got ${describeValue(issue.input)}`,
  })
  .transform((value) => value.toLowerCase());

/** A timestamp kept as the validated string, so that 7 fractional digits survive a round trip. */
export const wireTimestamp = z.string().refine(isTimestamp, {
  error: (issue) => `expected ${TIMESTAMP_FORMAT_DESCRIPTION}, got ${describeValue(issue.input)}`,
});

export const nonEmptyString = z.string().min(1);

function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
  if (Array.isArray(value)) return 'an array';
  if (isRecord(value)) return 'an object';
  return String(value);
}

function describeKind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

export function formatPath(path: readonly PropertyKey[]): string {
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else text += text === '' ? String(segment) : `.${String(segment)}`;
  }
  return text;
}

/** Zod's issues (parsed with `reportInput: true`) as ContractIssues with messages naming the expected value. */
export function toContractIssues(issues: readonly z.core.$ZodIssue[]): ContractIssue[] {
  return issues.map((issue) => ({ path: formatPath(issue.path), message: issueMessage(issue) }));
}

function issueMessage(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return issue.input === undefined
        ? 'required'
        : `expected ${issue.expected}, got ${describeKind(issue.input)}`;
    case 'invalid_value': {
      if (issue.input === undefined) return 'required';
      const expected = issue.values.map(String);
      return expected.length === 1
        ? `expected ${expected.join('')}, got ${describeValue(issue.input)}`
        : `expected one of ${expected.join(' | ')}, got ${describeValue(issue.input)}`;
    }
    case 'invalid_union': {
      if (issue.discriminator === undefined || !('options' in issue)) return issue.message;
      const options = (issue.options ?? []).map(String).join(' | ');
      const value = isRecord(issue.input) ? issue.input[issue.discriminator] : undefined;
      return value === undefined
        ? `required (one of ${options})`
        : `expected one of ${options}, got ${describeValue(value)}`;
    }
    case 'too_small':
      return issue.origin === 'string' && Number(issue.minimum) === 1 ? 'must not be empty' : issue.message;
    case 'too_big':
    case 'invalid_format':
    case 'not_multiple_of':
    case 'unrecognized_keys':
    case 'invalid_key':
    case 'invalid_element':
    case 'custom':
      return issue.message;
  }
}
