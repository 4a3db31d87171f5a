/** One row-level problem, as API.md shows it. `field` is absent for whole-row errors. */
export interface RowError {
  row: number;
  line?: number;
  field?: string;
  code: string;
  error: string;
}

/** One `{ field, code, count }` of API.md's `errorSummary`: a kind of error over the whole file. */
export interface ErrorSummaryEntry {
  field?: string;
  code: string;
  count: number;
}

/** The row-error part of a body (an upload's answer, a file_parsing_failed envelope, a dry-run verdict). */
export interface RowErrorsBody {
  validationErrors: RowError[];
  validationErrorCount?: number;
  validationErrorsTruncated?: boolean;
  errorSummary?: ErrorSummaryEntry[];
}
