import type { Readable } from 'node:stream';
import { Peekable, counted, gunzip, readHead, toUtf8 } from './byte-stages';
import {
  type EncodingName,
  binaryKind,
  bomOf,
  formatFromContent,
  formatFromContentType,
  formatFromName,
  isGzip,
} from './detect';
import type { ItemSchema } from './schema-registry';
import { type Format, IngestError, type ParsingInfo } from './types';
import type { IngestPool } from './pool';

export const DEFAULT_MAX_RECORD_BYTES = 1024 * 1024;
const SNIFF_BYTES = 64 * 1024;

export interface IngestOptions {
  schema: ItemSchema;
  /** Explicit `format` form field: wins over every other clue. */
  format?: Format;
  fileName?: string;
  contentType?: string;
  /** Explicit `encoding` form field; otherwise BOM, then UTF-8 if valid, else windows-1252. */
  encoding?: EncodingName;
  /** The plan's byte limit, applied to the decompressed bytes of a gzip file. */
  maxBytes: number;
  maxRecordBytes?: number;
  /**
   * The pool that reads a large file on every core: by default the one installed with
   * setDefaultIngestPool (none: in-thread); null reads in-thread whatever the size.
   */
  pool?: IngestPool | null;
  /** Files with fewer UTF-8 bytes than this are read in-thread (default PARALLEL_MIN_BYTES). */
  parallelMinBytes?: number;
  /** The pool's chunk size (default CHUNK_BYTES, about 1 MB); specs cut tiny chunks to put records across boundaries. */
  chunkBytes?: number;
}

/** A file opened up to its text: the stages that read it, and what its first bytes said. */
export interface OpenedText {
  compressed: boolean;
  bytes: Peekable;
  raw: Readable;
  text: Peekable;
  head: Buffer;
  encoding: EncodingName;
  bom: boolean;
  format: Format;
  parsing: ParsingInfo;
}

/**
 * gunzip → byte limit → encoding → the first 64 KB of text → format. The caller closes `bytes`
 * and destroys `raw` when done (closeText).
 */
export async function openText(
  open: () => Readable,
  options: IngestOptions,
  forcedEncoding: EncodingName | undefined,
  opened: (o: Pick<OpenedText, 'compressed' | 'bytes' | 'raw'>) => void,
): Promise<OpenedText> {
  const compressed = isGzip(await readHead(open(), 2), options.fileName);
  const raw = open();
  const bytes = Peekable.of(counted(compressed ? gunzip(raw) : raw, options.maxBytes, compressed));
  opened({ compressed, bytes, raw });
  const rawHead = await bytes.peek(4);
  if (rawHead.length === 0) throw new IngestError('file_parsing_failed', 'The file is empty');
  const bom = bomOf(rawHead);
  const encoding: EncodingName = forcedEncoding ?? bom?.encoding ?? 'utf-8';
  if (bom && bom.encoding === 'utf-8' && encoding === 'utf-8') bytes.skip(bom.length);
  // API.md: a file is refused as binary only from its first bytes, and only without a `format`
  // field; with one, a record holding a NUL byte is a row error (the readers see to it).
  const sniffBinary = !options.format;
  const magic = sniffBinary ? binaryKind((await bytes.peek(8)).subarray(0, 8)) : undefined;
  if (magic && magic !== 'binary data') throw unsupported(`The file is ${magic}`);

  const text = Peekable.of(toUtf8(bytes, encoding));
  const head = await text.peek(SNIFF_BYTES);
  if (head.length === 0) throw new IngestError('file_parsing_failed', 'The file is empty');
  const binary = sniffBinary ? binaryKind(head) : undefined;
  if (binary) throw unsupported(`The file is ${binary}`);

  const format = chooseFormat(options, head);
  const parsing: ParsingInfo = { encoding, bom: !!bom, compressed };
  return { compressed, bytes, raw, text, head, encoding, bom: !!bom, format, parsing };
}

function unsupported(why: string): IngestError {
  return new IngestError('unsupported_format', `${why}, not CSV, JSON or NDJSON`);
}

function chooseFormat(options: IngestOptions, head: Buffer): Format {
  if (options.format) return options.format;
  const byName = formatFromName(options.fileName);
  if (byName && 'foreign' in byName) throw unsupported(`A ${byName.foreign} file is not supported`);
  if (byName) return byName.format;
  return formatFromContentType(options.contentType) ?? formatFromContent(head);
}

export function noValidRows(rows: number, errors: number): string {
  return rows === 0 ? 'The file has no data rows' : `The file has no valid rows: all ${errors} row(s) have errors`;
}
