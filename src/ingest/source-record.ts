/** What a reader yields for each row: a value to validate, or an error found while reading it. */
export interface SourceRecord {
  row: number;
  line?: number;
  value?: unknown;
  error?: { code: string; error: string; field?: string };
  /** The row as the file has it (CSV cells, or the JSON value), kept for the rejected-rows download. */
  raw: unknown;
}
