import { toDate, type SendNotificationOperationIdentifier } from '@notifications/contracts';
import { boundedDelayMs } from '@notifications/messaging';

/** The timing of status checks (see the README's settings table). */
export interface CheckSchedule {
  /** From the first accepted time (`lastStatusCheck` of the sender's message) to the first check. */
  readonly firstCheckDelayMs: number;
  /** Each further interval is the previous one times this, up to `maxIntervalMs`. */
  readonly backoffMultiplier: number;
  readonly maxIntervalMs: number;
  /** After first accepted time + this, a still-unfinished operation gets a final failure. */
  readonly deadlineMs: number;
}

/** Each distinct interval is one delay topic, so their number is bounded. */
export const MAX_DISTINCT_INTERVALS = 12;

/**
 * Every distinct interval of the schedule, ascending: 2 s, 4 s, 8 s, 16 s, 32 s, 60 s by default. These are also
 * the delay tiers (one delay topic each).
 */
export function checkIntervals(schedule: Omit<CheckSchedule, 'deadlineMs'>): number[] {
  const intervals: number[] = [];
  let interval = schedule.firstCheckDelayMs;
  for (;;) {
    const capped = Math.min(schedule.maxIntervalMs, Math.round(interval));
    if (intervals.at(-1) !== capped) intervals.push(capped);
    if (capped >= schedule.maxIntervalMs || schedule.backoffMultiplier <= 1) break;
    // Past the bound the config check rejects the schedule anyway; stop generating.
    if (intervals.length > MAX_DISTINCT_INTERVALS) break;
    interval *= schedule.backoffMultiplier;
  }
  return intervals;
}

/** The interval between check number `checksDone` and the next one (checksDone = 0: accepted → first check). */
export function intervalAfter(schedule: CheckSchedule, checksDone: number): number {
  const exponent = Math.max(0, checksDone);
  return Math.min(
    schedule.maxIntervalMs,
    Math.round(schedule.firstCheckDelayMs * schedule.backoffMultiplier ** exponent),
  );
}

/**
 * The interval until the next check after `checksDone` checks: the backoff step, raised to honour ACS's
 * `retry-after`. A raised interval is rounded up to the next step of the schedule so that every message waiting in
 * one delay tier has the same delay (which is what keeps each tier's topic in due-time order); a `retry-after`
 * beyond the longest step is used as it is, capped at an hour (`boundedDelayMs`).
 */
export function nextInterval(
  schedule: CheckSchedule,
  checksDone: number,
  requestedRetryAfterMs?: number,
): number {
  const backoff = intervalAfter(schedule, checksDone);
  const retryAfterMs =
    requestedRetryAfterMs === undefined ? undefined : boundedDelayMs(requestedRetryAfterMs);
  if (retryAfterMs === undefined || retryAfterMs <= backoff) return backoff;
  return checkIntervals(schedule).find((interval) => interval >= retryAfterMs) ?? retryAfterMs;
}

/**
 * The state a poll carries from check to check in record headers (the payload is the reference's
 * `SendNotificationOperationIdentifier` and has no room for it). Missing headers — a message straight from the
 * sender, or from a reference-era writer — read as "no check yet".
 */
export const PollHeaders = {
  /** Checks done so far. */
  checks: 'x-status-checks',
  /** When the next check is due, in ms after the payload's `lastStatusCheck`. */
  nextCheckInMs: 'x-status-next-check-in-ms',
  /** The first accepted time (ISO-8601), from which the give-up deadline counts. */
  firstAcceptedAt: 'x-status-first-accepted-at',
} as const;

/** Headers copied from message to message so a poll stays in its original trace. */
const PROPAGATED_HEADERS = ['traceparent', 'tracestate'] as const;

export interface PollState {
  readonly checks: number;
  /** Due time of the next check relative to `lastStatusCheck`. */
  readonly nextCheckInMs: number;
  /** Epoch ms. */
  readonly firstAcceptedAt: number;
}

function nonNegativeInt(raw: string | undefined): number | undefined {
  if (raw === undefined || !/^\d{1,15}$/.test(raw.trim())) return undefined;
  return Number(raw);
}

export function readPollState(
  schedule: CheckSchedule,
  message: SendNotificationOperationIdentifier,
  headers: Readonly<Record<string, string>>,
): PollState {
  const checks = nonNegativeInt(headers[PollHeaders.checks]) ?? 0;
  const nextCheckInMs = nonNegativeInt(headers[PollHeaders.nextCheckInMs]) ?? intervalAfter(schedule, checks);
  const firstAcceptedRaw = headers[PollHeaders.firstAcceptedAt];
  const firstAccepted = firstAcceptedRaw === undefined ? Number.NaN : Date.parse(firstAcceptedRaw);
  return {
    checks,
    nextCheckInMs,
    // Without the header the deadline counts from lastStatusCheck (for the sender's message, the accepted time).
    firstAcceptedAt: Number.isFinite(firstAccepted)
      ? firstAccepted
      : toDate(message.lastStatusCheck).getTime(),
  };
}

export function pollStateHeaders(
  state: PollState,
  propagateFrom: Readonly<Record<string, string>> = {},
): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const name of PROPAGATED_HEADERS) {
    const value = propagateFrom[name];
    if (value !== undefined) headers[name] = value;
  }
  headers[PollHeaders.checks] = String(state.checks);
  headers[PollHeaders.nextCheckInMs] = String(state.nextCheckInMs);
  headers[PollHeaders.firstAcceptedAt] = new Date(state.firstAcceptedAt).toISOString();
  return headers;
}

export function deadlineOf(schedule: CheckSchedule, state: PollState): number {
  return state.firstAcceptedAt + schedule.deadlineMs;
}

/** When the next check is due (epoch ms): `lastStatusCheck` + interval, but never after the deadline. */
export function dueAt(
  schedule: CheckSchedule,
  message: SendNotificationOperationIdentifier,
  state: PollState,
): number {
  return Math.min(
    toDate(message.lastStatusCheck).getTime() + state.nextCheckInMs,
    deadlineOf(schedule, state),
  );
}

/**
 * The delay tier a message waits in: the shortest tier at least as long as the remaining wait, else the longest
 * (the message then waits in it more than once). On the regular schedule the remaining wait is the interval minus
 * the few milliseconds the re-check spent in transit, so each tier holds messages of (nearly) one delay.
 */
export function tierFor(tiers: readonly number[], remainingMs: number): number {
  const tier = tiers.find((candidate) => candidate >= remainingMs) ?? tiers.at(-1);
  if (tier === undefined) throw new Error('No delay tiers configured');
  return tier;
}
