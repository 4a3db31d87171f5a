/**
 * Every file-storage object key batchgate writes, built here and nowhere else (the Redis keys are in
 * redis-keys.ts beside this file). Keys start with the organization, so one org's objects share a
 * prefix (an S3 prefix, or a directory of the local driver).
 */
const chunkName = (i: number) => String(i).padStart(8, '0');

export const storageKeys = {
  /** An upload's valid items, `{"row":n,"item":{...}}` lines. */
  uploadItems: (orgId: string, fileId: string) => `${orgId}/${fileId}.items.ndjson`,
  /** An upload's rejected rows, `{row,line?,field?,code,error,raw}` lines. */
  uploadErrors: (orgId: string, fileId: string) => `${orgId}/${fileId}.errors.ndjson`,
  /** One chunk of a batch's results (written whole, so a replayed chunk overwrites). */
  batchResults: (orgId: string, batchId: string, chunk: number) =>
    `${orgId}/results/${batchId}/${chunkName(chunk)}.ndjson`,
  /** Every raw part of an upload session, and nothing else, is under this prefix. */
  sessionParts: (orgId: string, uploadId: string) => `${orgId}/sessions/${uploadId}/`,
  /** One raw part of an upload session, as the client sent it (numbers padded, so keys sort as parts do). */
  sessionPart: (orgId: string, uploadId: string, partNumber: number) =>
    `${orgId}/sessions/${uploadId}/part-${String(partNumber).padStart(5, '0')}`,
};

/** The part number of a key under sessionParts, or undefined for anything else. */
export function sessionPartNumber(key: string): number | undefined {
  const m = /\/part-(\d{5})$/.exec(key);
  return m ? Number(m[1]) : undefined;
}

/** Both objects of an upload. */
export const uploadObjects = (orgId: string, fileId: string) => ({
  items: storageKeys.uploadItems(orgId, fileId),
  errors: storageKeys.uploadErrors(orgId, fileId),
});
