import {
  formatTimestamp,
  isFinalOrderStatus,
  type EmailNotificationResultType,
  type OrderProcessingStatus,
} from '@notifications/contracts';
import { isPending } from './email-status.rules';

/**
 * One progress snapshot of an order (`GET /orders/{id}/progress`, JSON or each SSE event). The operator console,
 * `npm run demo` and `npm run ops -- orders show` read exactly these fields.
 */
export interface OrderProgressSnapshot {
  readonly orderId: string;
  readonly orderStatus: OrderProcessingStatus;
  /** The order's email notifications (0 until its recipients are resolved). */
  readonly total: number;
  /** Of those, the ones in a final status. */
  readonly final: number;
  /** Notifications per status, statuses with none left out. */
  readonly counts: Readonly<Partial<Record<EmailNotificationResultType, number>>>;
  /** Notifications that became final per second over the recent window. */
  readonly ratePerSecond: number;
  /** Seconds until every notification is final at that rate, after an active pause; null when unknown or final. */
  readonly etaSeconds: number | null;
  /** The end of an active ACS rate-limit pause (no email is sent until then). */
  readonly rateLimitPausedUntil: string | null;
  /** When the snapshot was taken (the database's clock). */
  readonly updatedAt: string;
}

/** What a snapshot is computed from (one read of the store). */
export interface OrderProgressInput {
  readonly orderId: string;
  readonly orderStatus: OrderProcessingStatus;
  readonly claimedAt?: Date;
  readonly readAt: Date;
  readonly counts: Readonly<Partial<Record<EmailNotificationResultType, number>>>;
  readonly recentCounts: Readonly<Partial<Record<EmailNotificationResultType, number>>>;
  readonly pausedUntil?: Date;
}

// A rate measured over less than this is too noisy to predict anything from.
const MIN_RATE_WINDOW_MS = 1_000;

/**
 * The snapshot of `input`. The rate counts the notifications that became final within `windowMs` (or since the
 * order's processing started, when that is more recent); the ETA is the remaining pause plus the remaining
 * notifications at that rate: while ACS throttles, nothing is sent, so the pause comes first.
 */
export function progressSnapshot(input: OrderProgressInput, windowMs: number): OrderProgressSnapshot {
  let total = 0;
  let final = 0;
  let recentFinal = 0;
  for (const [result, n] of entries(input.counts)) {
    total += n;
    if (!isPending(result)) final += n;
  }
  for (const [result, n] of entries(input.recentCounts)) if (!isPending(result)) recentFinal += n;

  const now = input.readAt.getTime();
  const sinceClaim = input.claimedAt === undefined ? windowMs : now - input.claimedAt.getTime();
  const measuredMs = Math.max(MIN_RATE_WINDOW_MS, Math.min(windowMs, sinceClaim));
  const ratePerSecond = recentFinal / (measuredMs / 1000);
  const pauseRemainingSeconds =
    input.pausedUntil === undefined ? 0 : Math.max(0, (input.pausedUntil.getTime() - now) / 1000);
  const remaining = total - final;
  const finished = isFinalOrderStatus(input.orderStatus);
  const etaSeconds =
    finished || total === 0 || ratePerSecond === 0
      ? remaining === 0 && total > 0 && !finished
        ? // Every notification is final; only the order's completion (the next status cycle) is left.
          0
        : null
      : Math.ceil(pauseRemainingSeconds + remaining / ratePerSecond);

  return {
    orderId: input.orderId,
    orderStatus: input.orderStatus,
    total,
    final,
    counts: { ...input.counts },
    ratePerSecond: Math.round(ratePerSecond * 100) / 100,
    etaSeconds,
    rateLimitPausedUntil: input.pausedUntil === undefined ? null : formatTimestamp(input.pausedUntil),
    updatedAt: formatTimestamp(input.readAt),
  };
}

/** Whether two snapshots tell a watcher the same thing (the time they were taken and the ETA aside). */
export function sameProgress(a: OrderProgressSnapshot, b: OrderProgressSnapshot): boolean {
  return (
    a.orderStatus === b.orderStatus &&
    a.total === b.total &&
    a.final === b.final &&
    a.ratePerSecond === b.ratePerSecond &&
    a.rateLimitPausedUntil === b.rateLimitPausedUntil &&
    sameCounts(a.counts, b.counts)
  );
}

function sameCounts(
  a: Readonly<Partial<Record<string, number>>>,
  b: Readonly<Partial<Record<string, number>>>,
): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const key of keys) if ((a[key] ?? 0) !== (b[key] ?? 0)) return false;
  return true;
}

function entries(
  counts: Readonly<Partial<Record<EmailNotificationResultType, number>>>,
): [EmailNotificationResultType, number][] {
  return Object.entries(counts) as [EmailNotificationResultType, number][];
}
