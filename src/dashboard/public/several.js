/*
 * Several files at once (issue 12, API.md "Several files" and "duplicateOf"): the upload form with
 * each file's relative path as its filename, the answer (one file or several) as accepted and
 * refused cards, the duplicate note, a dropped folder's files, and the first results lines. Pure:
 * no DOM, no fetch (FormData and File exist under Node too), so several.spec.ts runs it under Node.
 */
import { ApiError } from './api.js';
import { fmt } from './format.js';

/** The name a file is sent under: its path inside a chosen or dropped folder, else its own name. */
export function filePath(file) {
  return file.relativePath || file.webkitRelativePath || file.name;
}

/** POST /v1/batch/upload's form: schema and format (when not the defaults), then one `file` part per file. */
export function uploadForm(files, { schema, format } = {}) {
  const form = new FormData();
  const s = (schema || '').trim();
  if (s && s !== 'default') form.append('schema', s);
  if (format) form.append('format', format);
  for (const f of files) form.append('file', f, filePath(f));
  return form;
}

/** A refused file of a several-files answer (`errors[i]`) as an ApiError, for sentenceFor. */
export function refusalError(r) {
  return new ApiError(r.status, { error: r.error, validationErrors: r.validationErrors || [] });
}

/**
 * The answer to an upload of several files as cards: `accepted` (the single-file bodies, with `path`)
 * and `refused` (`{ index, name, path, error }`, error an ApiError), in index order. Also takes the
 * single-file body, and the error body of a request whose every file was refused (`details.files`).
 */
export function summarise(status, body) {
  const b = body || {};
  if (status === 200 && b.fileId) return { accepted: [b], refused: [], message: b.message || '' };
  if (status === 200 && Array.isArray(b.files)) {
    return {
      accepted: b.files,
      refused: (b.errors || []).map((r) => ({
        index: r.index,
        name: r.originalFileName,
        path: r.path,
        error: refusalError(r),
      })),
      message: b.message || '',
    };
  }
  const files = b.error && b.error.details && b.error.details.files;
  if (Array.isArray(files)) {
    return {
      accepted: [],
      refused: files.map((r) => ({ index: r.index, name: r.originalFileName, path: r.path, error: refusalError(r) })),
      message: b.error.message || '',
    };
  }
  return null;
}

/** The note on a file whose bytes batchgate has seen before (`duplicateOf`), or null. */
export function duplicateNote(dup) {
  if (!dup || !dup.fileId) return null;
  if (dup.status === 'consumed') {
    return `Same bytes as an earlier upload (${dup.fileId}), already in batch ${dup.batchId || '(unknown)'}.`;
  }
  return `Same bytes as an earlier upload (${dup.fileId}), not used in a batch yet.`;
}

/** A card's one-line counts: "370 items accepted, 130 rows skipped". */
export function cardCounts(u) {
  const skipped = u.validationErrorCount || 0;
  return `${fmt(u.itemCount)} ${u.itemCount === 1 ? 'item' : 'items'} accepted, ${fmt(skipped)} ${skipped === 1 ? 'row' : 'rows'} skipped`;
}

/** The first row errors of a card, compactly: "Row 5, column content: Content is empty, row skipped". */
export function cardWarnings(u, max = 3) {
  return (u.validationErrors || [])
    .slice(0, max)
    .map((v) => `Row ${v.row}${v.field ? `, column ${v.field}` : ''}: ${v.error}`);
}

/** What the status region says once several files were checked. */
export function severalAnnouncement(s) {
  const items = s.accepted.reduce((n, u) => n + (u.itemCount || 0), 0);
  return (
    `${s.accepted.length + s.refused.length} files checked: ${s.accepted.length} accepted ` +
    `(${fmt(items)} items), ${s.refused.length} refused.`
  );
}

/** What names a results line's file: its path, else the name `names` (fileId → name) gives, else its fileId. */
function fileOf(r, names) {
  return r.path || (names && r.fileId && names[r.fileId]) || r.fileId;
}

/** fileId → the name a card shows (path, else original name), for the accepted files of `summarise`. */
export function fileNames(accepted) {
  const names = {};
  for (const u of accepted) names[u.fileId] = u.path || u.originalFileName || u.fileId;
  return names;
}

/** The first lines of an NDJSON results file, as "jan/a.csv row 2: succeeded". */
export function resultsPeek(ndjson, max = 5, names = {}) {
  const out = [];
  for (const line of String(ndjson).split('\n')) {
    if (out.length >= max) break;
    if (!line.trim()) continue;
    let r;
    try {
      r = JSON.parse(line);
    } catch {
      continue;
    }
    const where = fileOf(r, names) || 'item';
    out.push(`${where} row ${r.row}: ${r.status}${r.error ? ` (${r.error})` : ''}`);
  }
  return out;
}

/** Every distinct file of a results file, in first-seen order (path, else fileId). */
export function resultsFiles(ndjson, names = {}) {
  const seen = [];
  for (const line of String(ndjson).split('\n')) {
    if (!line.trim()) continue;
    try {
      const r = JSON.parse(line);
      const f = fileOf(r, names);
      if (f && !seen.includes(f)) seen.push(f);
    } catch {
      // not a line of results
    }
  }
  return seen;
}

/**
 * The files of a drop, folders read through (DataTransferItem.webkitGetAsEntry()), each with
 * `relativePath` set for a file found inside a folder. `entries` are FileSystemEntry-like:
 * `{ isFile, isDirectory, name, fullPath, file(cb, err), createReader() }`.
 */
export async function filesFromEntries(entries) {
  const out = [];
  async function walk(entry) {
    if (!entry) return;
    if (entry.isFile) {
      const file = await new Promise((resolve, reject) => entry.file(resolve, reject));
      const path = (entry.fullPath || entry.name).replace(/^\/+/, '');
      if (path !== file.name) {
        try {
          Object.defineProperty(file, 'relativePath', { value: path });
        } catch {
          // a frozen File: sent under its own name
        }
      }
      out.push(file);
    } else if (entry.isDirectory) {
      const reader = entry.createReader();
      // readEntries answers in chunks until an empty one.
      for (;;) {
        const chunk = await new Promise((resolve, reject) => reader.readEntries(resolve, reject));
        if (!chunk.length) break;
        for (const e of chunk) await walk(e);
      }
    }
  }
  for (const e of entries) await walk(e);
  return out;
}
