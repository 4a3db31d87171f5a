import type { IngestSummary } from '../ingest/types';

/** What Redis keeps about an upload: API.md's upload body plus what the service needs internally. */
export type UploadRecord = IngestSummary & {
  fileId: string;
  orgId: string;
  originalFileName: string;
  schema: string;
  sizeBytes: number;
  sha256: string;
  createdAt: string;
  expiresAt: string;
  /** The client's label for where the file belongs (API.md `path`); null when none. Absent in older records. */
  path?: string | null;
  /** The earlier upload of the same bytes and schema, when there was one at upload time. */
  duplicateOf?: DuplicateOf | null;
};

/** API.md's `duplicateOf`: the most recent earlier upload of the same bytes and schema by the organization. */
export interface DuplicateOf {
  fileId: string;
  status: 'available' | 'consumed';
  batchId?: string;
  createdAt: string;
}

export type UploadLookup =
  | { state: 'available'; record: UploadRecord }
  | { state: 'consumed'; record: UploadRecord; batchId: string; consumedAt?: number }
  | { state: 'expired' }
  | { state: 'discarded' }
  | { state: 'unknown' };
