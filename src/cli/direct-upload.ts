import type { RefusedFile, SeveralUploadsResponse, UploadAnswer, UploadResponse } from './api-types';
import { ServiceError } from './exit';
import type { ApiClient, BodySource } from './http-client';
import { type LocalFile, multipartBody } from './multipart';
import { type FileOutcome, type UploadStrategy, refusalFromEnvelope, verdict } from './upload-outcome';

/** POST /v1/batch/upload: every file of the group a part of one multipart request, streamed from disk. */
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
