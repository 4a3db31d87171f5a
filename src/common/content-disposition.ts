/**
 * Content-Disposition for downloads named after a client's file name (RFC 6266): `filename=` an
 * ASCII fallback, then `filename*=UTF-8''…` (RFC 8187) with the real name, both capped. An upload's
 * name is whatever the client sent, up to busboy's header limit: a 16 KB name made the header longer
 * than clients accept (16 KB is common), and the download failed.
 */

/** Characters kept of a name (and of an upload's name before a suffix): the header stays under 2 KB. */
export const MAX_NAME_CHARS = 150;
export const MAX_STEM_CHARS = 100;

const UPLOAD_EXTENSION = /\.(csv|json|ndjson|jsonl|tsv)(\.gz)?$/i;
// Controls (C0, DEL, C1), path separators, quotes, and bidirectional overrides that disguise an extension.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f/\\"\u202a-\u202e\u2066-\u2069]/g;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
// RFC 8187 attr-char: ALPHA / DIGIT / "!" / "#" / "$" / "&" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~"
const NOT_ATTR_CHAR = /[^A-Za-z0-9!#$&+\-.^_`|~]/g;

function cleanName(name: string, maxChars: number): string {
  const cleaned = name.replace(LONE_SURROGATE, '\ufffd').normalize('NFC').replace(UNSAFE, '_').trim();
  // By code point, so a character outside the BMP is never cut in half.
  return Array.from(cleaned).slice(0, maxChars).join('').trim();
}

/** UTF-8, percent-encoded except attr-chars (encodeURIComponent leaves ' ( ) * as they are). */
function percentEncode(value: string): string {
  return encodeURIComponent(value).replace(NOT_ATTR_CHAR, (c) =>
    c === '%' ? c : `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** `attachment` with `fileName` (any characters, any length) made safe for the header. */
export function attachmentDisposition(fileName: string, fallback = 'download'): string {
  const name = cleanName(fileName, MAX_NAME_CHARS) || fallback;
  const ascii = name.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+/, '') || fallback;
  return `attachment; filename="${ascii}"; filename*=UTF-8''${percentEncode(name)}`;
}

/** The rejected-rows CSV of an upload: `claims.csv` → `claims-rejected-rows.csv`. */
export function rejectedRowsDisposition(originalFileName: string): string {
  const stem = cleanName(originalFileName.replace(UPLOAD_EXTENSION, ''), MAX_STEM_CHARS) || 'upload';
  return attachmentDisposition(`${stem}-rejected-rows.csv`, 'upload-rejected-rows.csv');
}
