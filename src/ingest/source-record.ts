/** Rows are handed from a reader to the row loop in batches of about this many (see validateRecords). */
export const BATCH_ROWS = 512;

/** A problem found in one row while reading it: the row is skipped with this error. */
export interface RecordError {
  code: string;
  error: string;
  field?: string;
}

/** What a reader yields for each row: a value to validate, or an error found while reading it. */
export interface SourceRecord {
  row: number;
  line?: number;
  value?: unknown;
  error?: RecordError;
  /** The row as the file has it (CSV cells, or the JSON value), kept for the rejected-rows download. */
  raw: unknown;
}

/** JSON.parse's complaint, short enough for a row error. */
export function jsonDetail(e: unknown): string {
  return (e as Error).message.replace(/^JSON\.parse: /, '').slice(0, 200);
}
