/*
 * The page's upload sessions (issue 13): POST /v1/uploads for the files that go that way, one card
 * and one runner (session-runner.js) per session, every part through one pool of 4, each session
 * kept in localStorage (resume.js) until it ends, and Cancel as DELETE of every session started.
 * Each file ends as an outcome `{ index, result }` or `{ index, name, path, error }`, as direct
 * uploads do, so main.js shows either kind with the same summary or cards.
 */
import { routes, toApiError } from './api.js';
import { addPending, recordOf, removePending } from './resume.js';
import { PARALLEL_PARTS, pairCreated, sessionBody } from './session-plan.js';
import { renderTransfers } from './session-render.js';
import { createPool, isAbort, runSession } from './session-runner.js';
import { filePath } from './several.js';
import { xhrPut } from './transfer.js';

function abortError() {
  return new DOMException('The upload was cancelled.', 'AbortError');
}

const pathOf = (file) => (filePath(file) === file.name ? null : filePath(file));

/** `api` is api.js's client; `storage` keeps what a reload needs to resume (localStorage). */
export function createSessionUploads({ api, storage }) {
  const pool = createPool(PARALLEL_PARTS);
  /** The files this page still holds, by uploadId: a failed transfer can be tried again without picking them. */
  const held = new Map();

  /** Cancel: every session started is deleted (its parts with it); what is already gone is no matter. */
  async function discard(ids) {
    await Promise.all(ids.map((id) => api.send('DELETE', routes.session(id)).catch(() => undefined)));
    for (const id of ids) {
      removePending(storage, id);
      held.delete(id);
    }
  }

  async function run(jobs, signal) {
    const cards = renderTransfers(
      jobs.map((j) => ({ key: j.session.uploadId, name: filePath(j.file), size: j.file.size })),
    );
    const settled = await Promise.allSettled(
      jobs.map(async (j) => {
        const id = j.session.uploadId;
        const card = cards.get(id);
        const named = { index: j.index, name: j.file.name, path: pathOf(j.file) };
        held.set(id, j.file);
        try {
          const end = await runSession({ api, put: xhrPut, pool, signal }, j, (r) => card.update(r));
          removePending(storage, id);
          held.delete(id);
          if (end.status === 'ready') {
            card.end('Checked', 'completed');
            return { index: j.index, result: end.result };
          }
          card.end('Refused', 'failed', end.error);
          return { ...named, error: end.error };
        } catch (e) {
          if (isAbort(e)) throw e;
          const error = toApiError(e);
          // Gone for good (cancelled elsewhere, expired): nothing left to resume.
          if (error.code === 'upload_not_found' || error.code === 'upload_expired') {
            removePending(storage, id);
            held.delete(id);
          }
          card.end('Stopped', 'failed', error);
          return { ...named, error };
        }
      }),
    );
    if (signal.aborted) {
      await discard(jobs.map((j) => j.session.uploadId));
      throw abortError();
    }
    return settled.map((s) => (s.status === 'fulfilled' ? s.value : { index: -1, error: toApiError(s.reason) }));
  }

  return {
    /**
     * Starts a session for each of `items` (`{ file, index }`) with the form's `options`, and runs
     * them all to their end. Files refused before any URL was signed end at once.
     */
    async start(items, options, signal) {
      if (!items.length) return [];
      let answer = null;
      let error = null;
      try {
        answer = await api.send(
          'POST',
          routes.sessions,
          sessionBody(
            items.map((i) => i.file),
            options,
          ),
        );
      } catch (e) {
        error = toApiError(e);
      }
      const { started, refused } = pairCreated(items, answer, error);
      for (const s of started) addPending(storage, recordOf(s.file, s.created));
      if (signal.aborted) {
        await discard(started.map((s) => s.created.uploadId));
        throw abortError();
      }
      const jobs = started.map((s) => ({ file: s.file, index: s.index, session: s.created, resume: false }));
      return [...refused, ...(await run(jobs, signal))];
    },

    /** Resumes each `{ record, file }` (resume.js matchFiles): batchgate says what arrived, the rest is sent. */
    resume(pairs, signal) {
      const jobs = pairs.map((p, index) => ({
        file: p.file,
        index,
        session: { uploadId: p.record.uploadId },
        resume: true,
      }));
      return run(jobs, signal);
    },

    /** The pending records whose file this page still holds (a transfer that stopped), as matchFiles pairs. */
    heldPairs(records) {
      return records.filter((r) => held.has(r.uploadId)).map((r) => ({ record: r, file: held.get(r.uploadId) }));
    },

    /** Deletes these sessions and forgets them (the Discard of the resume offer). */
    discard(records) {
      return discard(records.map((r) => r.uploadId));
    },
  };
}
