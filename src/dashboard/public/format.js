/*
 * Numbers, sizes, times and the short texts built from API answers. Pure: no DOM, no fetch, so the
 * unit specs run it under Node (format.spec.ts).
 */

export const TERMINAL = ['completed', 'failed', 'cancelled'];

const STATUS_WORDS = {
  queued: 'Queued',
  processing: 'Processing',
  completed: 'Completed',
  failed: 'Failed',
  cancelled: 'Cancelled',
};

const DELIMITERS = { ',': 'comma ( , )', ';': 'semicolon ( ; )', '\t': 'tab', '|': 'pipe ( | )' };
const LINE_ENDINGS = { crlf: 'CRLF (Windows)', lf: 'LF', cr: 'CR', none: 'single line' };

/** A preview cell longer than this is cut, with the whole value in its tooltip. */
export const CELL_MAX = 200;

/** A count in the reader's locale; anything but a number reads as a dash. */
export function fmt(n) {
  return typeof n === 'number' ? n.toLocaleString() : '—';
}

export function formatBytes(n) {
  if (typeof n !== 'number') return '—';
  if (n < 1024) return `${n} bytes`;
  const units = ['KB', 'MB', 'GB'];
  let v = n;
  let u = -1;
  do {
    v /= 1024;
    u++;
  } while (v >= 1024 && u < units.length - 1);
  return `${v >= 10 ? v.toFixed(0) : v.toFixed(1)} ${units[u]}`;
}

/** Time left, rounded up to the second: "42 s", "3 min 5 s", "1 h 20 min". */
export function formatDuration(ms) {
  const s = Math.max(0, Math.ceil(ms / 1000));
  const hours = Math.floor(s / 3600);
  const min = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (hours) return `${hours} h ${min} min`;
  if (min) return `${min} min ${sec} s`;
  return `${sec} s`;
}

export function formatTime(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  return isNaN(d.getTime()) ? iso : d.toLocaleString();
}

/** "CSV, gzip · schema “default”" */
export function formatFormat(upload) {
  const p = upload.parsing || {};
  return `${String(upload.format || '').toUpperCase()}${p.compressed ? ', gzip' : ''} · schema “${upload.schema}”`;
}

export function formatEncoding(parsing) {
  const p = parsing || {};
  return (p.encoding || '—') + (p.bom ? ', with BOM' : '');
}

/** CSV only has a delimiter (API.md: `parsing` has `delimiter`, `lineEnding` and `header` for CSV only). */
export function formatDelimiter(parsing) {
  const p = parsing || {};
  if (p.delimiter === undefined) return 'not applicable';
  const delimiter = DELIMITERS[p.delimiter] || JSON.stringify(p.delimiter);
  return delimiter + (p.lineEnding ? `, line ending ${LINE_ENDINGS[p.lineEnding] || p.lineEnding}` : '');
}

/** Shown where the header chips would be when there are none. */
export function noHeaderText(format) {
  return format === 'csv' ? '—' : `not applicable (no header row in ${format})`;
}

export function uploadAnnouncement(upload) {
  const skipped = upload.validationErrorCount;
  return `Upload checked: ${fmt(upload.itemCount)} items accepted, ${fmt(skipped)} ${skipped === 1 ? 'row' : 'rows'} skipped.`;
}

/** A preview cell as text: strings as they are, other values as JSON; null for an absent value. */
export function cellText(v) {
  if (v === undefined || v === null) return null;
  return typeof v === 'string' ? v : JSON.stringify(v);
}

export function truncate(text, max = CELL_MAX) {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** Every column any of the items has, in first-seen order. */
export function previewColumns(items) {
  const columns = [];
  for (const it of items) {
    for (const k of Object.keys(it.item)) if (!columns.includes(k)) columns.push(k);
  }
  return columns;
}

export function previewNote(shown, itemCount) {
  return shown
    ? `The first ${fmt(shown)} of ${fmt(itemCount)} accepted items, after type coercion.`
    : 'No item was accepted.';
}

export function isFinished(status) {
  return TERMINAL.includes(status);
}

export function statusWord(status) {
  return STATUS_WORDS[status] || status;
}

/** What the progress section shows for one batch (GET /v1/batch/{id}). */
export function batchProgress(b) {
  const pct = b.itemCount ? Math.floor((b.processedCount / b.itemCount) * 100) : 0;
  const error = b.error
    ? `. ${typeof b.error === 'string' ? b.error : b.error.message || JSON.stringify(b.error)}`
    : '';
  return {
    pct,
    label: `Processed ${fmt(b.processedCount)} of ${fmt(b.itemCount)} items (${pct} %)`,
    counts: `${fmt(b.succeededCount)} succeeded, ${fmt(b.failedCount)} failed${error}`,
    finished: isFinished(b.status),
  };
}

/** Said through the status region when a followed batch changes status. */
export function batchAnnouncement(b) {
  const word = statusWord(b.status).toLowerCase();
  if (!isFinished(b.status)) return `Batch ${word}.`;
  return (
    `Batch ${word}: ${fmt(b.processedCount)} of ${fmt(b.itemCount)} items processed, ` +
    `${fmt(b.succeededCount)} succeeded, ${fmt(b.failedCount)} failed.`
  );
}

/** A batch made from several uploads: "3 files" (API.md, source type `files`), else null. */
function filesSource(b) {
  const s = b.source;
  return s && s.type === 'files' && Array.isArray(s.files)
    ? `${s.files.length} ${s.files.length === 1 ? 'file' : 'files'}`
    : null;
}

export function batchTitle(b) {
  return `${b.name || (b.source && b.source.originalFileName) || filesSource(b) || 'Batch'} · ${b.id}`;
}

/** The first cell of a recent-batches row: its name, else its file, else its id. */
export function batchLabel(b) {
  const several = filesSource(b);
  const source = b.source && b.source.type === 'file' ? b.source.originalFileName : several || 'direct items';
  return b.name || source || b.id;
}
