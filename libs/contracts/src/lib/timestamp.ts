import { ContractViolationError } from './contract-violation.error';

// Seconds required, at most 7 fractional digits (.NET ticks), and a zone: a zone-less time is ambiguous.
const TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,7}))?(?:Z|([+-])(\d{2}):(\d{2}))$/;

interface TimestampParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  millisecond: number;
  offsetMinutes: number;
}

function parts(value: string): TimestampParts | undefined {
  const m = TIMESTAMP.exec(value);
  if (m === null) return undefined;
  const [, year, month, day, hour, minute, second, fraction, sign, offsetHour, offsetMinute] = m;
  const p: TimestampParts = {
    year: Number(year),
    month: Number(month),
    day: Number(day),
    hour: Number(hour),
    minute: Number(minute),
    second: Number(second),
    // JavaScript dates stop at milliseconds: the digits after the third are truncated, not rounded.
    millisecond: fraction === undefined ? 0 : Number(fraction.slice(0, 3).padEnd(3, '0')),
    offsetMinutes:
      sign === undefined ? 0 : (sign === '-' ? -1 : 1) * (Number(offsetHour) * 60 + Number(offsetMinute)),
  };
  const valid =
    p.month >= 1 &&
    p.month <= 12 &&
    p.day >= 1 &&
    p.day <= daysInMonth(p.year, p.month) &&
    p.hour <= 23 &&
    p.minute <= 59 &&
    p.second <= 59 &&
    Number(offsetHour ?? 0) <= 23 &&
    Number(offsetMinute ?? 0) <= 59;
  return valid ? p : undefined;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysInMonth(year: number, month: number): number {
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return month === 2 && leap ? 29 : (DAYS_IN_MONTH[month - 1] ?? 0);
}

/** An ISO-8601 date-time with seconds, up to 7 fractional digits and a zone (`Z` or `±hh:mm`). */
export function isTimestamp(value: string): boolean {
  return parts(value) !== undefined;
}

export const TIMESTAMP_FORMAT_DESCRIPTION =
  'an ISO-8601 timestamp with a time zone (Z or ±hh:mm) and at most 7 fractional digits';

/**
 * The instant a wire timestamp denotes. Digits beyond milliseconds are truncated, so keep the string when the
 * exact value matters (e.g. to re-publish it).
 */
export function toDate(ts: string): Date {
  const p = parts(ts);
  if (p === undefined) {
    throw new ContractViolationError('Timestamp', [
      { path: '', message: `expected ${TIMESTAMP_FORMAT_DESCRIPTION}, got ${JSON.stringify(ts)}` },
    ]);
  }
  const date = new Date(0);
  // setUTCFullYear, not Date.UTC: Date.UTC maps years 0–99 to 1900–1999.
  date.setUTCFullYear(p.year, p.month - 1, p.day);
  date.setUTCHours(p.hour, p.minute, p.second, p.millisecond);
  return new Date(date.getTime() - p.offsetMinutes * 60_000);
}

/** The wire form of an instant: UTC, millisecond precision, ending in `Z`. Throws RangeError on an invalid Date. */
export function formatTimestamp(d: Date): string {
  return d.toISOString();
}
