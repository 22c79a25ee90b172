import { type Writable } from 'node:stream';

export type Cell = string | number | boolean | null | undefined;
export type Row = Readonly<Record<string, Cell>>;

export interface Column {
  readonly key: string;
  readonly header: string;
  /** Numbers are right-aligned by default. */
  readonly align?: 'left' | 'right';
}

function text(cell: Cell): string {
  if (cell === null || cell === undefined) return '-';
  return String(cell);
}

/**
 * A column-aligned plain-text table (no box drawing, so it pastes cleanly into tickets and greps well).
 * Control characters in cells are escaped: DLQ payloads and error messages come from outside.
 */
export function formatTable(columns: readonly Column[], rows: readonly Row[]): string {
  const cells = rows.map((row) => columns.map((column) => printable(text(row[column.key]))));
  const widths = columns.map((column, index) =>
    Math.max(column.header.length, ...cells.map((line) => (line[index] ?? '').length)),
  );
  const alignOf = (column: Column): 'left' | 'right' =>
    column.align ??
    (rows.length > 0 && rows.every((row) => typeof row[column.key] === 'number') ? 'right' : 'left');
  const render = (line: readonly string[]): string =>
    line
      .map((cell, index) => {
        const column = columns[index] as Column;
        const width = widths[index] ?? 0;
        return alignOf(column) === 'right' ? cell.padStart(width) : cell.padEnd(width);
      })
      .join('  ')
      .trimEnd();
  const header = render(columns.map((column) => column.header));
  const rule = widths.map((width) => '-'.repeat(width)).join('  ');
  return [header, rule, ...cells.map(render)].join('\n');
}

function printable(value: string): string {
  // eslint-disable-next-line no-control-regex
  return value.replace(/[\u0000-\u001f\u007f]/g, (char) => {
    if (char === '\n') return '\\n';
    if (char === '\t') return '\\t';
    if (char === '\r') return '\\r';
    return `\\x${char.charCodeAt(0).toString(16).padStart(2, '0')}`;
  });
}

export interface CliIo {
  readonly stdout: Writable;
  readonly stderr: Writable;
}

/** Where a command writes: a table and notes for people, or one JSON document for machines (`--json`). */
export class Output {
  constructor(
    private readonly io: CliIo,
    readonly json: boolean,
  ) {}

  /** The command's result: `data` as JSON, or the rendering for people. */
  result(data: unknown, render: () => string): void {
    this.io.stdout.write(this.json ? `${JSON.stringify(data, null, 2)}\n` : `${render()}\n`);
  }

  /** A remark for people (stderr, so `--json` output stays one parseable document on stdout). */
  note(message: string): void {
    this.io.stderr.write(`${message}\n`);
  }
}
