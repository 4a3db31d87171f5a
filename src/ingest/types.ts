import type { ErrorSummaryEntry, RowError } from '../common/row-error';

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
  /** Forget everything written so far: ingest restarts (a UTF-8 file turned out to be windows-1252). */
  reset(): Promise<void>;
}

export type IngestErrorCode = 'file_parsing_failed' | 'unsupported_format' | 'payload_too_large';

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
}
