/*
 * Upload sessions in the dashboard (issue 13, API.md "Upload sessions"): which files go through a
 * session, the body of POST /v1/uploads, how a file is cut into its parts, what to do when a part
 * fails, the estimate of time left, the texts of the two bars, and the answer once every file ended.
 * Pure: no DOM, no fetch, so session-plan.spec.ts runs it under Node.
 */
import { ApiError } from './api.js';
import { fmt, formatBytes, formatDuration } from './format.js';
import { filePath } from './several.js';

const MiB = 1024 * 1024;
/** API.md: a session sends up to 16 MiB in one PUT; past that a file is worth sending in parts. */
export const SESSION_ABOVE_BYTES = 16 * MiB;
/** Parts in flight at once, over every file of the page. */
export const PARALLEL_PARTS = 4;
/** Tries of one part before the upload stops (it can be resumed after). */
export const MAX_TRIES = 5;
/** The wait before the second try; it doubles at each try after (0.5 s, 1 s, 2 s, 4 s). */
export const BACKOFF_MS = 500;
/** How often a validating session is asked for its progress (batchgate writes it every second). */
export const POLL_MS = 1000;

/**
 * Files over 16 MiB, and any file when the user asked for a resumable upload, go through a session.
 * An empty file never does: a session needs at least one byte (API.md), and the direct upload says
 * what is wrong with an empty file.
 */
export function needsSession(file, resumable) {
  return file.size > 0 && (resumable || file.size > SESSION_ABOVE_BYTES);
}

/** POST /v1/uploads's body: each file under its path (as the direct upload names it), with the form's options. */
export function sessionBody(files, { schema, format } = {}) {
  const s = (schema || '').trim();
  return {
    files: files.map((f) => ({
      filename: filePath(f),
      sizeBytes: f.size,
      ...(f.type ? { contentType: f.type } : {}),
      ...(s && s !== 'default' ? { schema: s } : {}),
      ...(format ? { format } : {}),
    })),
  };
}

/**
 * The answer to POST /v1/uploads matched with the files asked for: `started` (file, its index in the
 * page's choice, the created session) and `refused` (index, name, path, error). `data` lists the
 * sessions in the order of the files it accepted; `errors` names the others by index.
 * `items` are `{ file, index }`; `answer` is the 201 body, or null with `error` (an ApiError) when the
 * request as a whole was refused (every file refused: its `details.files`; anything else: every file).
 */
export function pairCreated(items, answer, error) {
  const started = [];
  const refused = [];
  const refusal = (item, e) => ({
    index: item.index,
    name: item.file.name,
    path: filePath(item.file) === item.file.name ? null : filePath(item.file),
    error: e,
  });
  const perFile = answer ? answer.errors || [] : (error && error.details && error.details.files) || null;
  if (!answer && !Array.isArray(perFile)) {
    return { started, refused: items.map((it) => refusal(it, error)) };
  }
  const byIndex = new Map(perFile.map((r) => [r.index, r]));
  const data = answer ? [...answer.data] : [];
  items.forEach((item, i) => {
    const r = byIndex.get(i);
    if (r) {
      refused.push(refusal(item, new ApiError(r.status, { error: r.error, validationErrors: r.validationErrors })));
    } else if (data.length) {
      started.push({ ...item, created: data.shift() });
    } else {
      refused.push(refusal(item, ApiError.network('batchgate did not start a session for this file.')));
    }
  });
  return { started, refused };
}

/** Where part `partNumber` lies in the file: every part but the last is exactly `partSize` (API.md). */
export function partRange(session, partNumber) {
  const start = (partNumber - 1) * session.partSize;
  return { start, end: Math.min(start + session.partSize, session.sizeBytes) };
}

/** The wait before try `attempt + 1` of a part: 0.5 s, 1 s, 2 s, 4 s. */
export function backoffMs(attempt, base = BACKOFF_MS) {
  return base * 2 ** (attempt - 1);
}

/**
 * What a failed PUT of a part calls for: `retry` (no answer, 408, 429, a fault on the far side),
 * `refresh` (403: the signed URL expired, the local driver's `signature_invalid` and S3's
 * AccessDenied alike; a fresh one is asked for), or `fail` (a refusal that trying again cannot change).
 */
export function partFailure(status) {
  if (status === 0 || status === 408 || status === 429 || status >= 500) return 'retry';
  if (status === 403) return 'refresh';
  return 'fail';
}

/** Headers a page may not set itself (the browser sends Content-Length from the part's own size). */
const FORBIDDEN = /^(content-length|host|connection|keep-alive|transfer-encoding|expect|te|trailer|upgrade)$/i;

/** A part's listed headers, less those the browser sets itself. */
export function sendableHeaders(headers) {
  return Object.fromEntries(Object.entries(headers || {}).filter(([k]) => !FORBIDDEN.test(k)));
}

/**
 * Bytes per millisecond over the last `windowMs`, from samples of the bytes sent so far (only what
 * this page sent: parts received before a reload do not make the rate look higher). Until `minMs` of
 * samples there is no estimate.
 */
export function createRateMeter({ windowMs = 8000, minMs = 1000 } = {}) {
  let samples = [];
  return {
    add(t, bytes) {
      samples.push([t, bytes]);
      // Keep one sample older than the window, so the window is covered in full.
      while (samples.length > 2 && samples[1][0] <= t - windowMs) samples.shift();
    },
    /** Bytes per ms, or null while too little is known. */
    rate() {
      if (samples.length < 2) return null;
      const [t0, b0] = samples[0];
      const [t1, b1] = samples[samples.length - 1];
      if (t1 - t0 < minMs) return null;
      return (b1 - b0) / (t1 - t0);
    },
    /** Milliseconds until `remaining` more bytes are sent at the current rate, or null. */
    etaMs(remaining) {
      const r = this.rate();
      if (remaining <= 0) return 0;
      return r && r > 0 ? remaining / r : null;
    },
    reset() {
      samples = [];
    },
  };
}

/**
 * The bytes bar's text: "Sending 24 MB of 40 MB (60 %) · about 3 s left".
 * @param {{ sent: number, total: number, etaMs: number | null, retry?: { partNumber: number, attempt: number, inMs: number } | null }} r
 */
export function sendLabel({ sent, total, etaMs, retry }) {
  const pct = total ? Math.floor((sent / total) * 100) : 0;
  let left =
    etaMs === null || etaMs === undefined ? ' · estimating time left…' : ` · about ${formatDuration(etaMs)} left`;
  if (sent >= total) left = '';
  const head = `Sending ${formatBytes(sent)} of ${formatBytes(total)} (${pct} %)${left}`;
  if (!retry) return head;
  return `${head}. Part ${retry.partNumber} failed; trying again in ${formatDuration(retry.inMs)} (try ${retry.attempt + 1} of ${MAX_TRIES}).`;
}

/** The validation bar's text: "Checking every row: 20 MB of 40 MB read · 120,000 rows so far (120 skipped)". */
export function validateLabel(progress, sizeBytes) {
  const p = progress || {};
  const read = Math.min(p.bytesRead || 0, sizeBytes);
  const skipped = p.validationErrorCount || 0;
  return (
    `Checking every row: ${formatBytes(read)} of ${formatBytes(sizeBytes)} read · ${fmt(p.rowsRead || 0)} rows so far` +
    ` (${fmt(skipped)} skipped)`
  );
}

/** A failed session's `error` (API.md: what the direct upload would have answered) as an ApiError. */
export function sessionError(e) {
  const err = e || {};
  return new ApiError(err.status || 0, { error: err.error, validationErrors: err.validationErrors || [] });
}

/**
 * Every file's end as several.js `summarise` gives it: `accepted` (upload bodies with `index`),
 * `refused` (`{ index, name, path, error }`), in index order, and API.md's message for several files.
 * `outcomes` are `{ index, result }` or `{ index, name, path, error }`.
 */
export function combine(outcomes) {
  const sorted = [...outcomes].sort((a, b) => a.index - b.index);
  const accepted = sorted.filter((o) => o.result).map((o) => ({ ...o.result, index: o.index }));
  const refused = sorted
    .filter((o) => !o.result)
    .map((o) => ({ index: o.index, name: o.name, path: o.path, error: o.error }));
  return {
    accepted,
    refused,
    message: `${sorted.length} files: ${accepted.length} uploaded, ${refused.length} refused.`,
  };
}
