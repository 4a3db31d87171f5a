import type { ErrorSummaryEntry, Format, ParsingInfo, RowError } from '../ingest/types';

/** What Redis keeps about an upload: API.md's upload body plus what the service needs internally. */
export interface UploadRecord {
  fileId: string;
  orgId: string;
  originalFileName: string;
  format: Format;
  schema: string;
  itemCount: number;
  validationErrorCount: number;
  validationErrors: RowError[];
  validationErrorsTruncated: boolean;
  errorSummary: ErrorSummaryEntry[];
  parsing: ParsingInfo;
  sizeBytes: number;
  sha256: string;
  createdAt: string;
  expiresAt: string;
  /** Columns of the rejected-rows CSV download. */
  errorColumns: string[];
}

export type UploadLookup =
  | { state: 'available'; record: UploadRecord }
  | { state: 'consumed'; record: UploadRecord; batchId: string }
  | { state: 'expired' }
  | { state: 'discarded' }
  | { state: 'unknown' };

/** Where an upload's objects live in file storage. */
export const uploadObjects = (orgId: string, fileId: string) => ({
  items: `${orgId}/${fileId}.items.ndjson`,
  errors: `${orgId}/${fileId}.errors.ndjson`,
});
