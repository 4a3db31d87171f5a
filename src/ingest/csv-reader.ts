import { type CsvError, Parser } from 'csv-parse';
import { msg } from './messages';
import { formatBytes } from '../common/format';
import type { ItemSchema } from './schema-registry';
import { type LineEnding, LineIndex, NulIndex } from './csv-offsets';
import { nulRecord } from './json-checks';
import type { SourceRecord } from './source-record';
import { IngestError } from './types';
import type { RowError } from '../common/row-error';

const LF = 0x0a;
const CR = 0x0d;

export interface CsvOptions {
  delimiter: string;
  maxRecordBytes: number;
  schema: ItemSchema;
  onHeader(header: string[]): void;
  /** The first record's line ending, told as soon as csv-parse ends that record (`none` when it never ends one). */
  onLineEnding: (lineEnding: LineEnding) => void;
  /**
   * A chunk of whole records from the middle of a file (the ingest pool): where it starts, the
   * file's header and line ending. The chunk must end where a record ends, or the reader throws
   * `NotOnRecordBoundary`.
   */
  chunk?: CsvChunkStart;
  /** Told the last row number (records read, blank ones included) at the end of the input. */
  onEnd?: (row: number) => void;
}

export interface CsvChunkStart {
  /** Rows (records, blank ones included) before the chunk. */
  row: number;
  /** The chunk's first byte's offset in the file's UTF-8 text. */
  offset: number;
  /** Line-break bytes (of the file's line ending) before the chunk. */
  breaksBefore: number;
  /** Known for every chunk but the first (which finds them). */
  lineEnding?: LineEnding;
  header?: string[];
  /** The file's last chunk: it may end without a line break. */
  last: boolean;
}

/** A chunk of the ingest pool did not start and end where csv-parse starts and ends records. */
export class NotOnRecordBoundary extends Error {}

interface Column {
  key: string | null;
}

/** A record whose cells (from `from` on) are all empty: a blank line, or a `,,,` filler row. Skipped silently. */
function isBlank(cells: string[], from = 0): boolean {
  for (let i = from; i < cells.length; i++) if (cells[i] !== '') return false;
  return true;
}

/**
 * csv-parse's record engine. Its stream class is a thin Transform around a synchronous engine
 * (`api.parse`, what its own `_transform` and `_flush` call, and what `csv-parse/sync` uses on a
 * whole buffer). Driving the engine directly parses a chunk in one call, with none of the stream
 * machinery per record, and without `info: true`, which copies the whole info object for every
 * record: the one figure we need, where a record ends, is read from the live `parser.info` as each
 * record is pushed. csv-parse is pinned to an exact version in package.json; the unit tests fail
 * if an upgrade moves this.
 */
interface CsvEngine {
  parse(
    chunk: Buffer | undefined,
    end: boolean,
    push: (record: string[]) => void,
    close: () => void,
  ): CsvError | Error | undefined;
}

function engineOf(parser: Parser): CsvEngine {
  const api = (parser as unknown as { api?: CsvEngine }).api;
  if (!api || typeof api.parse !== 'function') throw new Error('csv-parse: the parser has no record engine (api)');
  return api;
}

/** The parser is fed at most this much at a time, so that a batch of rows is short-lived. */
const SLICE_BYTES = 64 * 1024;

/**
 * CSV (RFC 4180) through csv-parse. Row numbers are spreadsheet rows: the header is row 1, and every
 * record after it (blank lines included, a quoted multi-line record once) is the next row.
 * Yields the rows in batches (one per slice of input): ingest validates a batch in one synchronous
 * loop, rather than paying for a promise per row.
 */
export async function* readCsv(src: AsyncIterable<Buffer>, opts: CsvOptions): AsyncGenerator<SourceRecord[]> {
  const chunkStart = opts.chunk;
  const resumed = chunkStart?.header !== undefined && chunkStart.lineEnding !== undefined;
  let ending = resumed ? chunkStart.lineEnding : undefined;
  const lines = new LineIndex((l) => {
    ending = l;
    opts.onLineEnding(l);
  });
  const nuls = new NulIndex();
  const base = chunkStart?.offset ?? 0;
  if (resumed) {
    lines.resume(chunkStart.lineEnding!, base, chunkStart.breaksBefore);
    nuls.resume(base);
  }
  const parser = new Parser({
    delimiter: opts.delimiter,
    record_delimiter: ['\r\n', '\n', '\r'],
    bom: false,
    relax_column_count: true,
    relax_quotes: true,
    skip_empty_lines: false,
    max_record_size: opts.maxRecordBytes,
  });
  const engine = engineOf(parser);
  let parsed: string[][] = [];
  let ends: number[] = [];
  let first = !resumed;
  const push = (record: string[]) => {
    parsed.push(record);
    ends.push(base + parser.info.bytes);
    if (first) {
      first = false;
      lines.firstRecordEnd(parser.info.bytes);
    }
  };
  const close = () => undefined;

  let columns: Column[] | undefined = resumed
    ? header(chunkStart.header!, 0, 0, { ...opts, onHeader: () => undefined })
    : undefined;
  // A header error waits for the next piece of input to parse: when a CSV error follows close
  // behind the header, that error is the one reported (as when records were read from a stream
  // buffered ahead of the reader).
  let headerError: IngestError | undefined;
  let row = chunkStart?.row ?? 0;
  let recordStart = base;
  let fed = base;
  let lastByte = -1;

  /**
   * A record's bytes without its line break, quotes and delimiters counted: what API.md's "a CSV
   * record over 1 MiB" measures. (csv-parse's max_record_size, kept as the guard while a record is
   * read, counts only cell text, and lets one byte more through.)
   */
  const recordBytes = (start: number, end: number): number => {
    const endsOnBreak = end !== fed || lastByte === LF || lastByte === CR;
    return end - start - (endsOnBreak ? (ending === 'crlf' ? 2 : 1) : 0);
  };

  const parse = (chunk: Buffer | undefined): void => {
    if (chunk) {
      if (chunk.length) lastByte = chunk[chunk.length - 1];
      fed += chunk.length;
      lines.note(chunk);
      nuls.note(chunk);
    } else if (!chunkStart || chunkStart.last) lines.end();
    const err = engine.parse(chunk, chunk === undefined, push, close);
    // A chunk of the pool ends on a line break that csv-parse takes as a record's end only at the
    // end of its input: the first record's line ending is read after that.
    if (!chunk && chunkStart && !chunkStart.last) lines.end();
    if (err) throw chunkStart ? new NotOnRecordBoundary(err.message) : csvFailure(err, row, recordStart, lines, opts);
    if (headerError) throw headerError;
  };

  /** The records of the last parse, as rows (the header is taken in passing). */
  const take = (): SourceRecord[] => {
    const batch: SourceRecord[] = [];
    for (let i = 0; i < parsed.length && !headerError; i++) {
      const record = parsed[i];
      row++;
      const line = lines.lineAt(recordStart);
      const start = recordStart;
      recordStart = ends[i];
      if (recordStart - start > opts.maxRecordBytes && recordBytes(start, recordStart) > opts.maxRecordBytes) {
        // In a chunk of the pool, the in-thread read of the file says so.
        if (chunkStart) throw new NotOnRecordBoundary('a record over the size limit');
        throw recordTooLarge(row, line, opts);
      }
      if (!columns) {
        if (isBlank(record)) continue; // blank lines before the header still count as spreadsheet rows
        try {
          columns = header(record, row, line, opts);
        } catch (e) {
          if (!(e instanceof IngestError)) throw e;
          headerError = e;
        }
        continue;
      }
      if (isBlank(record)) continue;
      if (nuls.within(start, recordStart)) {
        batch.push(nulRecord(row, line, record));
        continue;
      }
      if (record.length > columns.length && !isBlank(record, columns.length)) {
        batch.push({
          row,
          line,
          error: { code: 'parse', error: msg.rowTooManyCells(record.length, columns.length) },
          raw: record,
        });
        continue;
      }
      const value: Record<string, string> = {};
      for (let c = 0; c < columns.length; c++) {
        const key = columns[c].key;
        const cell = record[c];
        if (key === null || cell === undefined || cell === '') continue;
        // Assigning `__proto__` would set the prototype (and drop a string): that header is kept as an own property.
        if (key === '__proto__')
          Object.defineProperty(value, key, { value: cell, enumerable: true, writable: true, configurable: true });
        else value[key] = cell;
      }
      batch.push({ row, line, value, raw: record });
    }
    parsed = [];
    ends = [];
    return batch;
  };

  for await (const chunk of src) {
    for (let at = 0; at < chunk.length; at += SLICE_BYTES) {
      parse(chunk.length <= SLICE_BYTES ? chunk : chunk.subarray(at, at + SLICE_BYTES));
      const batch = take();
      if (batch.length) yield batch;
    }
  }
  parse(undefined);
  const batch = take();
  if (headerError) throw headerError;
  if (batch.length) yield batch;
  if (!columns) {
    throw new IngestError('file_parsing_failed', 'The file is empty: a CSV file needs a header row');
  }
  if (chunkStart && !chunkStart.last && recordStart !== fed)
    throw new NotOnRecordBoundary('the chunk ends inside a record');
  opts.onEnd?.(row);
}

/** csv-parse's error as the file's failure, at the row and line where the failing record starts. */
function csvFailure(e: Error, row: number, recordStart: number, lines: LineIndex, opts: CsvOptions): Error {
  const err = e as CsvError;
  if (typeof err.code !== 'string' || !err.code.startsWith('CSV_')) return e;
  // csv-parse's own counts say where the failing record starts (records parsed before it may not
  // have been taken yet).
  const failedRow = (typeof err.records === 'number' ? err.records : row) + 1;
  const line = lines.lineAt(typeof err.bytes === 'number' ? err.bytes : recordStart);
  const rowError = (error: string): RowError => ({ row: failedRow, line, code: 'parse', error });
  if (err.code === 'CSV_QUOTE_NOT_CLOSED') {
    const text = `Unclosed quote in row ${failedRow} (line ${line})`;
    return new IngestError('file_parsing_failed', `The file cannot be read as CSV: ${text}`, [rowError(text)]);
  }
  if (err.code === 'CSV_MAX_RECORD_SIZE') return recordTooLarge(failedRow, line, opts);
  return new IngestError('file_parsing_failed', `The file cannot be read as CSV: ${err.message}`, [
    rowError(err.message),
  ]);
}

function recordTooLarge(row: number, line: number, opts: CsvOptions): IngestError {
  const text = `Row ${row} exceeds the maximum row size of ${formatBytes(opts.maxRecordBytes)}`;
  return new IngestError('file_parsing_failed', `The file cannot be read as CSV: ${text}`, [
    { row, line, code: 'parse', error: text },
  ]);
}

function header(record: string[], row: number, line: number, opts: CsvOptions): Column[] {
  opts.onHeader(record);
  const seen = new Map<string, string>();
  const columns: Column[] = record.map((cell) => {
    const name = cell.trim();
    if (name === '') return { key: null };
    const prop = opts.schema.propertiesByLowerName.get(name.toLowerCase());
    const key = prop ? prop.name : name;
    const lower = key.toLowerCase();
    if (seen.has(lower)) {
      const error = msg.duplicateColumn(name);
      throw new IngestError('file_parsing_failed', error, [{ row, line, field: key, code: 'duplicate', error }]);
    }
    seen.set(lower, key);
    return { key };
  });
  const missing = opts.schema.required.filter((r) => !seen.has(r.toLowerCase()));
  if (missing.length) {
    const errors = missing.map((field) => ({ row, line, field, code: 'required', error: msg.missingColumn(field) }));
    throw new IngestError('file_parsing_failed', errors.map((e) => e.error).join('; '), errors);
  }
  return columns;
}
