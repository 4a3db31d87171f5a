import { directUpload } from './direct-upload';
import { CliExit, EXIT, ServiceError } from './exit';
import type { LocalFile } from './multipart';
import { sessionUpload } from './session-upload';
import type { FileOutcome, UploadContext, UploadMode, UploadStrategy } from './upload-outcome';

export type { FileOutcome, UploadContext, UploadFields, UploadMode, UploadStrategy } from './upload-outcome';

/**
 * Groups of files and the strategy for each. A file goes through an upload session with
 * `--session`, when it is over the threshold, or when `--resume` found an interrupted session of
 * it; never with `--direct`; an empty file never does (a session has no part to send). The rest
 * share one direct request. Sessions go first: a direct upload's fileId lives an hour from its
 * answer, so the small files are sent last, once the large ones (which may take long) are in.
 */
export function planUploads(
  files: LocalFile[],
  how: { mode: UploadMode; thresholdBytes: number; resumable?: ReadonlySet<LocalFile> },
): { strategy: UploadStrategy; files: LocalFile[] }[] {
  const bySession = (f: LocalFile) =>
    how.mode !== 'direct' &&
    f.size > 0 &&
    (how.mode === 'session' || f.size > how.thresholdBytes || how.resumable?.has(f) === true);
  const sessions = files.filter(bySession);
  const direct = files.filter((f) => !bySession(f));
  return [
    ...(sessions.length ? [{ strategy: sessionUpload, files: sessions }] : []),
    ...(direct.length ? [{ strategy: directUpload, files: direct }] : []),
  ];
}

/**
 * Every group uploaded in turn; the outcomes in the order of `files`. Ctrl-C in a later group
 * discards what the earlier ones uploaded (nothing was reported yet): the command leaves nothing.
 */
export async function uploadFiles(files: LocalFile[], ctx: UploadContext): Promise<FileOutcome[]> {
  const resumable = new Set<LocalFile>();
  if (ctx.sessions.resume) {
    for (const f of files) if (await ctx.sessions.states.find(f.path)) resumable.add(f);
  }
  // With several files, each file's name carries the path (API.md "Several files"): no `path` field.
  const fields = files.length > 1 ? { ...ctx.fields, path: undefined } : ctx.fields;
  const outcomes = new Map<LocalFile, FileOutcome>();
  try {
    for (const group of planUploads(files, { mode: ctx.mode, thresholdBytes: ctx.thresholdBytes, resumable })) {
      for (const outcome of await group.strategy.upload(group.files, { ...ctx, fields }))
        outcomes.set(outcome.file, outcome);
    }
  } catch (e) {
    if (e instanceof CliExit && e.code === EXIT.interrupted) await discardUploaded([...outcomes.values()], ctx);
    throw e;
  }
  return files.map((f) => outcomes.get(f)!);
}

async function discardUploaded(outcomes: FileOutcome[], ctx: UploadContext): Promise<void> {
  const client = ctx.client.detached(10_000);
  for (const o of outcomes) {
    if (!o.ok) continue;
    try {
      await client.json('DELETE', `/v1/batch/upload/${encodeURIComponent(o.body.fileId)}`, { idempotent: true });
    } catch (e) {
      if (!(e instanceof CliExit) || e instanceof ServiceError) continue;
      ctx.progress.note(`batchgate: could not discard ${o.body.fileId}: ${e.message}`);
    }
  }
}
