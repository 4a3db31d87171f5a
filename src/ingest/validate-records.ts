import type { ErrorSummaryEntry, RowError } from '../common/row-error';
import { ErrorCollector } from './error-collector';
import { msg } from './messages';
import { RowValidator } from './row-validator';
import type { ItemSchema } from './schema-registry';
import type { SourceRecord } from './source-record';
import { IngestError, type IngestSink, type IngestSummary } from './types';

const MAX_ERROR_COLUMNS = 500;

export type ValidationCounts = Pick<
  IngestSummary,
  'itemCount' | 'validationErrorCount' | 'validationErrors' | 'validationErrorsTruncated' | 'errorSummary'
>;

/** Where the row loop counts what it rejects: the error list and summary, and the keys of rejected JSON rows. */
export interface RowTally {
  error(error: RowError): void;
  /** The keys of a rejected JSON row that is an object (the rejected-rows CSV's columns). */
  rawKeys(keys: string[]): void;
}

/** The tally of a whole file: the capped error list, the summary, and at most MAX_ERROR_COLUMNS keys. */
export class FileTally implements RowTally {
  readonly errors = new ErrorCollector();
  readonly jsonColumns = new Set<string>();
  rows = 0;
  itemCount = 0;

  error(error: RowError): void {
    this.errors.add(error);
  }

  rawKeys(keys: string[]): void {
    // The cap is looked at once per row, before its keys: a row may take the set past it.
    if (this.jsonColumns.size >= MAX_ERROR_COLUMNS) return;
    for (const k of keys) this.jsonColumns.add(k);
  }

  /** A part of the file tallied elsewhere (a pool thread), merged in file order. */
  merge(part: PartTally): void {
    this.rows += part.rows;
    this.itemCount += part.itemCount;
    this.errors.merge(part.listed, part.errorTotal, part.summary);
    for (const keys of part.keyRows) this.rawKeys(keys);
  }

  counts(): ValidationCounts {
    return {
      itemCount: this.itemCount,
      validationErrorCount: this.errors.total,
      validationErrors: this.errors.listed,
      validationErrorsTruncated: this.errors.truncated,
      errorSummary: this.errors.errorSummary(),
    };
  }
}

/** What a part of a file (a chunk of whole records) adds to the file's tally; plain data, sent between threads. */
export interface PartTally {
  rows: number;
  itemCount: number;
  errorTotal: number;
  /** The part's first errors (as many as a file lists). */
  listed: RowError[];
  summary: ErrorSummaryEntry[];
  /**
   * The keys of the rejected rows that brought a key the part had not seen: merged in order under
   * the file's cap, they give the same columns as the whole file tallied in one loop (a row whose
   * keys were all seen earlier in its part can change nothing: those keys are in, or the cap was hit).
   */
  keyRows: string[][];
}

/** The tally of one part, kept by a pool thread. */
export class PartTallyKeeper implements RowTally {
  private readonly errors = new ErrorCollector();
  private readonly seen = new Set<string>();
  private readonly keyRows: string[][] = [];

  error(error: RowError): void {
    this.errors.add(error);
  }

  rawKeys(keys: string[]): void {
    let fresh = false;
    for (const k of keys) {
      if (!this.seen.has(k)) {
        this.seen.add(k);
        fresh = true;
      }
    }
    if (fresh) this.keyRows.push(keys);
  }

  result(rows: number, itemCount: number): PartTally {
    return {
      rows,
      itemCount,
      errorTotal: this.errors.total,
      listed: this.errors.listed,
      summary: this.errors.errorSummary(),
      keyRows: this.keyRows,
    };
  }
}

/**
 * The row loop itself, batch by batch: valid rows go to `sink.item`, rejected ones to
 * `sink.rejected` with their raw value, and every rejection to the tally.
 */
export class RowLoop {
  private readonly validator: RowValidator;
  rows = 0;
  itemCount = 0;

  constructor(
    schema: ItemSchema,
    private readonly coerce: boolean,
    private readonly sink: Pick<IngestSink, 'item' | 'rejected'>,
    private readonly tally: RowTally,
  ) {
    this.validator = new RowValidator(schema);
  }

  private reject(rec: SourceRecord, e: { code: string; error: string; field?: string }): void | Promise<void> {
    // Key order is the order API.md shows: row, line, field, code, error.
    const error: RowError = {
      row: rec.row,
      ...(rec.line !== undefined && { line: rec.line }),
      ...(e.field !== undefined && { field: e.field }),
      code: e.code,
      error: e.error,
    };
    this.tally.error(error);
    if (!this.coerce && rec.raw && typeof rec.raw === 'object' && !Array.isArray(rec.raw)) {
      this.tally.rawKeys(Object.keys(rec.raw));
    }
    return this.sink.rejected(error, rec.raw);
  }

  /** One batch in one synchronous loop, waiting only when the sink asks to (backpressure). */
  async run(batch: SourceRecord[]): Promise<void> {
    for (const rec of batch) {
      this.rows++;
      let pending: void | Promise<void>;
      if (rec.error) pending = this.reject(rec, rec.error);
      else if (!rec.value || typeof rec.value !== 'object' || Array.isArray(rec.value)) {
        pending = this.reject(rec, { code: 'type', error: msg.rowNotObject() });
      } else {
        const verdict = this.validator.validate(rec.value as Record<string, unknown>, this.coerce);
        if (verdict.ok) {
          this.itemCount++;
          pending = this.sink.item(rec.row, verdict.item);
        } else pending = this.reject(rec, verdict);
      }
      if (pending) await pending;
    }
  }
}

/** The answer of a file whose rows are all tallied: its counts, or `file_parsing_failed` when no row is valid. */
export function finishTally(
  tally: FileTally,
  coerce: boolean,
  errorColumns: string[],
  noneValid: (rows: number, errors: number) => string,
): ValidationCounts {
  if (!coerce) errorColumns.push(...tally.jsonColumns);
  const result = tally.counts();
  if (result.itemCount === 0) {
    throw new IngestError('file_parsing_failed', noneValid(tally.rows, tally.errors.total), tally.errors.listed, {
      validationErrorCount: tally.errors.total,
      validationErrorsTruncated: tally.errors.truncated,
      errorSummary: result.errorSummary,
    });
  }
  return result;
}

/**
 * The one row loop of batchgate: every row of a file, and every direct item of POST /v1/batch, is
 * validated here. Valid rows go to `sink.item`, rejected ones to `sink.rejected` with their raw value;
 * when no row is valid the whole input fails with `file_parsing_failed` and the sentence `noneValid`
 * gives (rows read, rows rejected). `coerce` is for CSV cells, which are all strings.
 * (A large file read by the ingest pool runs the same RowLoop on each chunk, in a pool thread, and
 * merges the parts' tallies in file order: see parallel-ingest.ts.)
 */
export async function validateRecords(
  records: AsyncIterable<SourceRecord[]>,
  schema: ItemSchema,
  coerce: boolean,
  sink: IngestSink,
  errorColumns: string[],
  noneValid: (rows: number, errors: number) => string,
): Promise<ValidationCounts> {
  const tally = new FileTally();
  const loop = new RowLoop(schema, coerce, sink, tally);
  // The readers hand over rows in batches; a batch is validated in one synchronous loop.
  for await (const batch of records) await loop.run(batch);
  tally.rows = loop.rows;
  tally.itemCount = loop.itemCount;
  return finishTally(tally, coerce, errorColumns, noneValid);
}
