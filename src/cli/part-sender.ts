import { createReadStream } from 'node:fs';
import type { ErrorEnvelope, FreshPartUrls, SignedPartUrl } from './api-types';
import { CliExit, EXIT, ServiceError, UnreachableError } from './exit';
import {
  type ApiClient,
  type BodySource,
  RETRY_AFTER_CAP_MS,
  causeOf,
  retryAfterMs,
  streamedRequest,
} from './http-client';

/** The parts of one file to PUT, and where the bytes go as they are sent. */
export interface PartsJob {
  uploadId: string;
  /** The file on disk, and its name for people. */
  path: string;
  label: string;
  partSize: number;
  parts: SignedPartUrl[];
  parallel: number;
  client: ApiClient;
  /** Ctrl-C. */
  signal: AbortSignal;
  /** Bytes handed to the network (negative: a try that failed, whose bytes go again). */
  onBytes: (delta: number) => void;
  note: (line: string) => void;
}

/** A 403 on a part URL: fresh URLs are asked this many times per part before it counts as refused. */
const FRESH_URL_TRIES = 2;
const READ_CHUNK = 256 * 1024;

const interrupted = () => new CliExit(EXIT.interrupted, 'Interrupted.');

/** Waits `ms`, or less when `signal` fires (and then resolves too: the caller looks at the signal). */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** The service's envelope (the local driver's part route), or the object store's XML <Message>. */
function partRefusal(status: number, text: string, what: string): ServiceError {
  let envelope: ErrorEnvelope | null = null;
  try {
    const parsed = JSON.parse(text) as ErrorEnvelope;
    if (typeof parsed?.error?.message === 'string') envelope = parsed;
  } catch {
    envelope = null;
  }
  const xml = /<Message>([^<]*)<\/Message>/.exec(text)?.[1];
  const sentence = envelope?.error.message ?? xml ?? (text.slice(0, 200) || `HTTP ${status}`);
  return new ServiceError(status, envelope, `${what}: ${sentence}`);
}

/**
 * Sends the parts `parallel` at a time, each read from disk with a range (never more than a chunk of
 * it in memory: the socket's backpressure paces the reads) and PUT with exactly the listed headers
 * and no Authorization (the URL is the credential: the object store's presigned URL, or batchgate's
 * own signed route). A part is sent again after a network error, a 5xx, 408 or 429 (with backoff, or
 * the Retry-After given), with fresh URLs after a 403 (an expired URL). Resolves when every part
 * arrived; throws UnreachableError when a part ran out of tries, ServiceError when one was refused,
 * CliExit(130) on Ctrl-C. The first failure stops the other parts.
 */
export async function sendParts(job: PartsJob): Promise<void> {
  const queue = [...job.parts];
  const stop = new AbortController();
  const signal = AbortSignal.any([job.signal, stop.signal]);
  let first: Error | undefined;
  const worker = async () => {
    for (let part = queue.shift(); part && !signal.aborted; part = queue.shift()) {
      try {
        await sendPart(job, part, signal);
      } catch (e) {
        first ??= e instanceof Error ? e : new Error(String(e));
        stop.abort();
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(job.parallel, queue.length) }, worker));
  if (job.signal.aborted) throw interrupted();
  if (first) throw first;
}

async function freshUrl(job: PartsJob, partNumber: number): Promise<SignedPartUrl> {
  const { body } = await job.client.json<FreshPartUrls>(
    'POST',
    `/v1/uploads/${encodeURIComponent(job.uploadId)}/parts`,
    {
      json: { partNumbers: [partNumber] },
      idempotent: true,
    },
  );
  const part = body.parts.find((p) => p.partNumber === partNumber);
  if (!part) throw new UnreachableError(`The service gave no new URL for part ${partNumber} of ${job.label}.`);
  return part;
}

async function sendPart(job: PartsJob, given: SignedPartUrl, signal: AbortSignal): Promise<void> {
  const { client } = job;
  const tries = client.config.retries + 1;
  const what = `part ${given.partNumber} of ${job.label}`;
  const start = (given.partNumber - 1) * job.partSize;
  let part = given;
  let freshAsked = 0;
  for (let attempt = 1; ; attempt++) {
    if (signal.aborted) throw interrupted();
    let counted = 0;
    let over = false;
    const body: BodySource = {
      contentType: 'application/octet-stream',
      length: part.sizeBytes,
      async *chunks() {
        const stream = createReadStream(job.path, {
          start,
          end: start + part.sizeBytes - 1,
          highWaterMark: READ_CHUNK,
        }) as AsyncIterable<Buffer> & { destroy(): void };
        try {
          for await (const chunk of stream) {
            // Once the try is over (answered early, or failed), its late chunks are not counted.
            if (over) return;
            counted += chunk.length;
            job.onBytes(chunk.length);
            yield chunk;
          }
        } finally {
          stream.destroy();
        }
        if (counted !== part.sizeBytes) {
          throw new CliExit(EXIT.usage, `${job.label} changed while it was being sent (${what} is short).`);
        }
      },
    };
    let failure: string;
    let waitMs: number | undefined;
    try {
      const res = await streamedRequest(
        'PUT',
        part.url,
        { ...part.headers, 'Content-Length': String(part.sizeBytes) },
        body,
        signal,
        client.config.timeoutMs,
      );
      over = true;
      const text = await res.text().catch(() => '');
      if (res.ok) return;
      job.onBytes(-counted);
      if (res.status === 403 && freshAsked < FRESH_URL_TRIES) {
        freshAsked++;
        job.note(`batchgate: ${what}: 403 (URL expired?); asking for a new URL`);
        part = await freshUrl(job, part.partNumber);
        attempt--; // a new URL is not a retry of the same one
        continue;
      }
      if (!(res.status >= 500 || res.status === 408 || res.status === 429)) throw partRefusal(res.status, text, what);
      failure = `${res.status} ${text.slice(0, 120).replace(/\s+/g, ' ')}`.trim();
      waitMs = retryAfterMs(res.headers.get('retry-after'));
    } catch (e) {
      over = true;
      if (job.signal.aborted) throw interrupted();
      if (signal.aborted) throw e; // another part failed: that failure is the one reported
      if (e instanceof CliExit) throw e;
      const inner = (e as { cause?: unknown }).cause;
      if (inner instanceof CliExit) throw inner; // the file changed while it was read
      job.onBytes(-counted);
      failure = causeOf(e).message;
    }
    if (attempt >= tries) throw new UnreachableError(`${what}: ${failure} (${tries} tries).`);
    const ms = Math.min(RETRY_AFTER_CAP_MS, waitMs ?? client.backoff(attempt));
    job.note(
      `batchgate: ${what}: ${failure}; sending it again in ${(ms / 1000).toFixed(1)} s (${attempt} of ${tries - 1})`,
    );
    await sleep(ms, signal);
  }
}
