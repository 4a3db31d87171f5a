import type { ErrorSummaryEntry, RowError, RowErrorsBody } from '../common/row-error';
import { ErrorCollector } from './error-collector';

export type Format = 'csv' | 'json' | 'ndjson';
export const FORMATS: readonly Format[] = ['csv', 'json', 'ndjson'];

export interface ParsingInfo {
  encoding: string;
  bom: boolean;
  compressed: boolean;
  delimiter?: string;
  lineEnding?: 'crlf' | 'lf' | 'cr' | 'none';
  header?: string[];
}

export interface IngestSummary {
  format: Format;
  itemCount: number;
  validationErrorCount: number;
  validationErrors: RowError[];
  validationErrorsTruncated: boolean;
  errorSummary: ErrorSummaryEntry[];
  parsing: ParsingInfo;
  /** Columns of the rejected-rows CSV: the CSV header as uploaded, or the keys seen in rejected JSON rows. */
  errorColumns: string[];
}

/** Where ingest hands its output. Returning a promise means "wait before sending more" (backpressure). */
export interface IngestSink {
  item(row: number, item: Record<string, unknown>): void | Promise<void>;
  rejected(error: RowError, raw: unknown): void | Promise<void>;
  /**
   * Optional: many rows at once, as UTF-8 bytes of the lines `itemLine` and `rejectedLine`
   * (sink-lines.ts) make, in file order: what the ingest pool hands back for each chunk. The bytes
   * are reused once the call returns (or its promise resolves): copy them. A sink without it is
   * given the same rows through `item` and `rejected`, parsed back from the lines.
   */
  lines?(items: Uint8Array, rejected: Uint8Array): void | Promise<void>;
  /** Forget everything written so far: ingest restarts (a UTF-8 file turned out to be windows-1252). */
  reset(): Promise<void>;
}

/** `unavailable`: the file could not be read right now (an ingest pool thread died while reading it): a 503. */
export type IngestErrorCode = 'file_parsing_failed' | 'unsupported_format' | 'payload_too_large' | 'unavailable';

/**
 * What the uploads layer adds to the answer besides the message: the counts of a file with no valid
 * row (file_parsing_failed), and for payload_too_large whether the decompressed size crossed the limit
 * and the plan's limit (set by the uploads layer, which knows the plan).
 */
export type IngestErrorExtra = {
  maxBytes?: number;
  decompressed?: boolean;
  validationErrorCount?: number;
  validationErrorsTruncated?: boolean;
  errorSummary?: ErrorSummaryEntry[];
};

/** A failure of the whole file. The uploads layer maps `code` to the HTTP status of API.md. */
export class IngestError extends Error {
  constructor(
    readonly code: IngestErrorCode,
    message: string,
    readonly validationErrors: RowError[] = [],
    readonly extra: IngestErrorExtra = {},
  ) {
    super(message);
    this.name = 'IngestError';
  }

  /** The row errors of a `file_parsing_failed`, as its 400 body lists them. */
  get rows(): RowErrorsBody {
    const extra = this.extra;
    return {
      validationErrors: this.validationErrors,
      validationErrorCount: extra.validationErrorCount ?? this.validationErrors.length,
      validationErrorsTruncated: extra.validationErrorsTruncated ?? false,
      errorSummary: extra.errorSummary ?? summarize(this.validationErrors),
    };
  }
}

/** One { field, code, count } per kind of error. */
function summarize(errors: RowError[]): ErrorSummaryEntry[] {
  const collector = new ErrorCollector();
  for (const e of errors) collector.add(e);
  return collector.errorSummary();
}
