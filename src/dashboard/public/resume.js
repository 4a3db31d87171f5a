/*
 * Resuming an upload session after the page was reloaded or closed (issue 13). A browser cannot keep
 * a file handle across a reload, so the page keeps only what names the file and its session
 * ({ uploadId, name, path, size, lastModified, expiresAt }) in localStorage, and asks the user to pick
 * the same file again; batchgate itself says which parts arrived (GET /v1/uploads/{id}). No API key
 * is kept there. Pure: the storage is passed in (localStorage in the page), so resume.spec.ts runs it under Node.
 */
import { fmt, formatBytes } from './format.js';
import { filePath } from './several.js';

export const PENDING_KEY = 'batchgate.pendingUploads';

function isRecord(r) {
  return (
    r &&
    typeof r.uploadId === 'string' &&
    typeof r.name === 'string' &&
    typeof r.size === 'number' &&
    (r.lastModified === null || typeof r.lastModified === 'number')
  );
}

function readAll(storage) {
  let list;
  try {
    list = JSON.parse(storage.getItem(PENDING_KEY) || '[]');
  } catch {
    return [];
  }
  return Array.isArray(list) ? list.filter(isRecord) : [];
}

function writeAll(storage, list) {
  try {
    if (list.length) storage.setItem(PENDING_KEY, JSON.stringify(list));
    else storage.removeItem(PENDING_KEY);
  } catch {
    // Storage full or refused (a private window): the upload goes on, it just cannot be resumed after a reload.
  }
}

/** What is kept of a file whose session was just created. */
export function recordOf(file, created) {
  const path = filePath(file);
  return {
    uploadId: created.uploadId,
    name: file.name,
    path: path === file.name ? null : path,
    size: file.size,
    lastModified: typeof file.lastModified === 'number' ? file.lastModified : null,
    expiresAt: created.expiresAt || null,
  };
}

/** The sessions that may still be resumed (those past their `expiresAt` are dropped). */
export function readPending(storage, now = Date.now()) {
  const all = readAll(storage);
  const live = all.filter((r) => !r.expiresAt || !(Date.parse(r.expiresAt) <= now));
  if (live.length !== all.length) writeAll(storage, live);
  return live;
}

export function addPending(storage, record) {
  writeAll(storage, [...readAll(storage).filter((r) => r.uploadId !== record.uploadId), record]);
}

export function removePending(storage, uploadId) {
  writeAll(
    storage,
    readAll(storage).filter((r) => r.uploadId !== uploadId),
  );
}

/**
 * Whether `file` is the one `record` was made for: same name and size, and the same modification
 * time when both are known (a file edited since would mix old parts with new bytes).
 */
export function sameFile(record, file) {
  if (record.name !== file.name || record.size !== file.size) return false;
  const known = typeof record.lastModified === 'number' && typeof file.lastModified === 'number';
  return !known || record.lastModified === file.lastModified;
}

/** Each record with the picked file that matches it; records left without one, and files that match none. */
export function matchFiles(records, files) {
  const left = [...files];
  const pairs = [];
  const unmatched = [];
  for (const record of records) {
    const i = left.findIndex((f) => sameFile(record, f));
    if (i < 0) unmatched.push(record);
    else pairs.push({ record, file: left.splice(i, 1)[0] });
  }
  return { pairs, unmatched, strangers: left };
}

const label = (r) => r.path || r.name;

/** The resume offer's words: "Resume upload of claims.csv (40 MB)" or "Resume upload of 2 files (…): a.csv, b.csv". */
export function resumeOffer(records) {
  const size = formatBytes(records.reduce((n, r) => n + r.size, 0));
  if (records.length === 1) return `Resume upload of ${label(records[0])} (${size})`;
  return `Resume upload of ${fmt(records.length)} files (${size}): ${records.map(label).join(', ')}`;
}

/** The offer's sentence: "The upload of claims.csv (40 MB) was interrupted. To resume it, …". */
export function interruptedText(records) {
  const which = records.map((r) => `${label(r)} (${formatBytes(r.size)})`).join(', ');
  const one = records.length === 1;
  return (
    `The upload of ${which} was interrupted. To resume ${one ? 'it' : 'them'}, choose the same ` +
    `${one ? 'file' : 'files'} again: only the parts batchgate has not received are sent.`
  );
}

/** Said when the files picked to resume are not the ones that were being sent. */
export function mismatchText(unmatched) {
  const which = unmatched.map((r) => `${label(r)} (${formatBytes(r.size)})`).join(', ');
  return (
    `That is not the file that was being uploaded. Choose ${which} again: the same name, size and ` +
    'last-modified time, or discard the interrupted upload.'
  );
}
