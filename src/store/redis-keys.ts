/**
 * Every Redis key batchgate uses, built here and nowhere else. Keys of one organization share the
 * hash tag `{org}` so that the consumption script, which touches an upload, the org's counters and a
 * new batch, stays in one slot on Redis Cluster. The few global keys (sweep indexes, rate-limit
 * counters) are each used alone: no script or MULTI mixes them with an org's keys. The sweep indexes
 * are per QUEUE_PREFIX: deployments (and test apps) sharing one Redis each sweep only their own.
 */
export const PREFIX = 'bg';

const org = (orgId: string) => `${PREFIX}:{${orgId}}`;
/** A sweep index of one QUEUE_PREFIX; the default prefix keeps the names earlier versions wrote. */
const perQueue = (name: string, queuePrefix: string) =>
  queuePrefix === 'bull' ? `${PREFIX}:${name}` : `${PREFIX}:${name}:${queuePrefix}`;

export const keys = {
  /** Upload metadata (JSON), TTL = FILE_TTL_SECONDS. */
  upload: (orgId: string, fileId: string) => `${org(orgId)}:upload:${fileId}`,
  /** 'live' or 'discarded', outlives the upload by a day so expiry can be told from unknown (410 vs 404). */
  uploadTrace: (orgId: string, fileId: string) => `${org(orgId)}:upload-trace:${fileId}`,
  /** Tombstone of a consumed upload: JSON { batchId, upload }. */
  consumed: (orgId: string, fileId: string) => `${org(orgId)}:consumed:${fileId}`,
  /** The org's uploads of one content hash and schema, fileId by creation time (ms): `duplicateOf`. */
  uploadsByContent: (orgId: string, schema: string, sha256: string) => `${org(orgId)}:sha:${schema}:${sha256}`,
  batch: (orgId: string, batchId: string) => `${org(orgId)}:batch:${batchId}`,
  /** Sorted set of the org's batches by creation time, newest last. */
  batchIndex: (orgId: string) => `${org(orgId)}:batches`,
  /** Items reserved against the monthly quota, per calendar month (UTC). */
  usageMonth: (orgId: string, month: string) => `${org(orgId)}:usage:${month}`,
  /** Set of the org's batches that are queued or processing. */
  activeBatches: (orgId: string) => `${org(orgId)}:active`,
  idempotency: (orgId: string, key: string) => `${org(orgId)}:idem:${key}`,
  /** Global sorted set `orgId/fileId` by expiry (ms), read by the sweeper that deletes expired uploads' files. */
  uploadExpiry: (queuePrefix: string) => perQueue('upload-expiry', queuePrefix),
  /** Direct `items` of a batch (NDJSON), when they did not come from an upload. */
  batchItems: (orgId: string, batchId: string) => `${org(orgId)}:items:${batchId}`,
  /** Results of a batch kept in Redis (no file storage): hash chunkIndex -> NDJSON lines. */
  batchResults: (orgId: string, batchId: string) => `${org(orgId)}:results:${batchId}`,
  /** What /ready writes (with a short TTL) to see that Redis accepts writes, not only PING. */
  readyProbe: () => `${PREFIX}:ready-probe`,
  /**
   * Set of the organizations that have created a batch on one queue (QUEUE_PREFIX): where that
   * queue's requeue sweep looks, so deployments sharing a Redis never enqueue each other's batches.
   */
  batchOrgs: (queuePrefix: string) => perQueue('batch-orgs', queuePrefix),
  /** Rate-limit counter of one API key (by digest), shared by every api process. */
  rateLimit: (keyId: string, throttler: string) => `${PREFIX}:ratelimit:${throttler}:${keyId}`,
  /** An upload session (hash: `state` and the JSON fields of upload-session-record.ts), kept a day past its end. */
  uploadSession: (orgId: string, uploadId: string) => `${org(orgId)}:session:${uploadId}`,
  /**
   * Global sorted set `orgId/uploadId` by when the session sweep must look at it next (ms): pending
   * sessions at their expiry, ended ones once their raw parts are due to be gone.
   */
  uploadSessions: (queuePrefix: string) => perQueue('upload-sessions', queuePrefix),
  /** The local driver's part-URL signing key when UPLOAD_SIGNING_SECRET is not set: made once, shared by every api. */
  uploadSigningSecret: () => `${PREFIX}:upload-signing-secret`,
  /** Global sorted set `orgId/batchId` by retention end (ms): whose stored items and results to delete. */
  batchRetention: (queuePrefix: string) => perQueue('batch-retention', queuePrefix),
};
