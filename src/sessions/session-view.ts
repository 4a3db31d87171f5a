import {
  type SessionFailure,
  type SessionMeta,
  type SessionProgress,
  type SessionState,
  partSizeOf,
} from '../store/upload-session-record';

export interface SignedPartUrl {
  partNumber: number;
  url: string;
  method: 'PUT';
  sizeBytes: number;
  headers: Record<string, string>;
}

/** POST /v1/uploads: one created session. */
export interface SessionCreated {
  /** The file's position in the request's `files` (as refused files give theirs). */
  index: number;
  uploadId: string;
  status: 'pending';
  filename: string;
  path: string | null;
  sizeBytes: number;
  method: 'put' | 'multipart';
  partSize: number;
  partCount: number;
  parts: SignedPartUrl[];
  urlsExpireAt: string;
  expiresAt: string;
  duplicateOf: unknown;
}

/** GET /v1/uploads/{id} (and what complete answers). */
export interface SessionView {
  uploadId: string;
  status: string;
  filename: string;
  path: string | null;
  sizeBytes: number;
  method: 'put' | 'multipart';
  partSize: number;
  partCount: number;
  receivedParts: { partNumber: number; sizeBytes: number }[] | null;
  progress: SessionProgress | null;
  fileId: string | null;
  result: Record<string, unknown> | null;
  error: SessionFailure | null;
  createdAt: string;
  expiresAt: string;
}

/** Every part, each of its full size: what a session past `pending` received (complete checked it). */
export function allParts(meta: SessionMeta): { partNumber: number; sizeBytes: number }[] {
  return Array.from({ length: meta.partCount }, (_, i) => ({ partNumber: i + 1, sizeBytes: partSizeOf(meta, i + 1) }));
}

export function toSessionView(
  s: SessionState,
  receivedParts: { partNumber: number; sizeBytes: number }[] | null,
): SessionView {
  const m = s.meta;
  return {
    uploadId: m.uploadId,
    status: s.status,
    filename: m.filename,
    path: m.path,
    sizeBytes: m.sizeBytes,
    method: m.method,
    partSize: m.partSize,
    partCount: m.partCount,
    receivedParts,
    progress:
      s.status === 'pending'
        ? null
        : (s.progress ?? { bytesRead: 0, rowsRead: 0, itemCount: 0, validationErrorCount: 0 }),
    fileId: s.status === 'ready' ? (s.fileId ?? null) : null,
    result: s.status === 'ready' ? (s.result ?? null) : null,
    error: s.status === 'failed' ? (s.error ?? null) : null,
    createdAt: m.createdAt,
    expiresAt: m.expiresAt,
  };
}
