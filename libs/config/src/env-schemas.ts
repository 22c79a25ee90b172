import { z } from 'zod';
import { DURATION_FORMAT, parseDurationMs } from './duration';

/** A schema that reads one environment variable (a string, or `undefined` when unset) into a `T`. */
export type EnvSchema<T> = z.ZodType<T, string | undefined>;

/** What a parse function of {@link envValue} returns: the value, or what was expected instead. */
export type EnvParseResult<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly expected: string };

/** The message of the issue raised for a missing variable without a default; `loadConfig` prints it as is. */
export const REQUIRED = 'required';

const ok = <T>(value: T): EnvParseResult<T> => ({ ok: true, value });
const invalid = (expected: string): EnvParseResult<never> => ({ ok: false, expected });

/**
 * Builds a setting from a parse function. An unset or blank variable takes `defaultValue`, or is reported as
 * `required` when there is none. The parse function gets the trimmed value and must not echo it in `expected`:
 * `loadConfig` appends the bad value itself, and leaves it out for secrets.
 */
export function envValue<T>(parse: (raw: string) => EnvParseResult<T>, defaultValue?: T): EnvSchema<T> {
  return z
    .string()
    .optional()
    .transform((raw, ctx) => {
      const value = raw?.trim();
      if (value === undefined || value === '') {
        if (defaultValue !== undefined) return copy(defaultValue);
        ctx.addIssue({ code: 'custom', message: REQUIRED });
        return z.NEVER;
      }
      const result = parse(value);
      if (result.ok) return result.value;
      ctx.addIssue({ code: 'custom', message: `expected ${result.expected}` });
      return z.NEVER;
    });
}

// Arrays given as defaults are copied so that freezing one parsed config never freezes the caller's array.
function copy<T>(value: T): T {
  return (Array.isArray(value) ? [...(value as unknown[])] : value) as T;
}

export interface IntRange {
  readonly min?: number;
  readonly max?: number;
}

function rangeText({ min, max }: IntRange, noun: string): string {
  if (min !== undefined && max !== undefined) return `${noun} between ${min} and ${max}`;
  if (min !== undefined) return `${noun} >= ${min}`;
  if (max !== undefined) return `${noun} <= ${max}`;
  return noun;
}

function inRange(value: number, { min, max }: IntRange): boolean {
  return (min === undefined || value >= min) && (max === undefined || value <= max);
}

function assertDefault(ok: boolean, what: string, value: unknown): void {
  // A bad default is a programming error, not a configuration error: fail at module load, loudly.
  if (!ok) throw new TypeError(`Invalid default for ${what}: ${JSON.stringify(value)}`);
}

/** A string; blank counts as unset. */
export function envString(defaultValue?: string): EnvSchema<string> {
  return envValue((raw) => ok(raw), defaultValue);
}

/** An integer (decimal digits, optional sign) within `range`. */
export function envInt(defaultValue?: number, range: IntRange = {}): EnvSchema<number> {
  const expected = rangeText(range, 'an integer');
  if (defaultValue !== undefined) {
    assertDefault(Number.isSafeInteger(defaultValue) && inRange(defaultValue, range), expected, defaultValue);
  }
  return envValue((raw) => {
    if (!/^[+-]?\d+$/.test(raw)) return invalid(expected);
    const value = Number(raw);
    return Number.isSafeInteger(value) && inRange(value, range) ? ok(value) : invalid(expected);
  }, defaultValue);
}

const TRUE = ['true', '1', 'yes'];
const FALSE = ['false', '0', 'no'];

/** `true`/`false`, `1`/`0` or `yes`/`no`, in any letter case. */
export function envBool(defaultValue?: boolean): EnvSchema<boolean> {
  return envValue((raw) => {
    const value = raw.toLowerCase();
    if (TRUE.includes(value)) return ok(true);
    if (FALSE.includes(value)) return ok(false);
    return invalid('one of true, false, 1, 0, yes, no');
  }, defaultValue);
}

/**
 * A duration in whole milliseconds: `500ms`, `5s`, `2m`, `1h` or `7d`. A value without a unit (`30`) is refused,
 * naming the variable (see `parseDurationMs`; `0` is the exception). The default may be written the same way
 * (`envDurationMs('30s')`) or, in code, as a number of milliseconds.
 */
export function envDurationMs(defaultValue?: number | string, range: IntRange = {}): EnvSchema<number> {
  const expected =
    DURATION_FORMAT +
    (range.min !== undefined || range.max !== undefined ? ` (${rangeText(range, 'ms')})` : '');
  const fallback = typeof defaultValue === 'string' ? parseDurationMs(defaultValue) : defaultValue;
  if (defaultValue !== undefined) {
    assertDefault(
      fallback !== undefined && fallback >= 0 && inRange(fallback, range),
      expected,
      defaultValue,
    );
  }
  return envValue((raw) => {
    const value = parseDurationMs(raw);
    if (value === undefined && /^\d+(?:\.\d+)?$/.test(raw)) {
      return invalid(`${expected}; a number without a unit is ambiguous (write ${raw}ms or ${raw}s)`);
    }
    return value !== undefined && inRange(value, range) ? ok(value) : invalid(expected);
  }, fallback);
}

/** A comma-separated list; items are trimmed and empty items dropped. A set variable must hold at least one item. */
export function envList(defaultValue?: readonly string[]): EnvSchema<string[]> {
  return envValue(
    (raw) => {
      const items = splitList(raw);
      return items.length > 0 ? ok(items) : invalid('a comma-separated list');
    },
    defaultValue === undefined ? undefined : [...defaultValue],
  );
}

export function splitList(raw: string): string[] {
  return raw
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

/** One of `values`, matched case-insensitively and returned in the spelling given here. */
export function envEnum<const T extends readonly [string, ...string[]]>(
  values: T,
  defaultValue?: T[number],
): EnvSchema<T[number]> {
  const expected = `one of ${values.join(', ')}`;
  if (defaultValue !== undefined) assertDefault(values.includes(defaultValue), expected, defaultValue);
  return envValue((raw) => {
    const value = values.find((candidate) => candidate.toLowerCase() === raw.toLowerCase());
    return value === undefined ? invalid(expected) : ok(value);
  }, defaultValue);
}

export interface UrlOptions {
  /** Allowed schemes without the colon, e.g. `['postgres', 'postgresql']`; any scheme when omitted. */
  readonly protocols?: readonly string[];
}

/** An absolute URL, returned as written (not normalised). */
export function envUrl(defaultValue?: string, options: UrlOptions = {}): EnvSchema<string> {
  const protocols = options.protocols?.map((protocol) => `${protocol.replace(/:$/, '').toLowerCase()}:`);
  const expected = protocols ? `a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}` : 'a URL';
  const parse = (raw: string): EnvParseResult<string> => {
    if (!URL.canParse(raw)) return invalid(expected);
    const { protocol } = new URL(raw);
    return protocols && !protocols.includes(protocol) ? invalid(expected) : ok(raw);
  };
  if (defaultValue !== undefined) assertDefault(parse(defaultValue).ok, expected, defaultValue);
  return envValue(parse, defaultValue);
}
