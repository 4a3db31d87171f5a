/*
 * Following one batch until it ends: GET /v1/batch/{id} every second, slower while batchgate cannot
 * be reached, stopping at a finished status or at an error that waiting will not fix. No DOM: the
 * request and what to do with each answer are injected, so the unit specs drive it under Node with
 * jest's fake timers (follow.spec.ts).
 */
import { isTransient } from './api.js';
import { isFinished } from './format.js';

export const POLL_MS = 1000;
/** The wait after a transient failure that names none (no Retry-After). */
export const RETRY_MS = 3000;

/**
 * `fetchBatch(id)` resolves to a batch; `onBatch(batch, statusChanged)` is told each answer,
 * `onLost(error)` each transient failure (following goes on), `onError(error)` the failure that ends
 * it, `onFinished(batch)` the answer with a finished status. Only the batch followed last is reported.
 */
export function createFollower({ fetchBatch, onBatch, onLost, onError, onFinished, pollMs = POLL_MS }) {
  let current = null;
  let timer = null;
  let lastStatus = null;

  async function poll(id) {
    if (current !== id) return;
    let next = pollMs;
    try {
      const batch = await fetchBatch(id);
      if (current !== id) return;
      const changed = batch.status !== lastStatus;
      lastStatus = batch.status;
      onBatch(batch, changed);
      if (isFinished(batch.status)) {
        timer = null;
        onFinished(batch);
        return;
      }
    } catch (e) {
      if (current !== id) return;
      if (!isTransient(e)) {
        timer = null;
        onError(e);
        return;
      }
      next = e.retryAfter ? e.retryAfter * 1000 : RETRY_MS;
      onLost(e);
    }
    timer = setTimeout(() => void poll(id), next);
  }

  return {
    /** The batch being followed, or null. */
    get id() {
      return current;
    },

    /** Starts following `id` (after `initial`, a batch already in hand, when given), dropping any other. */
    follow(id, initial) {
      this.stop();
      current = id;
      if (initial) {
        lastStatus = initial.status;
        onBatch(initial, true);
      }
      void poll(id);
    },

    stop() {
      clearTimeout(timer);
      timer = null;
      current = null;
      lastStatus = null;
    },
  };
}
