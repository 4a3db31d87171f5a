import type { RefusedFile, SeveralUploadsResponse, UploadAnswer, UploadResponse } from './api-types';
import { ServiceError } from './exit';
import type { ApiClient, BodySource } from './http-client';
import { type LocalFile, multipartBody } from './multipart';
import { type FileOutcome, type UploadStrategy, inRequests, refusalFromEnvelope, verdict } from './upload-outcome';

/**
 * POST /v1/batch/upload: the files of the group parts of one multipart request (as many requests
 * as the plan needs), streamed from disk.
 */
export const directUpload: UploadStrategy = {
  name: 'direct',
  async upload(files, ctx) {
    const { client, progress, fields } = ctx;
    const bars = files.map((f) => progress.file(f.label, f.size));
    const formFields: [string, string][] = [];
    if (fields.schema) formFields.push(['schema', fields.schema]);
    if (fields.format) formFields.push(['format', fields.format]);
    if (fields.encoding) formFields.push(['encoding', fields.encoding]);
    if (fields.path && files.length === 1) formFields.push(['path', fields.path]);
    let answered = 0;
    const send = async (slice: LocalFile[], from: number) => {
      const body = multipartBody(formFields, slice, (i, sent) => {
        bars[from + i].sent(sent);
        if (sent === slice[i].size) bars[from + i].validating();
      });
      const outcomes = await sendDirect(slice, body, client).catch((e: unknown) => {
        for (const bar of bars.slice(from, from + slice.length)) bar.sent(0);
        throw e;
      });
      outcomes.forEach((o, i) => bars[from + i].finish(verdict(o), o.ok));
      answered = from + slice.length;
      return outcomes;
    };
    try {
      return await inRequests(files, ctx, send);
    } catch (e) {
      for (const bar of bars.slice(answered)) bar.finish('not uploaded', false);
      throw e;
    }
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
