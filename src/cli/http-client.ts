import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ErrorEnvelope } from './api-types';
import type { ClientConfig } from './config';
import { CliExit, EXIT, ServiceError, UnreachableError, UsageError } from './exit';

/** A request body made afresh for every try (an upload's file is read again from disk). */
export interface BodySource {
  contentType: string;
  length: number;
  chunks(): AsyncIterable<Uint8Array>;
}

export interface RequestOptions {
  /** JSON to send, or a streamed body. */
  json?: unknown;
  body?: BodySource;
  headers?: Record<string, string>;
  /**
   * May this request be sent again after it may have reached the service (a connection reset
   * mid-way, a timeout, a 502/504)? GETs, DELETEs and creates with an Idempotency-Key may. Any
   * request is sent again when it surely did nothing: the connection was refused, or the service
   * answered 429, 503 or 409 idempotency_conflict (each with Retry-After).
   */
  idempotent: boolean;
  /** No timeout: an upload's answer comes after the whole file has been sent. */
  noTimeout?: boolean;
  accept?: string;
}

export interface Answer<T> {
  status: number;
  body: T;
  headers: Headers;
}

/** Errors from before the request could have reached the service. */
const NOT_SENT = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
]);
export const RETRY_AFTER_CAP_MS = 120_000;
const BACKOFF_CAP_MS = 30_000;

export function causeOf(e: unknown): { code?: string; message: string } {
  const err = e as { cause?: { code?: string; message?: string }; code?: string; message?: string; name?: string };
  if (err?.name === 'TimeoutError') return { code: 'TIMEOUT', message: 'no answer in time' };
  // fetch wraps the socket's error in `cause`; node:http gives it as it is.
  const cause = err?.cause ?? err;
  return { code: cause?.code, message: cause?.message || err?.message || String(e) };
}

/**
 * A request with a streamed body, over node:http(s) rather than fetch: Node 20's fetch tees a
 * stream body (to replay it on a redirect) and so keeps every chunk sent in memory, the whole file
 * by the end (nodejs/undici#4058). Here the file is read as fast as the socket takes it, and no
 * further. The answer comes back as a fetch Response, so callers read it alike. An answer that
 * arrives before the body is all sent (a refusal) is the answer, whatever happens to the rest.
 */
export function streamedRequest(
  method: string,
  url: string,
  headers: Record<string, string>,
  body: BodySource,
  signal: AbortSignal,
  idleTimeoutMs?: number,
): Promise<Response> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const req = (target.protocol === 'https:' ? httpsRequest : httpRequest)(target, { method, headers, signal });
    // A socket that neither takes bytes nor answers for this long is given up (a part is then sent again).
    if (idleTimeoutMs) {
      req.setTimeout(idleTimeoutMs, () =>
        req.destroy(Object.assign(new Error(`no progress for ${idleTimeoutMs / 1000} s`), { code: 'TIMEOUT' })),
      );
    }
    let settled = false;
    const fail = (e: unknown) => {
      if (settled) return;
      settled = true;
      reject(e instanceof Error ? e : new Error(String(e)));
    };
    req.on('response', (res) => {
      if (settled) return;
      settled = true;
      const answerHeaders = new Headers();
      for (const [k, v] of Object.entries(res.headers)) {
        if (v !== undefined) answerHeaders.set(k, Array.isArray(v) ? v.join(', ') : v);
      }
      const status = res.statusCode ?? 502;
      const stream = status === 204 || status === 304 ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>);
      resolve(new Response(stream, { status, headers: answerHeaders }));
    });
    req.on('error', fail);
    pipeline(Readable.from(body.chunks()), req).catch((e: unknown) => {
      // The body's own failure (CliExit) or the socket's; after an answer, neither matters.
      if (!settled) req.destroy();
      fail(e);
    });
  });
}

/** Retry-After in seconds or as an HTTP date (RFC 9110), in ms; undefined when absent or unreadable. */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (!header) return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * The service's HTTP API over Node's fetch (undici), with Bearer authentication and retries:
 * exponential backoff from `retryDelayMs`, or the Retry-After the service sent.
 */
export class ApiClient {
  constructor(
    readonly config: ClientConfig,
    private readonly signal: AbortSignal,
    private readonly notice: (line: string) => void,
  ) {
    this.credential(); // no API key: a usage error before anything starts
  }

  get baseUrl(): string {
    return this.config.url;
  }

  /**
   * The same service with a signal of its own that ends after `ms`: what a command uses to clean up
   * (cancel its upload sessions) once Ctrl-C has aborted this client's signal. One retry at most.
   */
  detached(ms: number): ApiClient {
    return new ApiClient(
      { ...this.config, retries: Math.min(1, this.config.retries) },
      AbortSignal.timeout(ms),
      () => {},
    );
  }

  private credential(): string {
    const key = this.config.apiKey;
    if (!key) {
      throw new UsageError(
        `No API key: pass --api-key, set BATCHGATE_API_KEY, or put "apiKey" in ${this.config.configFile}.`,
      );
    }
    return key;
  }

  /** Waits `ms`; Ctrl-C ends the wait with CliExit(130). */
  delay(ms: number): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.signal.aborted) return reject(new CliExit(EXIT.interrupted, 'Interrupted.'));
      const onAbort = () => {
        clearTimeout(timer);
        reject(new CliExit(EXIT.interrupted, 'Interrupted.'));
      };
      const timer = setTimeout(() => {
        this.signal.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      this.signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** The wait before try `attempt + 1`: retryDelayMs doubled each time, capped, with ±20 % jitter. */
  backoff(attempt: number): number {
    const base = Math.min(BACKOFF_CAP_MS, this.config.retryDelayMs * 2 ** (attempt - 1));
    return Math.round(base * (0.8 + Math.random() * 0.4));
  }

  /** The raw response of a 2xx answer (bodies to stream: results, CSV); errors as for `json`. */
  async send(method: string, path: string, opts: RequestOptions): Promise<Response> {
    const url = `${this.config.url}${path}`;
    const tries = this.config.retries + 1;
    for (let attempt = 1; ; attempt++) {
      const headers: Record<string, string> = {
        Authorization: `Bearer ${this.credential()}`,
        Accept: opts.accept ?? 'application/json',
        'User-Agent': 'batchgate-cli',
        ...opts.headers,
      };
      let body: string | undefined;
      if (opts.json !== undefined) {
        headers['Content-Type'] = 'application/json';
        body = JSON.stringify(opts.json);
      } else if (opts.body) {
        headers['Content-Type'] = opts.body.contentType;
        headers['Content-Length'] = String(opts.body.length);
      }
      const signals = [this.signal];
      if (!opts.noTimeout) signals.push(AbortSignal.timeout(this.config.timeoutMs));
      let res: Response;
      try {
        res = opts.body
          ? await streamedRequest(method, url, headers, opts.body, this.signal)
          : await fetch(url, { method, headers, body, signal: AbortSignal.any(signals) });
      } catch (e) {
        if (this.signal.aborted) throw new CliExit(EXIT.interrupted, 'Interrupted.');
        if (e instanceof CliExit) throw e;
        // The body's own failure (a file that changed or went away while it was read): not the network's.
        const inner = (e as { cause?: unknown }).cause;
        if (inner instanceof CliExit) throw inner;
        const cause = causeOf(e);
        const retryable = (cause.code !== undefined && NOT_SENT.has(cause.code)) || opts.idempotent;
        const what = `${method} ${url}: ${cause.message}`;
        if (!retryable) throw new UnreachableError(`${what} (not retried: the request may have reached the service).`);
        if (attempt >= tries)
          throw new UnreachableError(`Cannot reach ${this.config.url}: ${cause.message} (${tries} tries).`);
        const wait = this.backoff(attempt);
        this.notice(
          `batchgate: ${cause.message}; retrying in ${(wait / 1000).toFixed(1)} s (${attempt} of ${tries - 1})`,
        );
        await this.delay(wait);
        continue;
      }
      if (res.ok) return res;

      const text = await res.text().catch(() => '');
      let envelope: ErrorEnvelope | null = null;
      try {
        const parsed = JSON.parse(text) as ErrorEnvelope;
        if (parsed && typeof parsed.error?.message === 'string') envelope = parsed;
      } catch {
        envelope = null;
      }
      const sentence = envelope?.error.message ?? `HTTP ${res.status}${text ? `: ${text.slice(0, 200)}` : ''}`;
      const surelyNothingDone =
        res.status === 429 || res.status === 503 || envelope?.error.code === 'idempotency_conflict';
      const retryable = surelyNothingDone || ((res.status === 502 || res.status === 504) && opts.idempotent);
      if (!retryable) throw new ServiceError(res.status, envelope, sentence);
      if (attempt >= tries) {
        // 429 and a conflict are the service's answer; a 5xx is a service that is not there.
        if (res.status === 429 || res.status === 409) throw new ServiceError(res.status, envelope, sentence);
        throw new UnreachableError(`${this.config.url} answered ${res.status} (${sentence}) ${tries} times.`);
      }
      const wait = Math.min(RETRY_AFTER_CAP_MS, retryAfterMs(res.headers.get('retry-after')) ?? this.backoff(attempt));
      this.notice(
        `batchgate: ${res.status} ${sentence} Retrying in ${(wait / 1000).toFixed(1)} s (${attempt} of ${tries - 1})`,
      );
      await this.delay(wait);
    }
  }

  /** A JSON answer (204: undefined). */
  async json<T>(method: string, path: string, opts: RequestOptions): Promise<Answer<T>> {
    const res = await this.send(method, path, opts);
    const text = await res.text();
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      throw new UnreachableError(`${method} ${path} answered ${res.status} with a body that is not JSON.`);
    }
    return { status: res.status, body: body as T, headers: res.headers };
  }

  get<T>(path: string): Promise<Answer<T>> {
    return this.json<T>('GET', path, { idempotent: true });
  }
}
