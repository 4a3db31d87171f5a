import type { RowErrorsBody } from '../common/row-error';

/** API.md's error codes and their statuses: the one place a code meets a status. */
export const ERROR_STATUS = {
  validation_error: 400,
  file_parsing_failed: 400,
  size_mismatch: 400,
  checksum_mismatch: 400,
  unauthorized: 401,
  quota_exceeded: 402,
  forbidden: 403,
  signature_invalid: 403,
  not_found: 404,
  file_not_found: 404,
  batch_not_found: 404,
  upload_not_found: 404,
  request_timeout: 408,
  file_already_consumed: 409,
  idempotency_conflict: 409,
  batch_finished: 409,
  upload_incomplete: 409,
  upload_state: 409,
  file_expired: 410,
  upload_expired: 410,
  payload_too_large: 413,
  unsupported_format: 415,
  idempotency_key_reused: 422,
  rate_limited: 429,
  headers_too_large: 431,
  internal_error: 500,
  auth_unavailable: 503,
  FILE_STORAGE_UNAVAILABLE: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

/**
 * What services throw. The exception filter turns it into API.md's envelope; nothing else builds error
 * bodies. Services do not call this constructor for contract errors: `errors.ts` has one factory per
 * error, so each of API.md's sentences is written once.
 */
export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
    readonly rows?: RowErrorsBody,
    /** Seconds, for 429 and 503. */
    readonly retryAfter?: number,
    /** Headers the answer carries besides Retry-After (`WWW-Authenticate` on 401 and 403). */
    readonly headers?: Readonly<Record<string, string>>,
  ) {
    super(message);
    this.name = 'AppError';
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }
}
