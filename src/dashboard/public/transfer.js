/*
 * Bytes to batchgate with XMLHttpRequest rather than fetch: only XMLHttpRequest reports upload
 * progress (fetch has none), so a 16 MiB part moves the bar as it goes instead of in one jump at
 * its end. Browser only; the Chromium test drives it (test/dashboard-sessions.e2e-spec.ts).
 */
import { parseJson } from './api.js';

function abortError() {
  return new DOMException('The upload was cancelled.', 'AbortError');
}

/**
 * PUTs `blob` (a slice of the file: the browser reads it from disk as it sends) to a part URL. No API
 * key: the URL's signature is the credential (API.md). Resolves to `{ status, body }` for any
 * answer, status 0 when none came; rejects with an AbortError when `signal` aborts.
 */
export function xhrPut(url, blob, headers, onProgress, signal) {
  return new Promise((resolve, reject) => {
    if (signal && signal.aborted) {
      reject(abortError());
      return;
    }
    const xhr = new XMLHttpRequest();
    const onAbort = () => xhr.abort();
    const finish = () => {
      if (signal) signal.removeEventListener('abort', onAbort);
    };
    xhr.open('PUT', url);
    for (const [k, v] of Object.entries(headers || {})) xhr.setRequestHeader(k, v);
    xhr.upload.addEventListener('progress', (e) => onProgress(e.loaded));
    xhr.addEventListener('load', () => {
      finish();
      resolve({ status: xhr.status, body: parseJson(xhr.responseText) });
    });
    xhr.addEventListener('error', () => {
      finish();
      resolve({ status: 0, body: null });
    });
    xhr.addEventListener('timeout', () => {
      finish();
      resolve({ status: 0, body: null });
    });
    xhr.addEventListener('abort', () => {
      finish();
      reject(abortError());
    });
    if (signal) signal.addEventListener('abort', onAbort, { once: true });
    xhr.send(blob);
  });
}

/**
 * POST /v1/batch/upload with a multipart form. `onProgress(loaded, total)` follows the bytes,
 * `onSent()` is told when the last byte left (batchgate then checks every row). Resolves to
 * `{ status, body, retryAfter }` (status 0 when no answer came); rejects with an AbortError.
 */
export function postForm(url, key, form, { onProgress, onSent, signal } = {}) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    const onAbort = () => xhr.abort();
    const finish = () => {
      if (signal) signal.removeEventListener('abort', onAbort);
    };
    xhr.open('POST', url);
    xhr.setRequestHeader('Authorization', `Bearer ${key}`);
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.upload.addEventListener('progress', (e) => {
      if (e.lengthComputable && onProgress) onProgress(e.loaded, e.total);
    });
    xhr.upload.addEventListener('load', () => onSent && onSent());
    xhr.addEventListener('load', () => {
      finish();
      resolve({
        status: xhr.status,
        body: parseJson(xhr.responseText),
        retryAfter: xhr.getResponseHeader('Retry-After'),
      });
    });
    xhr.addEventListener('error', () => {
      finish();
      resolve({ status: 0, body: null, retryAfter: null });
    });
    xhr.addEventListener('abort', () => {
      finish();
      reject(abortError());
    });
    if (signal) {
      if (signal.aborted) {
        reject(abortError());
        return;
      }
      signal.addEventListener('abort', onAbort, { once: true });
    }
    xhr.send(form);
  });
}
