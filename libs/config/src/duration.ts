const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/i;

/** What a duration must look like, for error messages. */
export const DURATION_FORMAT = 'a duration with a unit such as 500ms, 5s, 2m, 1h or 7d';

/**
 * Parses `500ms`, `5s`, `2m`, `1h` or `7d` into whole milliseconds. The unit is required: a bare `30` could mean
 * 30 ms or 30 s (variables are named `…_MS` for history, values are not), and guessing wrong turns a 30-second
 * timeout into a 30-millisecond one. `0` is the one bare number accepted (it is zero in every unit).
 * Returns `undefined` for anything else (negative values included).
 */
export function parseDurationMs(text: string): number | undefined {
  const trimmed = text.trim();
  if (/^0+(?:\.0+)?$/.test(trimmed)) return 0;
  const match = DURATION.exec(trimmed);
  if (!match) return undefined;
  const amount = Number(match[1]);
  const unit = match[2]?.toLowerCase() as keyof typeof UNIT_MS | undefined;
  if (unit === undefined) return undefined;
  const ms = Math.round(amount * UNIT_MS[unit]);
  return Number.isSafeInteger(ms) ? ms : undefined;
}
