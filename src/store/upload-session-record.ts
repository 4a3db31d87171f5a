import type { RowError } from '../common/row-error';

export type SessionStatus = 'pending' | 'validating' | 'ready' | 'failed' | 'cancelled' | 'expired';

/** What an upload session was created with; it never changes afterwards. */
export interface SessionMeta {
  uploadId: string;
  orgId: string;
  /** As the client named it (format detection uses it, as a multipart filename). */
  filename: string;
  path: string | null;
  sizeBytes: number;
  contentType?: string;
  /** Declared by the client (lower-case hex); checked against the stored bytes. */
  sha256?: string;
  schema: string;
  format?: string;
  encoding?: string;
  method: 'put' | 'multipart';
  partSize: number;
  partCount: number;
  /** The plan's limit when the session was made: the stored bytes are held to it. */
  maxFileBytes: number;
  createdAt: string;
  expiresAt: string;
}

export interface SessionProgress {
  bytesRead: number;
  rowsRead: number;
  itemCount: number;
  validationErrorCount: number;
}

/** API.md's `error` of a failed session: what the direct upload would have answered. */
export interface SessionFailure {
  status: number;
  error: { code: string; message: string; details?: Record<string, unknown> };
  validationErrors: RowError[];
}

export interface SessionState {
  meta: SessionMeta;
  status: SessionStatus;
  /** Set when a validation run starts (each run its own, so an abandoned run's objects are told apart). */
  fileId?: string;
  progress?: SessionProgress;
  /** The direct upload's 200 body, once ready. */
  result?: Record<string, unknown>;
  error?: SessionFailure;
  /** The latest expiry of a part URL handed out (ms): stores that sign their own URLs may still take a PUT until then. */
  urlsExpireAtMs: number;
}

export const partSizeOf = (meta: Pick<SessionMeta, 'sizeBytes' | 'partSize' | 'partCount'>, partNumber: number) =>
  partNumber < meta.partCount ? meta.partSize : meta.sizeBytes - meta.partSize * (meta.partCount - 1);
