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
};

/** Both objects of an upload. */
export const uploadObjects = (orgId: string, fileId: string) => ({
  items: storageKeys.uploadItems(orgId, fileId),
  errors: storageKeys.uploadErrors(orgId, fileId),
});
