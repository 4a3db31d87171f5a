import type { FileStorage } from '../storage/file-storage';
import { sessionPartNumber, storageKeys } from './storage-keys';
import type { SessionMeta } from './upload-session-record';

/** The parts of an upload session stored so far: part number → bytes stored (only 1..partCount). */
export async function storedSessionParts(
  storage: FileStorage,
  meta: Pick<SessionMeta, 'orgId' | 'uploadId' | 'partCount'>,
): Promise<Map<number, number>> {
  const found = new Map<number, number>();
  for (const o of await storage.list(storageKeys.sessionParts(meta.orgId, meta.uploadId))) {
    const n = sessionPartNumber(o.key);
    if (n !== undefined && n >= 1 && n <= meta.partCount) found.set(n, o.sizeBytes);
  }
  return found;
}
