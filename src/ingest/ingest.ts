import type { Readable } from 'node:stream';
import { Peekable, NotUtf8, counted, gunzip, readHead, toUtf8 } from './byte-stages';
import { readCsv } from './csv-reader';
import {
  type EncodingName,
  binaryKind,
  bomOf,
  detectDelimiter,
  formatFromContent,
  formatFromContentType,
  formatFromName,
  isGzip,
} from './detect';
import { readJson } from './json-reader';
import { readNdjson } from './ndjson-reader';
import { validateRecords } from './validate-records';
import type { ItemSchema } from './schema-registry';
import type { SourceRecord } from './source-record';
import { type Format, IngestError, type IngestSink, type IngestSummary, type ParsingInfo } from './types';

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
}

/**
 * A file in, valid items and row errors out: gunzip → byte limit → encoding → format → reader →
 * validator → sink. `open` must give the file's bytes from the start each time it is called
 * (a UTF-8 guess that turns out wrong restarts the read as windows-1252).
 */
export async function ingest(open: () => Readable, options: IngestOptions, sink: IngestSink): Promise<IngestSummary> {
  try {
    return await ingestOnce(open, options, sink, options.encoding);
  } catch (e) {
    if (!(e instanceof NotUtf8)) throw e;
    if (options.encoding === 'utf-8') {
      throw new IngestError('file_parsing_failed', 'The file is not valid UTF-8, but the encoding field says utf-8.');
    }
    await sink.reset();
    return ingestOnce(open, options, sink, 'windows-1252');
  }
}

async function ingestOnce(
  open: () => Readable,
  options: IngestOptions,
  sink: IngestSink,
  forcedEncoding: EncodingName | undefined,
): Promise<IngestSummary> {
  const compressed = isGzip(await readHead(open(), 2), options.fileName);
  const raw = open();
  const bytes = Peekable.of(counted(compressed ? gunzip(raw) : raw, options.maxBytes, compressed));
  try {
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
    const maxRecordBytes = options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
    let records: AsyncGenerator<SourceRecord[]>;
    const errorColumns: string[] = [];
    if (format === 'csv') {
      // lineEnding is filled in by the reader at the first line end, which may lie past the sniffed head.
      Object.assign(parsing, { delimiter: detectDelimiter(head), lineEnding: 'none' });
      records = readCsv(text, {
        delimiter: parsing.delimiter!,
        maxRecordBytes,
        schema: options.schema,
        onHeader: (header) => {
          parsing.header = header;
          errorColumns.push(...header);
        },
        onLineEnding: (lineEnding) => (parsing.lineEnding = lineEnding),
      });
    } else if (format === 'json') {
      records = readJson(text, maxRecordBytes);
    } else {
      records = readNdjson(text, maxRecordBytes);
    }
    const result = await validateRecords(records, options.schema, format === 'csv', sink, errorColumns, noValidRows);
    return { format, parsing, errorColumns, ...result };
  } catch (e) {
    // A gzip file that is both malformed and over the limit once decompressed (a gzip bomb) is
    // answered as too large: read on, counting, to see which it is.
    if (compressed && e instanceof IngestError && e.code !== 'payload_too_large') await drainCounted(bytes);
    throw e;
  } finally {
    await bytes.close();
    raw.destroy();
  }
}

/** Reads the rest of a counted stream; throws the counter's payload_too_large if the limit is crossed. */
async function drainCounted(bytes: Peekable): Promise<void> {
  try {
    for await (const _chunk of bytes) {
      // only counting
    }
  } catch (e) {
    if (e instanceof IngestError && e.code === 'payload_too_large') throw e;
  }
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

function noValidRows(rows: number, errors: number): string {
  return rows === 0 ? 'The file has no data rows' : `The file has no valid rows: all ${errors} row(s) have errors`;
}
