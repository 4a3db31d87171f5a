import { extname } from 'node:path';
import type { Format } from './types';

export const GZIP_MAGIC = [0x1f, 0x8b];

export function isGzip(head: Buffer, fileName?: string): boolean {
  return (
    (head.length >= 2 && head[0] === GZIP_MAGIC[0] && head[1] === GZIP_MAGIC[1]) ||
    (fileName ?? '').toLowerCase().endsWith('.gz')
  );
}

// Names a client sends (file name, content type, `encoding` field) are looked up in Maps, never in
// object literals: `constructor` or `__proto__` would find Object.prototype's members there.
const EXTENSIONS = new Map<string, Format>([
  ['.csv', 'csv'],
  ['.tsv', 'csv'],
  ['.json', 'json'],
  ['.ndjson', 'ndjson'],
  ['.jsonl', 'ndjson'],
]);
/** Extensions that say "this is some other kind of file" outright. */
const FOREIGN_EXTENSIONS = new Set([
  '.xlsx',
  '.xls',
  '.xlsm',
  '.ods',
  '.numbers',
  '.pdf',
  '.doc',
  '.docx',
  '.zip',
  '.7z',
  '.rar',
  '.tar',
  '.bz2',
  '.xz',
  '.png',
  '.jpg',
  '.jpeg',
  '.gif',
  '.webp',
  '.exe',
  '.bin',
  '.parquet',
  '.avro',
  '.xml',
  '.html',
]);
const CONTENT_TYPES = new Map<string, Format>([
  ['text/csv', 'csv'],
  ['application/csv', 'csv'],
  ['text/tab-separated-values', 'csv'],
  ['application/json', 'json'],
  ['text/json', 'json'],
  ['application/x-ndjson', 'ndjson'],
  ['application/ndjson', 'ndjson'],
  ['application/jsonl', 'ndjson'],
  ['application/x-jsonlines', 'ndjson'],
  ['application/jsonlines', 'ndjson'],
]);

/** The file name without a trailing `.gz`. */
export function innerName(fileName?: string): string {
  const name = fileName ?? '';
  return name.toLowerCase().endsWith('.gz') ? name.slice(0, -3) : name;
}

export type FormatHint = { format: Format } | { foreign: string } | undefined;

/** API.md's detection order, after the explicit `format` field: file name, then content type. */
export function formatFromName(fileName?: string): FormatHint {
  const ext = extname(innerName(fileName)).toLowerCase();
  const format = EXTENSIONS.get(ext);
  if (format) return { format };
  if (FOREIGN_EXTENSIONS.has(ext)) return { foreign: ext };
  return undefined;
}

export function formatFromContentType(contentType?: string): Format | undefined {
  const base = (contentType ?? '').split(';')[0].trim().toLowerCase();
  return CONTENT_TYPES.get(base);
}

const MAGIC: [number[], string][] = [
  [[0x50, 0x4b, 0x03, 0x04], 'a ZIP archive (or an Excel workbook)'],
  [[0x25, 0x50, 0x44, 0x46], 'a PDF document'],
  [[0x89, 0x50, 0x4e, 0x47], 'a PNG image'],
  [[0xff, 0xd8, 0xff], 'a JPEG image'],
  [[0xd0, 0xcf, 0x11, 0xe0], 'an old Office document'],
  [[0x47, 0x49, 0x46, 0x38], 'a GIF image'],
  [[0x7f, 0x45, 0x4c, 0x46], 'an executable'],
];

/** What a binary file looks like, or undefined when the head reads as text. Call after decoding. */
export function binaryKind(head: Buffer): string | undefined {
  for (const [magic, kind] of MAGIC) {
    if (head.length >= magic.length && magic.every((b, i) => head[i] === b)) return kind;
  }
  const sample = head.subarray(0, 8192);
  let control = 0;
  for (const b of sample) {
    if (b === 0) return 'binary data';
    if (b < 0x09 || (b > 0x0d && b < 0x20)) control++;
  }
  return sample.length > 0 && control / sample.length > 0.1 ? 'binary data' : undefined;
}

/** Content sniffing, the last step of detection. `head` is UTF-8 text without a BOM. */
export function formatFromContent(head: Buffer): Format {
  const text = head.toString('utf8');
  const start = text.trimStart();
  if (start.startsWith('[')) return 'json';
  if (start.startsWith('{')) {
    // One object per line is NDJSON; a document that spans lines (or has `items`) is JSON.
    const firstLine = start.split('\n', 1)[0].trim();
    try {
      const parsed: unknown = JSON.parse(firstLine);
      if (parsed && typeof parsed === 'object' && !Array.isArray((parsed as { items?: unknown }).items)) {
        return 'ndjson';
      }
    } catch {
      return 'json';
    }
    return 'json';
  }
  return 'csv';
}

export type EncodingName = 'utf-8' | 'utf-16le' | 'utf-16be' | 'windows-1252';

const ENCODING_ALIASES = new Map<string, EncodingName>([
  ['utf-8', 'utf-8'],
  ['utf8', 'utf-8'],
  ['utf-16le', 'utf-16le'],
  ['utf16le', 'utf-16le'],
  ['utf-16', 'utf-16le'],
  ['utf-16be', 'utf-16be'],
  ['utf16be', 'utf-16be'],
  ['windows-1252', 'windows-1252'],
  ['cp1252', 'windows-1252'],
  ['latin1', 'windows-1252'],
  ['iso-8859-1', 'windows-1252'],
  ['iso8859-1', 'windows-1252'],
]);

export function normalizeEncoding(name: string): EncodingName | undefined {
  return ENCODING_ALIASES.get(name.trim().toLowerCase());
}

export function bomOf(head: Buffer): { encoding: EncodingName; length: number } | undefined {
  if (head.length >= 3 && head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf)
    return { encoding: 'utf-8', length: 3 };
  if (head.length >= 2 && head[0] === 0xff && head[1] === 0xfe) return { encoding: 'utf-16le', length: 2 };
  if (head.length >= 2 && head[0] === 0xfe && head[1] === 0xff) return { encoding: 'utf-16be', length: 2 };
  return undefined;
}

const DELIMITERS = [',', ';', '\t', '|'];

/** The delimiter that occurs most often in the header line, outside quotes (`,` on a tie or none). */
export function detectDelimiter(head: Buffer): string {
  const counts = new Map<string, number>(DELIMITERS.map((d) => [d, 0]));
  let quoted = false;
  for (let i = 0; i < head.length; i++) {
    const c = head[i];
    if (c === 0x22) quoted = !quoted;
    else if (!quoted && (c === 0x0a || c === 0x0d)) break;
    else if (!quoted) {
      const ch = String.fromCharCode(c);
      if (counts.has(ch)) counts.set(ch, (counts.get(ch) ?? 0) + 1);
    }
  }
  let best = ',';
  for (const d of DELIMITERS) if ((counts.get(d) ?? 0) > (counts.get(best) ?? 0)) best = d;
  return best;
}
