import { type EmailNotificationResultType, type OrderProgressResponse } from '@notifications/contracts';
import { type NotificationSummaryRow, type StatusChange } from './demo-status.tracker';

/** `1234` → `1.2s`; whole minutes and seconds beyond a minute (`1m05.0s`). */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, ms) / 1000;
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes}m${(seconds - minutes * 60).toFixed(1).padStart(4, '0')}s`;
}

/** What the API shows as a notification's recipient, as one label: the address, and whom it was looked up for. */
export function recipientLabel(recipient: {
  readonly emailAddress?: string;
  readonly nationalIdentityNumber?: string;
  readonly organizationNumber?: string;
}): string {
  const identifier = recipient.nationalIdentityNumber ?? recipient.organizationNumber;
  const address = recipient.emailAddress ?? '(no address)';
  return identifier === undefined ? address : `${address} (${identifier})`;
}

/**
 * What the emulator's built-in demo domains end as (apps/acs-emulator/README.md, "Built-in demo addresses").
 * Anything else ends `Delivered`, including the demo's `…@briefly.throttle.test`, which its own rule throttles only
 * for the first sends. (The built-in `*@throttle.test` throttles every send: such a notification is re-sent until it
 * expires after 48 h, so the demo does not use it.)
 */
export function expectedDemoResult(address: string | undefined): EmailNotificationResultType {
  const domain = address === undefined ? '' : address.slice(address.lastIndexOf('@') + 1).toLowerCase();
  switch (domain) {
    case 'bounce.test':
      return 'Failed_Bounced';
    case 'suppressed.test':
      return 'Failed_SupressedRecipient';
    case 'quarantine.test':
      return 'Failed_Quarantined';
    case 'spam.test':
      return 'Failed_FilteredSpam';
    case 'fail.test':
      return 'Failed';
    case 'invalid.test':
      return 'Failed_InvalidEmailFormat';
    default:
      return 'Delivered';
  }
}

/** One line per change: `  +1.4s  ola@example.com  Sending → Delivered (final)`. */
export function formatChange(change: StatusChange, labelWidth: number): string {
  const elapsed = `+${formatDuration(change.elapsedMs)}`.padStart(8);
  const label = (change.kind === 'order' ? 'order' : change.recipient).padEnd(labelWidth);
  const transition = change.from === undefined ? change.to : `${change.from} → ${change.to}`;
  const note =
    change.kind === 'notification' && change.final
      ? ' (final)'
      : change.kind === 'notification' && change.to === 'New' && change.from !== undefined
        ? ' (re-queued: the send failed transiently, it is sent again)'
        : '';
  return `${elapsed}  ${label}  ${transition}${note}`;
}

export interface SummaryRowWithExpectation extends NotificationSummaryRow {
  readonly expected: EmailNotificationResultType;
}

/** A plain-text table: recipient, final status, time to final, and whether that is what the demo expected. */
export function formatSummaryTable(rows: readonly SummaryRowWithExpectation[]): string[] {
  const header = ['recipient', 'final status', 'time to final', 'as expected'];
  const cells = rows.map((row) => [
    row.recipient,
    row.final ? row.status : `${row.status} (still pending)`,
    row.timeToFinalMs === undefined ? '–' : formatDuration(row.timeToFinalMs),
    !row.final ? '–' : row.status === row.expected ? 'yes' : `no (expected ${row.expected})`,
  ]);
  const widths = header.map((title, column) =>
    Math.max(title.length, ...cells.map((line) => line[column]?.length ?? 0)),
  );
  const render = (line: readonly string[]): string =>
    line
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join('  ')
      .trimEnd();
  return [render(header), render(widths.map((width) => '-'.repeat(width))), ...cells.map(render)];
}

/** An app the demo needs that is not ready, and why. */
export interface AppNotReady {
  readonly name: string;
  /** false: nothing listens at its URL (not started); true: it answers but is not ready. */
  readonly answers: boolean;
  readonly reason: string;
}

const HOW_TO_START =
  'start it with `npm start` in another terminal, wait for "The notification pipeline is ready", ' +
  'then run `npm run demo` again';

/**
 * Why the demo cannot run: one line when none of its apps answers (the usual case: the system was not started),
 * otherwise the apps that are not ready, one line each, since then something is half up and the reasons differ.
 */
export function notRunningMessage(down: readonly AppNotReady[], appCount: number): string {
  if (down.length === appCount && down.every((app) => !app.answers)) {
    return `The system is not running (nothing answers at the apps' URLs): ${HOW_TO_START}.`;
  }
  return [
    'The system is not fully running:',
    ...down.map((app) => `  ${app.name.padEnd(14)}${app.reason}`),
    `Wait until \`npm start\` prints "The notification pipeline is ready" (or ${HOW_TO_START}).`,
  ].join('\n');
}

/**
 * One line per progress event:
 * `   +2.1s  progress  Processed 5/7 final (Sending 2, Delivered 4, …) 2.4/s, ETA 1 s`.
 */
export function formatProgress(
  snapshot: OrderProgressResponse,
  elapsedMs: number,
  labelWidth: number,
): string {
  const elapsed = `+${formatDuration(elapsedMs)}`.padStart(8);
  const counts = Object.entries(snapshot.counts)
    .map(([status, n]) => `${status} ${n}`)
    .join(', ');
  const eta = snapshot.etaSeconds === null ? '' : `, ETA ${snapshot.etaSeconds} s`;
  const pause =
    snapshot.rateLimitPausedUntil === null ? '' : `, rate-limit pause until ${snapshot.rateLimitPausedUntil}`;
  return (
    `${elapsed}  ${'progress'.padEnd(labelWidth)}  ${snapshot.orderStatus} ${snapshot.final}/${snapshot.total} final` +
    (counts === '' ? '' : ` (${counts})`) +
    ` ${snapshot.ratePerSecond}/s${eta}${pause}`
  );
}
