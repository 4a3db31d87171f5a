import type { ErrorEnvelope, RefusedFile, SeveralUploadsResponse, UploadAnswer, UploadResponse } from './api-types';
import { ServiceError } from './exit';
import type { ApiClient, BodySource } from './http-client';
import { type LocalFile, multipartBody } from './multipart';
import type { Progress } from './progress';
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

export interface UploadContext {
  client: ApiClient;
  progress: Progress;
  fields: UploadFields;
}

/**
 * How a group of files reaches the service. `direct`: POST /v1/batch/upload, every file of the
 * group a part of one multipart request. A `session` strategy (POST /v1/uploads, signed part URLs
 * sent in parallel, complete, validation progress from GET /v1/uploads/{id}; API.md "Upload
 * sessions") plugs in here for large files: `planUploads` is where files are split by size.
 */
export interface UploadStrategy {
  readonly name: 'direct' | 'session';
  upload(files: LocalFile[], ctx: UploadContext): Promise<FileOutcome[]>;
}

function refusalFromEnvelope(file: LocalFile, status: number, envelope: ErrorEnvelope | null, sentence: string) {
  return {
    file,
    ok: false as const,
    refusal: {
      originalFileName: file.name,
      path: null,
      status,
      error: envelope?.error ?? { code: 'internal_error' as const, message: sentence },
      validationErrors: envelope?.validationErrors ?? [],
    },
  };
}

/** A file's last progress line. */
function verdict(o: FileOutcome): string {
  if (!o.ok) return `refused (${o.refusal.status} ${o.refusal.error.code})`;
  return `${plural(o.body.itemCount, 'item')}, ${plural(o.body.validationErrorCount, 'row')} skipped`;
}

export const directUpload: UploadStrategy = {
  name: 'direct',
  async upload(files, { client, progress, fields }) {
    const bars = files.map((f) => progress.file(f.label, f.size));
    const formFields: [string, string][] = [];
    if (fields.schema) formFields.push(['schema', fields.schema]);
    if (fields.format) formFields.push(['format', fields.format]);
    if (fields.encoding) formFields.push(['encoding', fields.encoding]);
    if (fields.path && files.length === 1) formFields.push(['path', fields.path]);
    const body = multipartBody(formFields, files, (i, sent) => {
      bars[i].sent(sent);
      if (sent === files[i].size) bars[i].validating();
    });
    const outcomes = await sendDirect(files, body, client).catch((e: unknown) => {
      for (const bar of bars) bar.finish('not uploaded', false);
      throw e;
    });
    outcomes.forEach((o, i) => bars[i].finish(verdict(o), o.ok));
    return outcomes;
  },
};

/** One multipart request; its answer (or refusal) as one outcome per file. */
async function sendDirect(files: LocalFile[], body: BodySource, client: ApiClient): Promise<FileOutcome[]> {
  let answer: UploadAnswer;
  try {
    answer = (await client.json<UploadAnswer>('POST', '/v1/batch/upload', { body, idempotent: false, noTimeout: true }))
      .body;
  } catch (e) {
    if (!(e instanceof ServiceError)) throw e;
    const listed = e.envelope?.error.details?.files;
    // One file: its refusal is the answer. Several, all refused: the list is in details.files.
    if (files.length === 1 && e.envelope) return [refusalFromEnvelope(files[0], e.status, e.envelope, e.message)];
    if (Array.isArray(listed)) {
      const refused = listed as RefusedFile[];
      return files.map((file, i) => {
        const r = refused.find((x) => x.index === i);
        return r
          ? { file, ok: false as const, refusal: r }
          : refusalFromEnvelope(file, e.status, e.envelope, e.message);
      });
    }
    throw e; // the request as a whole was refused (401, 402, too many files...)
  }
  if (files.length === 1) return [{ file: files[0], ok: true, body: answer as UploadResponse }];
  const several = answer as SeveralUploadsResponse;
  return files.map((file, i) => {
    const accepted = several.files.find((x) => x.index === i);
    if (accepted) {
      const { index: _index, ...body } = accepted;
      return { file, ok: true as const, body };
    }
    const refused = several.errors.find((x) => x.index === i);
    if (!refused) throw new Error(`The service's answer has no entry for file ${i} (${file.label}).`);
    return { file, ok: false as const, refusal: refused };
  });
}

/**
 * Groups of files and the strategy for each, in command-line order. Today every file goes direct,
 * all in one request; with upload sessions, files over a size threshold will be given a group of
 * their own with the session strategy (and the small ones keep sharing one direct request).
 */
export function planUploads(files: LocalFile[]): { strategy: UploadStrategy; files: LocalFile[] }[] {
  return files.length ? [{ strategy: directUpload, files }] : [];
}

/** Every group uploaded in turn; the outcomes in the order of `files`. */
export async function uploadFiles(files: LocalFile[], ctx: UploadContext): Promise<FileOutcome[]> {
  const outcomes = new Map<LocalFile, FileOutcome>();
  for (const group of planUploads(files)) {
    for (const outcome of await group.strategy.upload(group.files, ctx)) outcomes.set(outcome.file, outcome);
  }
  return files.map((f) => outcomes.get(f)!);
}
