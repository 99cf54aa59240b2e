/**
 * Human output for the diagnostics CLI: aligned tables, short ages, ANSI colour
 * (only when stdout is a terminal) and sparklines. Pure functions of their input.
 */

export type Colour = 'red' | 'yellow' | 'green' | 'dim' | 'bold';

const ANSI: Record<Colour, [string, string]> = {
  red: ['\x1b[31m', '\x1b[39m'],
  yellow: ['\x1b[33m', '\x1b[39m'],
  green: ['\x1b[32m', '\x1b[39m'],
  dim: ['\x1b[2m', '\x1b[22m'],
  bold: ['\x1b[1m', '\x1b[22m'],
};

/** Wraps text in an ANSI colour when enabled (a TTY); otherwise returns it unchanged. */
export function paint(text: string, colour: Colour | undefined, enabled: boolean): string {
  if (!enabled || !colour) return text;
  const [on, off] = ANSI[colour];
  return on + text + off;
}

export type Align = 'left' | 'right';

export interface TableOptions {
  /** Per-column alignment; default left. */
  align?: Align[];
  /** Per-row colour (index into rows), applied after padding so columns stay aligned. */
  rowColour?: (rowIndex: number) => Colour | undefined;
  colour?: boolean;
  /** Prefix every line (e.g. two spaces to indent a section). */
  indent?: string;
}

/** Columns separated by two spaces; trailing spaces trimmed. Widths count code points. */
export function table(headers: string[], rows: string[][], opts: TableOptions = {}): string {
  const width = headers.map((h, i) => Math.max(len(h), ...rows.map((r) => len(r[i] ?? ''))));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (opts.align?.[i] === 'right' ? pad(c, width[i], 'left') : pad(c, width[i], 'right')))
      .join('  ')
      .trimEnd();
  const indent = opts.indent ?? '';
  const out = [indent + line(headers)];
  rows.forEach((r, i) => out.push(indent + paint(line(r), opts.rowColour?.(i), opts.colour ?? false)));
  return out.join('\n') + '\n';
}

/** Key/value lines with the keys aligned. */
export function keyValues(pairs: [string, string][], indent = ''): string {
  const w = Math.max(0, ...pairs.map(([k]) => len(k)));
  return pairs.map(([k, v]) => `${indent}${pad(k, w, 'right')}  ${v}`.trimEnd()).join('\n') + '\n';
}

function len(s: string): number {
  return [...s].length;
}

function pad(s: string, w: number, side: 'left' | 'right'): string {
  const fill = ' '.repeat(Math.max(0, w - len(s)));
  return side === 'left' ? fill + s : s + fill;
}

/** "850ms", "3.2s", "5m", "2h5m", "3d4h". */
export function formatAge(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '-';
  if (ms < 0) ms = 0;
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = ms / 1000;
  if (s < 60) return `${(Math.floor(s * 10) / 10).toFixed(1)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 24) return m % 60 ? `${h}h${m % 60}m` : `${h}h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d}d${h % 24}h` : `${d}d`;
}

/** Bytes as "512 B", "1.5 KiB", "12.0 MiB". */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}

/** A value as shown in tables: numbers keep up to 4 decimals, strings as they are. */
export function formatValue(v: unknown): string {
  if (v === undefined || v === null) return '-';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(Number(v.toFixed(4)));
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}

/** UTC timestamp without milliseconds: "2026-01-01 00:00:05Z". */
export function formatTime(ms: number | undefined): string {
  if (ms === undefined) return '-';
  return new Date(ms).toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, 'Z');
}

const BARS = '▁▂▃▄▅▆▇█';

/** One bar per value, scaled between the window's min and max; a flat series is all ▁. */
export function sparkline(values: number[]): string {
  if (values.length === 0) return '';
  const min = Math.min(...values);
  const max = Math.max(...values);
  const span = max - min;
  return values
    .map((v) => (span === 0 ? BARS[0] : BARS[Math.min(BARS.length - 1, Math.floor(((v - min) / span) * BARS.length))]))
    .join('');
}

/**
 * A table from an array of plain objects (driver-specific results such as zigbee
 * devices); columns are the union of keys in first-seen order. Nested values as JSON.
 */
export function recordsTable(records: Record<string, unknown>[], colour = false): string {
  const keys: string[] = [];
  for (const r of records) for (const k of Object.keys(r)) if (!keys.includes(k)) keys.push(k);
  return table(
    keys.map((k) => k.toUpperCase()),
    records.map((r) => keys.map((k) => formatValue(r[k]))),
    { colour },
  );
}
