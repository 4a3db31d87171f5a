/** Where output goes and how it may look: terminals get colours and live progress, pipes plain text. */
export interface Io {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  env: NodeJS.ProcessEnv;
}

export interface Painter {
  bold: (s: string) => string;
  dim: (s: string) => string;
  red: (s: string) => string;
  green: (s: string) => string;
  yellow: (s: string) => string;
  cyan: (s: string) => string;
}

export interface Terminal {
  /** Live progress bars: only when stdout is a terminal (and stderr, where they are drawn, too). */
  bars: boolean;
  /** Colours for what goes to stdout, and to stderr. */
  out: Painter;
  err: Painter;
  /** Columns of stdout's terminal, or Infinity when it is not one (nothing is cut). */
  width: number;
}

const code = (open: number, close: number) => (s: string) => `\x1b[${open}m${s}\x1b[${close}m`;
const COLOURS: Painter = {
  bold: code(1, 22),
  dim: code(2, 22),
  red: code(31, 39),
  green: code(32, 39),
  yellow: code(33, 39),
  cyan: code(36, 39),
};
const identity = (s: string) => s;
const PLAIN: Painter = {
  bold: identity,
  dim: identity,
  red: identity,
  green: identity,
  yellow: identity,
  cyan: identity,
};

/** https://no-color.org: NO_COLOR set and not empty turns colours off, whatever the terminal. */
export function detectTerminal(io: Io, opts: { color: boolean }): Terminal {
  const noColor = !opts.color || (io.env.NO_COLOR !== undefined && io.env.NO_COLOR !== '') || io.env.TERM === 'dumb';
  const outTty = io.stdout.isTTY === true;
  const errTty = io.stderr.isTTY === true;
  return {
    bars: outTty && errTty && io.env.TERM !== 'dumb',
    out: outTty && !noColor ? COLOURS : PLAIN,
    err: errTty && !noColor ? COLOURS : PLAIN,
    width: outTty ? io.stdout.columns || 80 : Infinity,
  };
}

// eslint-disable-next-line no-control-regex -- the escape sequences this file itself writes
const ANSI = /\x1b\[[0-9;]*m/g;
export const visibleLength = (s: string) => s.replace(ANSI, '').length;

/**
 * An aligned table; the last column is cut to the terminal's width (with …) so that a row is one
 * line on a terminal. `paintHeader` styles the header row.
 */
export function table(header: string[], rows: string[][], width: number, paintHeader: (s: string) => string): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => visibleLength(r[i] ?? ''))));
  const last = header.length - 1;
  const before = widths.slice(0, last).reduce((a, w) => a + w + 2, 0);
  const room = Math.max(20, width - before - 2);
  const line = (r: string[], paint: (s: string) => string) =>
    '  ' +
    r
      .map((cell, i) => {
        if (i === last) return visibleLength(cell) > room ? cell.slice(0, room - 1) + '…' : cell;
        return cell + ' '.repeat(widths[i] - visibleLength(cell));
      })
      .map(paint)
      .join('  ')
      .trimEnd();
  return [line(header, paintHeader), ...rows.map((r) => line(r, identity))].join('\n');
}

/** Decimal sizes for people (what `ls -h` and browsers show). */
export function size(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let n = bytes;
  let unit = 'B';
  for (const u of units) {
    if (n < 1000) break;
    n /= 1000;
    unit = u;
  }
  return `${n >= 100 ? n.toFixed(0) : n.toFixed(1)} ${unit}`;
}

export const plural = (n: number, one: string, many = `${one}s`) =>
  `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;
