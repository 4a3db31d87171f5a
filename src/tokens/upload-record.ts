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
};

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
