import { tooLargeSentence } from '../common/format';
import type { RowErrorsBody } from '../common/row-error';
import { AppError } from './app-error';

/**
 * The error catalogue: one factory per contract error of API.md, so each sentence is written once.
 * `app-error.ts` has the code → status table; this file has the words.
 */

/** Ids in messages are cut, so an absurd id cannot make an absurd answer. */
const shown = (id: string) => id.slice(0, 64);

export const FILE_REQUIRED = 'File is required. Use form field name "file".';
export const STORAGE_NOT_CONFIGURED = 'File upload is not configured. Please use direct JSON items array instead.';
export const STORAGE_UNAVAILABLE = 'File storage is temporarily unavailable.';

export const fileRequired = (details?: Record<string, unknown>) =>
  new AppError('validation_error', FILE_REQUIRED, details);

export const fileNotFound = (fileId: string) => new AppError('file_not_found', `File ${shown(fileId)} not found.`);

export const fileExpired = (fileId: string) =>
  new AppError('file_expired', `File ${shown(fileId)} has expired. Upload the file again.`);

export const fileAlreadyConsumed = (batchId: string) =>
  new AppError('file_already_consumed', 'This file was already used to create a batch.', { batchId });

export const tooManyFiles = (max: number) =>
  new AppError(
    'validation_error',
    `Too many files in one request: your plan allows at most ${max} (maxFilesPerRequest).`,
    { limit: 'maxFilesPerRequest', max },
  );

export const uploadNotFound = (uploadId: string) =>
  new AppError('upload_not_found', `Upload ${shown(uploadId)} not found.`);

export const uploadExpired = (uploadId: string) =>
  new AppError('upload_expired', `Upload ${shown(uploadId)} has expired before it was completed. Start a new upload.`);

export const uploadIncomplete = (missingParts: number[]) =>
  new AppError(
    'upload_incomplete',
    `${missingParts.length} part(s) have not arrived in full yet: send them, then call complete again.`,
    { missingParts },
  );

export const uploadState = (status: string, action: string) =>
  new AppError('upload_state', `This upload is ${status}: ${action} only while it is pending.`, { status });

export const signatureInvalid = (why: 'expired' | 'invalid') =>
  new AppError(
    'signature_invalid',
    why === 'expired'
      ? 'This part URL has expired. Ask for new ones with POST /v1/uploads/{uploadId}/parts.'
      : 'This part URL is not valid: its signature does not match this upload, part and size.',
  );

/** An upload session's stored bytes (or one part's body) are not the size it declared. */
export const sizeMismatch = (declared: number, actual: number, what = 'The stored file') =>
  new AppError('size_mismatch', `${what} has ${actual} bytes, but ${declared} were declared.`, { declared, actual });

export const checksumMismatch = (declared: string, actual: string) =>
  new AppError('checksum_mismatch', "The stored file's sha256 is not the one declared.", { declared, actual });

export const batchNotFound = (batchId: string) => new AppError('batch_not_found', `Batch ${shown(batchId)} not found.`);

export const batchFinished = (batchId: string, status: string) =>
  new AppError('batch_finished', `Batch ${shown(batchId)} has already ended (${status}).`, { status });

/** 413 with the plan's (or the body limit's) figure: `File size exceeds maximum of 10 MB`. */
export const payloadTooLarge = (maxBytes: number, details: Record<string, unknown> = {}) =>
  new AppError('payload_too_large', tooLargeSentence(maxBytes), { maxBytes, ...details });

export const batchNotOnPlan = (plan: string) =>
  new AppError('quota_exceeded', `Batch processing is not available on the ${plan} plan.`, {
    limit: 'batchEnabled',
    plan,
  });

export const unknownSchema = (name: string, known: string[]) =>
  new AppError('validation_error', `Unknown schema "${name}". Known schemas: ${known.join(', ')}.`);

export type QuotaLimit = 'maxItemsPerBatch' | 'maxItemsPerMonth' | 'maxConcurrentBatches';

export interface QuotaRefusal {
  limit: QuotaLimit;
  max: number;
  used: number;
  requested: number;
}

function quotaMessage(q: QuotaRefusal): string {
  switch (q.limit) {
    case 'maxItemsPerBatch':
      return `This batch has ${q.requested} items; your plan allows at most ${q.max} per batch.`;
    case 'maxItemsPerMonth':
      return `This batch would use ${q.requested} items, but only ${Math.max(0, q.max - q.used)} of your plan's ${q.max} remain this month.`;
    case 'maxConcurrentBatches':
      return `Your plan allows ${q.max} batches in progress at once; wait for one to finish.`;
  }
}

export const quotaExceeded = (q: QuotaRefusal) =>
  new AppError('quota_exceeded', quotaMessage(q), { limit: q.limit, max: q.max, used: q.used, requested: q.requested });

export const idempotencyInProgress = () =>
  new AppError(
    'idempotency_conflict',
    'A request with this Idempotency-Key is still in progress.',
    undefined,
    undefined,
    1,
  );

export const idempotencyKeyReused = () =>
  new AppError('idempotency_key_reused', 'This Idempotency-Key was already used with a different request body.');

/** 400 file_parsing_failed: the file (or the direct items) cannot be used; the body lists the row errors. */
export const rowsRefused = (message: string, rows: RowErrorsBody) =>
  new AppError('file_parsing_failed', message, undefined, rows);

export const storageNotConfigured = () =>
  new AppError('FILE_STORAGE_UNAVAILABLE', STORAGE_NOT_CONFIGURED, undefined, undefined, 3600);

export const storageUnavailable = () =>
  new AppError('FILE_STORAGE_UNAVAILABLE', STORAGE_UNAVAILABLE, undefined, undefined, 5);

export const invalidJsonBody = () => new AppError('validation_error', 'Request body is not valid JSON');

export const unsupportedBodyCharset = (charset: string) =>
  new AppError('unsupported_format', `Unsupported charset "${charset.slice(0, 40)}": send JSON bodies as UTF-8.`);

export const unsupportedBodyEncoding = (encoding: string) =>
  new AppError(
    'unsupported_format',
    `Unsupported Content-Encoding "${encoding.slice(0, 40)}": send the body as it is, or with gzip or deflate.`,
  );

export const bodyUnreadable = () =>
  new AppError('validation_error', 'The request body could not be read (a corrupt gzip or deflate body?).');

export const bodyIncomplete = () =>
  new AppError('validation_error', 'The request was cut off before its body was complete.');

export const routeNotFound = (method: string, path: string) =>
  new AppError('not_found', `Route ${method} ${path.slice(0, 200)} not found`);

export const internalError = (errorId: string) =>
  new AppError('internal_error', `Internal error (id ${errorId})`, { errorId });

// ------------------------------------------------------------------ authentication (API.md, Conventions)

export const AUTH_UNAVAILABLE = "The identity provider's keys cannot be fetched. Try again shortly.";

/** `WWW-Authenticate` of a 401 for a missing or unknown API key: the scheme alone (RFC 6750 §3). */
const BEARER = { 'WWW-Authenticate': 'Bearer' };

/**
 * RFC 6750's quoted-string allows neither `"` nor `\` and only printable ASCII: the descriptions are
 * written here, but a claim or algorithm name can be part of one.
 */
const headerSafe = (text: string) => text.replace(/[^\x20-\x21\x23-\x5b\x5d-\x7e]/g, '?').slice(0, 200);

export const missingCredential = () =>
  new AppError(
    'unauthorized',
    'Missing credential: send "Authorization: Bearer <API key or token>".',
    undefined,
    undefined,
    undefined,
    BEARER,
  );

export const unknownApiKey = () =>
  new AppError('unauthorized', 'Unknown API key.', undefined, undefined, undefined, BEARER);

/** A JWT that cannot be accepted; `why` is short and names no secret ("the token has expired"). */
export const invalidToken = (why: string) =>
  new AppError('unauthorized', `Invalid token: ${why}.`, undefined, undefined, undefined, {
    'WWW-Authenticate': `Bearer error="invalid_token", error_description="${headerSafe(why)}"`,
  });

/**
 * 403: a valid credential whose scopes do not include the route's (RFC 6750 `insufficient_scope`).
 * `scope` undefined: a route that takes only credentials without scopes.
 */
export const forbidden = (scope: string | undefined) =>
  scope === undefined
    ? new AppError('forbidden', 'This route takes only credentials without scopes.', undefined, undefined, undefined, {
        'WWW-Authenticate': 'Bearer error="insufficient_scope"',
      })
    : new AppError(
        'forbidden',
        `This credential's scopes do not allow this route: it needs the "${scope}" scope.`,
        { requiredScope: scope },
        undefined,
        undefined,
        { 'WWW-Authenticate': `Bearer error="insufficient_scope", scope="${headerSafe(scope)}"` },
      );

export const authUnavailable = (retryAfter: number) =>
  new AppError('auth_unavailable', AUTH_UNAVAILABLE, undefined, undefined, Math.max(1, Math.ceil(retryAfter)));
