import { parse, type CsvError, type Info } from 'csv-parse';
import { Readable } from 'node:stream';
import { formatBytes, msg } from './messages';
import type { ItemSchema } from './schema-registry';
import type { SourceRecord } from './source-record';
import { IngestError, type RowError } from './types';

export interface CsvOptions {
  delimiter: string;
  /** The byte that ends a physical line: LF for LF and CRLF files, CR for old Mac files. */
  lineBreak: number;
  maxRecordBytes: number;
  schema: ItemSchema;
  onHeader(header: string[]): void;
}

/**
 * Physical line numbers from byte offsets. csv-parse's own `info.lines` drifts after quoted CRLFs,
 * but `info.bytes` (the offset where a record ends) is exact: we note where line breaks are as bytes
 * go in, and a record that starts at byte S starts on line 1 + (breaks before S).
 */
class LineIndex {
  private offsets: number[] = [];
  private head = 0;
  private fed = 0;
  private breaksBefore = 0;

  constructor(private readonly lineBreak: number) {}

  note(chunk: Buffer): void {
    let i = chunk.indexOf(this.lineBreak);
    while (i !== -1) {
      this.offsets.push(this.fed + i);
      i = chunk.indexOf(this.lineBreak, i + 1);
    }
    this.fed += chunk.length;
  }

  lineAt(offset: number): number {
    while (this.head < this.offsets.length && this.offsets[this.head] < offset) {
      this.head++;
      this.breaksBefore++;
    }
    if (this.head > 4096) {
      this.offsets = this.offsets.slice(this.head);
      this.head = 0;
    }
    return this.breaksBefore + 1;
  }
}

interface Column {
  key: string | null;
}

/** A record whose cells are all empty: a blank line, or a spreadsheet's `,,,` filler row. Skipped silently. */
function isBlank(cells: string[]): boolean {
  for (const c of cells) if (c !== '') return false;
  return true;
}

/**
 * CSV (RFC 4180) through csv-parse. Row numbers are spreadsheet rows: the header is row 1, and every
 * record after it (blank lines included, a quoted multi-line record once) is the next row.
 */
export async function* readCsv(src: AsyncIterable<Buffer>, opts: CsvOptions): AsyncGenerator<SourceRecord> {
  const lines = new LineIndex(opts.lineBreak);
  async function* noted(): AsyncGenerator<Buffer> {
    for await (const chunk of src) {
      lines.note(chunk);
      yield chunk;
    }
  }
  const parser = parse({
    delimiter: opts.delimiter,
    record_delimiter: ['\r\n', '\n', '\r'],
    bom: false,
    info: true,
    relax_column_count: true,
    relax_quotes: true,
    skip_empty_lines: false,
    max_record_size: opts.maxRecordBytes,
  });
  const input = Readable.from(noted());
  input.on('error', (e) => parser.destroy(e));
  input.pipe(parser);

  let columns: Column[] | undefined;
  let row = 0;
  let recordStart = 0;
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: Info }>) {
      row++;
      const line = lines.lineAt(recordStart);
      recordStart = info.bytes;
      if (!columns) {
        if (isBlank(record)) continue; // blank lines before the header still count as spreadsheet rows
        columns = header(record, row, line, opts);
        continue;
      }
      if (isBlank(record)) continue;
      if (record.length > columns.length && !isBlank(record.slice(columns.length))) {
        yield {
          row,
          line,
          error: { code: 'parse', error: msg.rowTooManyCells(record.length, columns.length) },
          raw: record,
        };
        continue;
      }
      const value: Record<string, string> = {};
      for (let i = 0; i < columns.length; i++) {
        const key = columns[i].key;
        const cell = record[i];
        if (key !== null && cell !== undefined && cell !== '') value[key] = cell;
      }
      yield { row, line, value, raw: record };
    }
  } catch (e) {
    if (e instanceof IngestError) throw e;
    const err = e as CsvError;
    if (typeof err.code !== 'string' || !err.code.startsWith('CSV_')) throw e;
    // Records parsed before the error may still sit unread in the stream: csv-parse's own counts
    // say where the failing record starts.
    const failedRow = (typeof err.records === 'number' ? err.records : row) + 1;
    const line = lines.lineAt(typeof err.bytes === 'number' ? err.bytes : recordStart);
    const rowError = (error: string): RowError => ({ row: failedRow, line, code: 'parse', error });
    if (err.code === 'CSV_QUOTE_NOT_CLOSED') {
      const text = `Unclosed quote in row ${failedRow} (line ${line})`;
      throw new IngestError('file_parsing_failed', `The file cannot be read as CSV: ${text}`, [rowError(text)]);
    }
    if (err.code === 'CSV_MAX_RECORD_SIZE') {
      const text = `Row ${failedRow} exceeds the maximum row size of ${formatBytes(opts.maxRecordBytes)}`;
      throw new IngestError('file_parsing_failed', `The file cannot be read as CSV: ${text}`, [rowError(text)]);
    }
    throw new IngestError('file_parsing_failed', `The file cannot be read as CSV: ${err.message}`, [
      rowError(err.message),
    ]);
  } finally {
    input.destroy();
    parser.destroy();
  }
  if (!columns) {
    throw new IngestError('file_parsing_failed', 'The file is empty: a CSV file needs a header row');
  }
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
