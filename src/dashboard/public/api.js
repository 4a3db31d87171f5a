/*
 * Talking to batchgate: the routes of shared/API.md with `Authorization: Bearer <key>`, and errors
 * turned into sentences a person can act on. No DOM: `fetch` is injected, so the unit specs run it
 * under Node (api.spec.ts).
 */

/** An error envelope (API.md, "Error envelope"), or a request that never got an answer (status 0). */
export class ApiError extends Error {
  constructor(status, body, retryAfter) {
    const err = (body && body.error) || {};
    super(err.message || '');
    this.name = 'ApiError';
    this.status = status;
    this.code = err.code || (status === 0 ? 'network' : `http_${status}`);
    this.details = err.details || {};
    this.requestId = (body && body.requestId) || null;
    this.validationErrors = (body && body.validationErrors) || [];
    this.retryAfter = retryAfter ? Number(retryAfter) : null;
  }

  static network(message) {
    return new ApiError(0, { error: { code: 'network', message: message || '' } });
  }

  /** The error a refused dry run says the real request would get (API.md, settled questions). */
  static fromVerdict(v) {
    return new ApiError(v.status, { error: v.error });
  }
}

/** Anything thrown (a TypeError from fetch, say) as an ApiError, so it can be shown as sentences. */
export function toApiError(e) {
  return e instanceof ApiError ? e : ApiError.network(String(e && e.message));
}

export function parseJson(text) {
  try {
    return text ? JSON.parse(text) : null;
  } catch {
    return null;
  }
}

const LIMIT_NAMES = {
  maxItemsPerBatch: 'items per batch',
  maxItemsPerMonth: 'items per month',
  maxConcurrentBatches: 'batches in progress at once',
  maxFileBytes: 'file size',
};

/** The sentence a person reads first; the server's own message follows it. */
export function sentenceFor(e) {
  switch (e.code) {
    case 'unauthorized':
      return 'This API key was not accepted. Check it and enter it again.';
    case 'forbidden':
      return "This key's scopes do not allow this step (uploads need uploads:write, batches batches:write, reading read).";
    case 'auth_unavailable':
      return 'The identity provider cannot be reached right now to check this token. Try again shortly.';
    case 'quota_exceeded': {
      const limit = e.details && e.details.limit;
      if (limit === 'batchEnabled') return 'Your plan does not include batch processing.';
      return `Your plan does not allow this batch${LIMIT_NAMES[limit] ? ` (limit on ${LIMIT_NAMES[limit]})` : ''}.`;
    }
    case 'file_already_consumed':
      return (
        `This upload was already used to create a batch${e.details && e.details.batchId ? ` (${e.details.batchId})` : ''}. ` +
        'An upload creates one batch only: upload the file again to create another.'
      );
    case 'file_expired':
      return 'This upload has expired and can no longer be used. Upload the file again.';
    case 'file_not_found':
      return 'This upload no longer exists: it was discarded or never belonged to this key. Upload the file again.';
    case 'batch_not_found':
      return 'This batch could not be found; finished batches are removed after their retention period.';
    case 'payload_too_large':
      return 'The file is too large for your plan.';
    case 'unsupported_format':
      return 'This kind of file cannot be read. Upload a CSV, JSON or NDJSON file (gzip-compressed is fine).';
    case 'file_parsing_failed':
      return 'The file could not be used: it cannot be read as its format, a required column is missing, or no row is valid.';
    case 'validation_error':
      return 'The request was not accepted.';
    case 'batch_finished':
      return 'This batch has already ended, so it cannot be cancelled.';
    case 'idempotency_conflict':
      return 'The same request is still being handled. Wait a moment, then look at the recent batches.';
    case 'idempotency_key_reused':
      return 'This request clashes with an earlier one. Upload the file again.';
    case 'rate_limited':
      return `Too many requests for your plan right now. Wait ${e.retryAfter ? `${e.retryAfter} seconds` : 'a moment'} and try again.`;
    case 'FILE_STORAGE_UNAVAILABLE':
      return 'File storage is unavailable right now. Try again in a moment.';
    case 'upload_not_found':
      return 'This upload session no longer exists: it was cancelled, or it belongs to another key. Upload the file again.';
    case 'upload_expired':
      return 'This upload session expired before it was finished. Upload the file again.';
    case 'upload_incomplete':
      return 'Some parts of the file did not reach batchgate. Resume the upload to send them again.';
    case 'upload_state':
      return 'This upload session has moved on (it is being checked or has ended), so it cannot take that request.';
    case 'signature_invalid':
      return 'A part was sent with a link that expired or does not fit it. Resume the upload to get fresh links.';
    case 'size_mismatch':
      return 'The bytes that arrived are not the size the file was announced with. Upload the file again.';
    case 'checksum_mismatch':
      return 'The bytes that arrived are not the file that was announced (checksum mismatch). Upload the file again.';
    case 'network':
      return 'batchgate could not be reached. Check your connection and try again.';
    default:
      if (e.status >= 500) return `batchgate had a problem on its side (HTTP ${e.status}). Try again in a moment.`;
      return `The request failed (HTTP ${e.status}).`;
  }
}

/** Worth trying again by itself a little later: no answer, 429, or a fault on batchgate's side. */
export function isTransient(e) {
  return e.code === 'rate_limited' || e.code === 'network' || e.status >= 500;
}

/**
 * Whether a failed POST /v1/batch should be retried under a new Idempotency-Key. A definite refusal
 * (402, say) would be replayed for 24 hours under the same key; after a lost answer (network, 5xx)
 * or one still in flight (409 idempotency_conflict) the key is kept, so a retry replays the first answer.
 */
export function needsNewIdempotencyKey(e) {
  return e.status >= 400 && e.status < 500 && e.code !== 'idempotency_conflict';
}

/** A random Idempotency-Key; crypto.randomUUID needs a secure context, getRandomValues does not. */
export function randomKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `dashboard-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

/**
 * The body of POST /v1/batch for one upload (`fileId`) or several (`fileIds`); a blank name is left out.
 * @param {{ fileId?: string, fileIds?: string[], name?: string, dryRun?: boolean }} request
 */
export function batchRequest({ fileId, fileIds, name, dryRun }) {
  const body = fileIds ? { fileIds: [...fileIds] } : { fileId };
  const trimmed = (name || '').trim();
  if (trimmed) body.name = trimmed;
  if (dryRun) body.dryRun = true;
  return body;
}

const id = encodeURIComponent;

/** The routes of API.md the dashboard uses. */
export const routes = {
  upload: '/v1/batch/upload',
  createBatch: '/v1/batch',
  batches: (limit) => `/v1/batches?limit=${limit}`,
  batch: (batchId) => `/v1/batch/${id(batchId)}`,
  cancel: (batchId) => `/v1/batch/${id(batchId)}/cancel`,
  results: (batchId) => `/v1/batch/${id(batchId)}/results`,
  errors: (fileId, offset, limit) => `/v1/batch/upload/${id(fileId)}/errors?offset=${offset}&limit=${limit}`,
  errorsCsv: (fileId) => `/v1/batch/upload/${id(fileId)}/errors?format=csv`,
  preview: (fileId, limit) => `/v1/batch/upload/${id(fileId)}/preview?limit=${limit}`,
  sessions: '/v1/uploads',
  session: (uploadId) => `/v1/uploads/${id(uploadId)}`,
  sessionParts: (uploadId) => `/v1/uploads/${id(uploadId)}/parts`,
  sessionComplete: (uploadId) => `/v1/uploads/${id(uploadId)}/complete`,
};

/** The fetch options of a JSON request: the key, Accept, and a Content-Type only when there is a body. */
export function requestInit(key, method, body, headers) {
  return {
    method,
    headers: {
      Authorization: `Bearer ${key}`,
      Accept: 'application/json',
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: 'no-store',
  };
}

/** The file name a Content-Disposition header offers, else the fallback. */
export function filenameFrom(contentDisposition, fallback) {
  const match = /filename="?([^";]+)"?/i.exec(contentDisposition || '');
  return match ? match[1] : fallback;
}

async function errorFrom(res) {
  const text = await res.text().catch(() => '');
  return new ApiError(res.status, parseJson(text), res.headers.get('Retry-After'));
}

/**
 * A client for the key `getKey()` returns at the time of each request. `fetchFn` defaults to the
 * page's fetch, called unbound (a detached `window.fetch` called as a method throws).
 */
export function createApi(getKey, fetchFn = (input, init) => fetch(input, init)) {
  async function call(path, init) {
    try {
      return await fetchFn(path, init);
    } catch (err) {
      throw ApiError.network(String(err));
    }
  }

  return {
    /** A JSON request; resolves to the parsed body (null for 204), rejects with an ApiError. */
    async send(method, path, body, headers) {
      const res = await call(path, requestInit(getKey(), method, body, headers));
      if (!res.ok) throw await errorFrom(res);
      return res.status === 204 ? null : res.json();
    },

    /** A file to hand to the browser as a download: its bytes and the name the server gave it. */
    async fetchFile(path, accept, fallbackName) {
      const res = await call(path, {
        headers: { Authorization: `Bearer ${getKey()}`, Accept: accept },
        cache: 'no-store',
      });
      if (!res.ok) throw await errorFrom(res);
      return { blob: await res.blob(), filename: filenameFrom(res.headers.get('Content-Disposition'), fallbackName) };
    },
  };
}
