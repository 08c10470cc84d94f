import { printable } from './terminal-text.js';

/** A column of a table; `shrink` columns give up width first when the terminal is narrow. */
export interface Column {
  header: string;
  shrink?: boolean;
}

/** Narrowest a shrinking column gets before the table is allowed to wrap. */
const MIN_SHRUNK = 10;

/**
 * Left-aligned columns two spaces apart, headers in capitals, trailing
 * blanks trimmed. With `width` (the terminal's), `shrink` columns are cut
 * with `…`, widest first, until the table fits or they are all narrow.
 * Cells are made printable: a server-supplied escape sequence cannot reach
 * the terminal through a table.
 */
export function renderTable(columns: readonly (Column | string)[], rows: readonly (readonly unknown[])[], opts: { width?: number } = {}): string {
  const cols = columns.map((c) => (typeof c === 'string' ? { header: c } : c));
  const cells = rows.map((r) => cols.map((_, i) => printable(r[i] ?? '')));
  const widths = cols.map((c, i) => Math.max(len(c.header), ...cells.map((r) => len(r[i]!))));
  if (opts.width !== undefined) fit(cols, widths, opts.width);
  const line = (r: string[]) =>
    r
      .map((cell, i) => pad(cut(cell, widths[i]!), widths[i]!))
      .join('  ')
      .trimEnd();
  return `${[line(cols.map((c) => c.header.toUpperCase())), ...cells.map(line)].join('\n')}\n`;
}

function fit(cols: Column[], widths: number[], width: number): void {
  const total = () => widths.reduce((a, b) => a + b, 0) + 2 * (widths.length - 1);
  while (total() > width) {
    let widest = -1;
    for (let i = 0; i < cols.length; i++) {
      if (cols[i]!.shrink && widths[i]! > MIN_SHRUNK && (widest < 0 || widths[i]! > widths[widest]!)) widest = i;
    }
    if (widest < 0) return;
    widths[widest] = Math.max(MIN_SHRUNK, widths[widest]! - (total() - width));
  }
}

/** Length in code points, so `…` and non-Latin names count once. */
function len(s: string): number {
  return [...s].length;
}

function cut(s: string, width: number): string {
  const chars = [...s];
  return chars.length <= width ? s : `${chars.slice(0, width - 1).join('')}…`;
}

function pad(s: string, width: number): string {
  return s + ' '.repeat(Math.max(0, width - len(s)));
}
