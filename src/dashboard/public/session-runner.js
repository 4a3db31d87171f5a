/*
 * One upload session from its parts to its end (API.md "Upload sessions"): the parts not yet
 * received sent through a pool shared by every file of the page (4 at a time), a failed part tried
 * again with backoff (a fresh URL for an expired one), `complete`, then GET every second while the
 * workers validate, until `ready` (the direct upload's body) or `failed` (the refusal it would have
 * had). No DOM: the JSON client, the PUT of one part and the clock are passed in, so
 * session-runner.spec.ts drives it under Node with jest's fake timers.
 */
import { ApiError, isTransient, routes } from './api.js';
import {
  BACKOFF_MS,
  MAX_TRIES,
  POLL_MS,
  backoffMs,
  createRateMeter,
  partFailure,
  partRange,
  sendableHeaders,
  sessionError,
} from './session-plan.js';

/** The wait after a GET or complete that got no answer, when batchgate names none (Retry-After). */
const LOST_MS = 3000;
/** Answers lost in a row, while waiting for the validation's end, before the page gives up. */
const MAX_LOST = 10;
/** Rounds of resending what `complete` says is missing before giving up. */
const MAX_COMPLETE_ROUNDS = 3;

export function isAbort(e) {
  return Boolean(e) && e.name === 'AbortError';
}

function abortError() {
  return new DOMException('The upload was cancelled.', 'AbortError');
}

/** Resolves after `ms`, or rejects with an AbortError as soon as `signal` aborts. */
export function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal && signal.aborted) {
      reject(abortError());
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError());
    };
    const timer = setTimeout(() => {
      if (signal) signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    if (signal) signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Runs tasks (functions returning promises) at most `limit` at once, in the order they were given. */
export function createPool(limit) {
  let active = 0;
  const queue = [];
  const next = () => {
    while (active < limit && queue.length) {
      const { task, resolve, reject } = queue.shift();
      active++;
      Promise.resolve()
        .then(task)
        .then(resolve, reject)
        .finally(() => {
          active--;
          next();
        });
    }
  };
  return {
    run(task) {
      return new Promise((resolve, reject) => {
        queue.push({ task, resolve, reject });
        next();
      });
    },
    get active() {
      return active;
    },
  };
}

/**
 * Runs one session to its end. `ctx`: `api` (api.js createApi), `put(url, blob, headers, onProgress(loaded), signal)`
 * resolving to `{ status, body }` for any answer (status 0 when none came) and rejecting with an
 * AbortError when aborted, `pool` (createPool), `signal` (the page's Cancel), and optionally `now`,
 * `pollMs`, `maxTries`, `backoff`. `job`: `file` (a File or Blob: each part is a slice of it), `session`
 * (POST /v1/uploads's entry `{ uploadId, sizeBytes, partSize, partCount, parts }`, or just `{ uploadId }`
 * to resume), `resume` (true: ask batchgate what arrived, and how the file is cut, first). `report` is told
 * `{ phase: 'sending', sent, total, etaMs, retry }` and `{ phase: 'validating', progress, sizeBytes }`.
 * Resolves to `{ status: 'ready', result }` or `{ status: 'failed', error }` (an ApiError); rejects
 * with an ApiError when the session cannot go on (it may then be resumed), or an AbortError.
 * @param {any} ctx
 * @param {any} job
 * @param {(report: any) => void} [report]
 */
export async function runSession(ctx, job, report = () => {}) {
  const { api, pool } = ctx;
  const now = ctx.now || (() => Date.now());
  const pollMs = ctx.pollMs ?? POLL_MS;
  const maxTries = ctx.maxTries ?? MAX_TRIES;
  const base = ctx.backoff ?? BACKOFF_MS;
  const signal = ctx.signal || new AbortController().signal;
  let s = job.session;
  const id = s.uploadId;
  let total = s.sizeBytes;
  const sizeOf = (n) => {
    const r = partRange(s, n);
    return r.end - r.start;
  };

  const meter = createRateMeter();
  let done = 0;
  /** Bytes of the parts in flight, by part number (XMLHttpRequest's upload progress). */
  const inflight = new Map();
  const emit = (retry) => {
    let sent = done;
    for (const b of inflight.values()) sent += b;
    meter.add(now(), sent);
    report({ phase: 'sending', sent, total, etaMs: meter.etaMs(total - sent), retry: retry || null });
  };

  async function sendPart(first, local) {
    let part = first;
    const n = part.partNumber;
    const size = sizeOf(n);
    for (let attempt = 1; ; attempt++) {
      if (local.aborted) throw abortError();
      const { start, end } = partRange(s, n);
      let res;
      try {
        res = await ctx.put(
          part.url,
          job.file.slice(start, end),
          sendableHeaders(part.headers),
          (loaded) => {
            inflight.set(n, Math.min(loaded, size));
            emit();
          },
          local,
        );
      } catch (e) {
        if (isAbort(e) || local.aborted) throw abortError();
        res = { status: 0, body: null };
      } finally {
        inflight.delete(n);
      }
      if (res.status >= 200 && res.status < 300) {
        done += size;
        emit();
        return;
      }
      const error =
        res.status === 0 ? ApiError.network(`Part ${n} got no answer.`) : new ApiError(res.status, res.body);
      const action = partFailure(res.status);
      if (action === 'fail' || attempt >= maxTries) throw error;
      const wait = backoffMs(attempt, base);
      emit({ partNumber: n, attempt, inMs: wait });
      await sleep(wait, local);
      if (action === 'refresh') {
        const fresh = await api.send('POST', routes.sessionParts(id), { partNumbers: [n] });
        part = fresh.parts.find((p) => p.partNumber === n) || part;
      }
    }
  }

  /** Sends `parts`; the first that cannot be sent stops the others, and its error is thrown. */
  async function sendParts(parts) {
    if (!parts.length) return;
    const local = new AbortController();
    const stop = () => local.abort();
    signal.addEventListener('abort', stop, { once: true });
    let failure = null;
    try {
      await Promise.allSettled(
        parts.map((p) =>
          pool
            .run(() => sendPart(p, local.signal))
            .catch((e) => {
              if (!failure && !isAbort(e)) failure = e;
              local.abort();
            }),
        ),
      );
    } finally {
      signal.removeEventListener('abort', stop);
    }
    if (signal.aborted) throw abortError();
    if (failure) throw failure;
  }

  /** A request that waiting can fix (no answer, 429, 5xx) is tried again, `tries` times at most. */
  async function patiently(request, tries) {
    for (let lost = 1; ; lost++) {
      if (signal.aborted) throw abortError();
      try {
        return await request();
      } catch (e) {
        if (isAbort(e) || !(e instanceof ApiError) || !isTransient(e) || lost >= tries) throw e;
        await sleep(e.retryAfter ? e.retryAfter * 1000 : LOST_MS, signal);
      }
    }
  }

  /** Fresh URLs for `numbers` (every part not received when none are named). */
  const freshParts = async (numbers) =>
    (
      await patiently(
        () => api.send('POST', routes.sessionParts(id), numbers ? { partNumbers: numbers } : {}),
        maxTries,
      )
    ).parts;

  let view = null;
  let toSend;
  if (job.resume) {
    view = await patiently(() => api.send('GET', routes.session(id)), maxTries);
    // How the file is cut is batchgate's to say: the page kept only what names the file.
    s = { ...s, sizeBytes: view.sizeBytes, partSize: view.partSize, partCount: view.partCount };
    total = s.sizeBytes;
    if (total !== job.file.size) {
      throw new ApiError(400, {
        error: {
          code: 'size_mismatch',
          message: `The file chosen has ${job.file.size} bytes; the upload session expects ${total}.`,
          details: { declared: total, actual: job.file.size },
        },
      });
    }
    if (view.status === 'pending') {
      const received = new Set(
        (view.receivedParts || []).filter((p) => p.sizeBytes === sizeOf(p.partNumber)).map((p) => p.partNumber),
      );
      const missing = Array.from({ length: s.partCount }, (_, i) => i + 1).filter((n) => !received.has(n));
      // null receivedParts: the store cannot list them, so batchgate picks (every part not received).
      toSend = view.receivedParts ? (missing.length ? await freshParts(missing) : []) : await freshParts(null);
    }
  } else {
    toSend = s.parts;
  }

  if (!view || view.status === 'pending') {
    done = total - toSend.reduce((n, p) => n + sizeOf(p.partNumber), 0);
    // The rate counts only what this page sends: parts received before a reload are no speed.
    meter.add(now(), done);
    emit();
    await sendParts(toSend);
    for (let round = 1; ; round++) {
      try {
        view = await patiently(() => api.send('POST', routes.sessionComplete(id)), maxTries);
        break;
      } catch (e) {
        if (!(e instanceof ApiError) || e.code !== 'upload_incomplete' || round >= MAX_COMPLETE_ROUNDS) throw e;
        const missing = (e.details && e.details.missingParts) || [];
        done = total - missing.reduce((n, m) => n + sizeOf(m), 0);
        emit();
        await sendParts(await freshParts(missing.length ? missing : null));
      }
    }
  }

  while (view.status === 'validating') {
    report({ phase: 'validating', progress: view.progress, sizeBytes: total });
    await sleep(pollMs, signal);
    view = await patiently(() => api.send('GET', routes.session(id)), MAX_LOST);
  }
  if (view.status === 'ready') return { status: 'ready', result: view.result };
  if (view.status === 'failed') return { status: 'failed', error: sessionError(view.error) };
  throw new ApiError(409, {
    error: { code: 'upload_state', message: `The upload session is ${view.status}.`, details: { status: view.status } },
  });
}
