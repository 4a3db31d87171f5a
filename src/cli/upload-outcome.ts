import { basename } from 'node:path';
import type { ErrorEnvelope, RefusedFile, SessionView, UploadResponse } from './api-types';
import { ServiceError } from './exit';
import type { ApiClient } from './http-client';
import type { LocalFile } from './multipart';
import type { Progress } from './progress';
import type { SessionStates } from './session-state';
import { plural } from './terminal';

/** The form fields that apply to every file of an upload (API.md, POST /v1/batch/upload). */
export interface UploadFields {
  schema?: string;
  format?: string;
  encoding?: string;
  /** One file: its `path` field. */
  path?: string;
}

/** What became of one file: accepted with its upload body, or refused with the service's reason. */
export type FileOutcome =
  | { file: LocalFile; ok: true; body: UploadResponse }
  | { file: LocalFile; ok: false; refusal: Omit<RefusedFile, 'index'> };

/** How files are sent: `--session`, `--direct`, or by size. */
export type UploadMode = 'auto' | 'session' | 'direct';

export interface SessionOptions {
  /** Parts in flight at once, per file (`--parallel`). */
  parallel: number;
  /** `--resume`: pick up the interrupted session of a file, sending only what did not arrive. */
  resume: boolean;
  /** Read the file once for its sha256 and declare it (`--no-checksum` skips). */
  checksum: boolean;
  states: SessionStates;
}

export interface UploadContext {
  client: ApiClient;
  progress: Progress;
  fields: UploadFields;
  /** Ctrl-C. */
  signal: AbortSignal;
  mode: UploadMode;
  /** Files over this many bytes go through an upload session in `auto` mode. */
  thresholdBytes: number;
  sessions: SessionOptions;
  /** What the service told this command about its plan: how many files one request may hold. */
  limits: { filesPerRequest?: number };
}

/**
 * How a group of files reaches the service. `direct`: POST /v1/batch/upload, every file of the
 * group a part of one multipart request. `session`: POST /v1/uploads, the parts PUT to their signed
 * URLs in parallel, complete, validation followed with GET /v1/uploads/{id} (API.md "Upload
 * sessions"). Both end in the same outcome: the direct upload's body, or the refusal.
 */
export interface UploadStrategy {
  readonly name: 'direct' | 'session';
  upload(files: LocalFile[], ctx: UploadContext): Promise<FileOutcome[]>;
}

export function refusalFromEnvelope(
  file: LocalFile,
  status: number,
  envelope: ErrorEnvelope | null,
  sentence: string,
): FileOutcome {
  return {
    file,
    ok: false as const,
    refusal: {
      originalFileName: basename(file.name),
      path: null,
      status,
      error: envelope?.error ?? { code: 'internal_error' as const, message: sentence },
      validationErrors: envelope?.validationErrors ?? [],
    },
  };
}

/** A session that ended: `result` is the direct upload's body, `error` what it would have refused with. */
export function outcomeOfSession(file: LocalFile, view: SessionView): FileOutcome | undefined {
  if (view.status === 'ready' && view.result) {
    // API.md: "`result` is the body POST /v1/batch/upload answers with 200".
    return { file, ok: true, body: view.result as unknown as UploadResponse };
  }
  if (view.status === 'failed' && view.error) {
    const e = view.error;
    return {
      file,
      ok: false,
      refusal: {
        originalFileName: basename(file.name),
        path: view.path,
        status: e.status,
        error: e.error,
        validationErrors: e.validationErrors,
      },
    };
  }
  return undefined;
}

/** A file's last progress line. */
export function verdict(o: FileOutcome): string {
  if (!o.ok) return `refused (${o.refusal.status} ${o.refusal.error.code})`;
  return `${plural(o.body.itemCount, 'item')}, ${plural(o.body.validationErrorCount, 'row')} skipped`;
}

/**
 * How many files a request may hold, when the service refused one of `n` files as a whole: the
 * plan's maxFilesPerRequest (400 with `details: { limit, max }`), or 1 for a 413 that names no file
 * (API.md "Several files": the files together were past maxFileBytes × maxFilesPerRequest, which
 * says nothing of each one). Undefined: a refusal that sending fewer files would not change.
 */
function fewerFilesFor(e: unknown, n: number): { max: number; why: string } | undefined {
  if (!(e instanceof ServiceError) || n < 2) return undefined;
  const d = e.envelope?.error.details;
  if (e.status === 400 && d?.limit === 'maxFilesPerRequest' && typeof d.max === 'number' && d.max >= 1 && d.max < n) {
    return { max: d.max, why: `the plan allows ${plural(d.max, 'file')} per request` };
  }
  if (e.status === 413 && !Array.isArray(d?.files))
    return { max: 1, why: 'the files are too large for one request together' };
  return undefined;
}

/**
 * `send` on consecutive slices of `files`, one request each: all of them at once until the service
 * refuses a request for holding too many (see fewerFilesFor), then slices of the size it allows,
 * for the rest of the command. The refused request created nothing, so its slice is sent again.
 */
export async function inRequests<R>(
  files: LocalFile[],
  ctx: Pick<UploadContext, 'limits' | 'progress'>,
  send: (slice: LocalFile[], from: number) => Promise<R[]>,
): Promise<R[]> {
  const out: R[] = [];
  for (let from = 0; from < files.length;) {
    const n = Math.min(ctx.limits.filesPerRequest ?? files.length, files.length - from);
    try {
      out.push(...(await send(files.slice(from, from + n), from)));
      from += n;
    } catch (e) {
      const fewer = fewerFilesFor(e, n);
      if (!fewer) throw e;
      ctx.limits.filesPerRequest = fewer.max;
      const left = files.length - from;
      ctx.progress.note(`batchgate: ${fewer.why}; sending ${left} in ${Math.ceil(left / fewer.max)} requests`);
    }
  }
  return out;
}
