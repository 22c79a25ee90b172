import { type FaultResult } from './fault-run';

const seconds = (ms: number | undefined): string =>
  ms === undefined ? 'never' : `${(ms / 1000).toFixed(1)} s`;

/** The fault table: one row per case, columns right-aligned except the first. */
export function formatFaultTable(results: readonly FaultResult[]): string {
  const header = [
    'fault',
    'notifications',
    'final',
    'lost',
    'duplicated',
    're-sent (same id)',
    'malformed',
    'dead-lettered',
    'time to recover',
    'all final after',
    'events lost',
    'crashed',
  ];
  const rows = results.map((r) => [
    r.fault,
    String(r.notifications),
    String(r.final),
    String(r.lost),
    String(r.duplicated),
    String(r.resentSameId),
    String(r.malformedPublished),
    String(r.deadLettered),
    seconds(r.recoverMs),
    seconds(r.totalMs),
    r.subscriberEvents === undefined ? '—' : String(r.subscriberEvents.lost),
    r.unexpectedExits.length === 0 ? 'none' : r.unexpectedExits.join(', '),
  ]);
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => row[column]!.length)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!)))
      .join('  ');
  return [line(header), widths.map((width) => '-'.repeat(width)).join('  '), ...rows.map(line)].join('\n');
}
