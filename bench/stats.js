'use strict';
/** Small statistics and formatting helpers for the benchmark table. */

/** MB = 10^6 bytes, as every figure of the bench. */
const MB = 1e6;

const sizeLabel = (bytes) =>
  bytes >= 1000 * MB ? `${+(bytes / (1000 * MB)).toFixed(1)} GB` : `${+(bytes / MB).toFixed(1)} MB`;

function sorted(xs) {
  return [...xs].sort((a, b) => a - b);
}

function median(xs) {
  const s = sorted(xs);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Nearest-rank percentile (p in 0..100). */
function percentile(xs, p) {
  const s = sorted(xs);
  const rank = Math.max(1, Math.ceil((p / 100) * s.length));
  return s[Math.min(rank, s.length) - 1];
}

function summary(xs) {
  const s = sorted(xs);
  return { median: median(s), min: s[0], max: s[s.length - 1], runs: s.length };
}

function fmt(x, digits) {
  if (x === undefined || x === null || Number.isNaN(x)) return '-';
  return x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** Renders rows of cells as an aligned text table; numbers-looking columns are right-aligned. */
function table(header, rows) {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => String(r[i] ?? '').length)));
  const right = header.map((_, i) => rows.every((r) => /^[-\d.,–≥≤ ]*[\d-]?$/.test(String(r[i] ?? ''))));
  const line = (r) =>
    r
      .map((c, i) => (right[i] ? String(c ?? '').padStart(widths[i]) : String(c ?? '').padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

module.exports = { MB, median, percentile, summary, fmt, sizeLabel, table };
