/**
 * The rejected rows as a CSV a person can fix and upload again: the file's own columns, then
 * `_row,_field,_code,_error`. Cells that a spreadsheet would run as a formula are prefixed with `'`
 * (CSV injection, OWASP).
 */
const FORMULA_START = /^[=+\-@\t\r]/;
const NEEDS_QUOTES = /[",\r\n]|^\s|\s$/;

export function csvCell(value: unknown): string {
  let s = value === undefined || value === null ? '' : typeof value === 'string' ? value : JSON.stringify(value);
  if (FORMULA_START.test(s)) s = `'${s}`;
  return NEEDS_QUOTES.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export const ERROR_COLUMNS = ['_row', '_field', '_code', '_error'];

export function csvLine(cells: unknown[]): string {
  return cells.map(csvCell).join(',') + '\r\n';
}

export interface LoggedError {
  row: number;
  line?: number;
  field?: string;
  code: string;
  error: string;
  raw: unknown;
}

/** The file's cells for a rejected row, aligned with `columns`. */
export function rawCells(raw: unknown, columns: string[], fromCsv: boolean): unknown[] {
  if (fromCsv && Array.isArray(raw)) return columns.map((_, i) => (raw as unknown[])[i] ?? '');
  if (raw && typeof raw === 'object' && !Array.isArray(raw)) {
    const obj = raw as Record<string, unknown>;
    // Own properties only: a row without a `__proto__` (or `constructor`) key has an empty cell there,
    // not Object.prototype's member.
    return columns.map((c) => (Object.hasOwn(obj, c) ? obj[c] : undefined));
  }
  // A row that was not an object (or not JSON at all): its value goes, as JSON, in the first column.
  return columns.map((_, i) => (i === 0 ? (typeof raw === 'string' ? raw : JSON.stringify(raw)) : ''));
}
