import { createWriteStream } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { RowErrorPage, UploadPreview, UploadView } from '../api-types';
import type { Ctx } from '../context';
import { CliExit, EXIT, UsageError } from '../exit';
import { contentTypeOf, type LocalFile } from '../multipart';
import { renderOutcome, renderUploadView, warningsTable } from '../render';
import { plural, table } from '../terminal';
import { parseSize } from '../config';
import { SessionStates, stateDir } from '../session-state';
import { type FileOutcome, type UploadContext, type UploadFields, uploadFiles } from '../upload-strategy';

export interface UploadFlags extends UploadFields {
  errorsCsv?: string;
  failOnWarnings?: boolean;
  warnings?: string;
  session?: boolean;
  direct?: boolean;
  sessionThreshold?: string;
  parallel?: string;
  resume?: boolean;
  /** `--no-checksum`: false. */
  checksum?: boolean;
}

/** The files named on the command line, checked before a byte is sent. */
export async function localFiles(paths: string[], pathFlag: string | undefined): Promise<LocalFile[]> {
  if (!paths.length) throw new UsageError('Name at least one file to upload.');
  const files: LocalFile[] = [];
  for (const p of paths) {
    let s;
    try {
      s = await stat(p);
    } catch (e) {
      throw new UsageError(
        `${p}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}.`,
      );
    }
    if (!s.isFile()) throw new UsageError(`${p} is not a file.`);
    const base = basename(p);
    // Several files: --path is the folder they go under, sent as each part's filename (API.md).
    const name = pathFlag && paths.length > 1 ? `${pathFlag.replace(/\/+$/, '')}/${base}` : base;
    files.push({ path: p, name, label: p, size: s.size, mtimeMs: s.mtimeMs, contentType: contentTypeOf(base) });
  }
  return files;
}

function warningsCount(raw: string | undefined): number {
  if (raw === undefined) return 10;
  if (!/^\d+$/.test(raw)) throw new UsageError('--warnings must be a whole number.');
  return Number(raw);
}

/** The upload flags checked, and what the strategies need. */
function uploadContext(ctx: Ctx, flags: UploadFlags): UploadContext {
  if (flags.session && flags.direct) throw new UsageError('--session and --direct contradict each other: choose one.');
  if (flags.resume && flags.direct) throw new UsageError('--resume picks up an upload session: not with --direct.');
  const parallel = flags.parallel === undefined ? 4 : /^\d+$/.test(flags.parallel) ? Number(flags.parallel) : NaN;
  if (!Number.isInteger(parallel) || parallel < 1 || parallel > 64)
    throw new UsageError('--parallel must be a whole number from 1 to 64.');
  const threshold = parseSize(flags.sessionThreshold, '--session-threshold');
  const client = ctx.client;
  return {
    client,
    progress: ctx.progress,
    fields: { schema: flags.schema, format: flags.format, encoding: flags.encoding, path: flags.path },
    signal: ctx.signal,
    mode: flags.session ? 'session' : flags.direct ? 'direct' : 'auto',
    thresholdBytes: threshold ?? client.config.sessionThresholdBytes,
    sessions: {
      parallel,
      resume: flags.resume === true,
      checksum: flags.checksum !== false,
      states: new SessionStates(stateDir(ctx.io.env), client.baseUrl),
    },
    limits: {},
  };
}

/** Saves the rejected rows of each file that has some, as the CSV the service builds to be fixed. */
async function saveRejectedRows(ctx: Ctx, outcomes: FileOutcome[], out: string): Promise<Map<FileOutcome, string>> {
  const saved = new Map<FileOutcome, string>();
  const withErrors = outcomes.filter((o) => o.ok && o.body.validationErrorCount > 0);
  if (!withErrors.length) return saved;
  const several = outcomes.length > 1;
  if (several) await mkdir(out, { recursive: true });
  const taken = new Set<string>();
  for (const o of withErrors) {
    if (!o.ok) continue;
    let target = out;
    if (several) {
      const stem = basename(o.file.name).replace(/\.[^.]+$/, '');
      let name = `${stem}.rejected.csv`;
      for (let i = 2; taken.has(name); i++) name = `${stem}-${i}.rejected.csv`;
      taken.add(name);
      target = join(out, name);
    }
    const res = await ctx.client.send(
      'GET',
      `/v1/batch/upload/${encodeURIComponent(o.body.fileId)}/errors?format=csv`,
      {
        idempotent: true,
        accept: 'text/csv',
        noTimeout: true,
      },
    );
    await pipeline(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream), createWriteStream(target));
    saved.set(o, target);
  }
  return saved;
}

/** The service's own body: the single-file one for one file, the several-files one otherwise. */
export function outcomesJson(outcomes: FileOutcome[]): unknown {
  const plain = (o: FileOutcome) => (o.ok ? o.body : o.refusal);
  if (outcomes.length === 1) return plain(outcomes[0]);
  const files = outcomes.flatMap((o, index) => (o.ok ? [{ index, ...o.body }] : []));
  const errors = outcomes.flatMap((o, index) => (o.ok ? [] : [{ index, ...o.refusal }]));
  return {
    files,
    errors,
    message: `${outcomes.length} files: ${files.length} uploaded, ${errors.length} refused.`,
  };
}

/**
 * Uploads, shows each file's verdict, and says what the exit code will be: 1 if any file was
 * refused, 5 with --fail-on-warnings if any row was skipped. Returns the outcomes.
 */
export async function uploadAndReport(ctx: Ctx, paths: string[], flags: UploadFlags): Promise<FileOutcome[]> {
  const files = await localFiles(paths, flags.path);
  const warnings = warningsCount(flags.warnings);
  const uploadCtx = uploadContext(ctx, flags);
  let outcomes: FileOutcome[];
  try {
    outcomes = await uploadFiles(files, uploadCtx);
  } finally {
    ctx.progress.stop();
  }
  const saved = flags.errorsCsv
    ? await saveRejectedRows(ctx, outcomes, flags.errorsCsv)
    : new Map<FileOutcome, string>();
  const p = ctx.term.out;
  for (const o of outcomes) ctx.lines(renderOutcome(o, { warnings, errorsCsv: saved.get(o) }, ctx.term, p));
  const refused = outcomes.filter((o) => !o.ok);
  if (outcomes.length > 1) {
    ctx.out(`${outcomes.length} files: ${outcomes.length - refused.length} uploaded, ${refused.length} refused.`);
  }
  for (const o of refused) if (!o.ok) ctx.err(`batchgate: ${o.file.label}: ${o.refusal.error.message}`);
  return outcomes;
}

export function skippedRows(outcomes: FileOutcome[]): number {
  return outcomes.reduce((n, o) => n + (o.ok ? o.body.validationErrorCount : 0), 0);
}

export async function uploadCommand(ctx: Ctx, paths: string[], flags: UploadFlags): Promise<number> {
  const outcomes = await uploadAndReport(ctx, paths, flags);
  ctx.emit(outcomesJson(outcomes));
  if (outcomes.some((o) => !o.ok)) return EXIT.refused;
  const skipped = skippedRows(outcomes);
  if (flags.failOnWarnings && skipped > 0) {
    ctx.err(`batchgate: ${plural(skipped, 'row')} skipped (--fail-on-warnings).`);
    return EXIT.warnings;
  }
  return EXIT.ok;
}

const idPath = (fileId: string, rest = '') => `/v1/batch/upload/${encodeURIComponent(fileId)}${rest}`;

export async function uploadGet(ctx: Ctx, fileId: string): Promise<number> {
  const { body } = await ctx.client.get<UploadView>(idPath(fileId));
  ctx.emit(body);
  ctx.lines(renderUploadView(body, ctx.term.out));
  return EXIT.ok;
}

function whole(raw: string | undefined, flag: string): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw)) throw new UsageError(`${flag} must be a whole number.`);
  return Number(raw);
}

export async function uploadErrors(
  ctx: Ctx,
  fileId: string,
  flags: { offset?: string; limit?: string; csv?: string },
): Promise<number> {
  if (flags.csv !== undefined) {
    if (flags.csv === '-' && ctx.json) throw new UsageError('--csv - writes to stdout, as --json would: choose one.');
    const res = await ctx.client.send('GET', idPath(fileId, '/errors?format=csv'), {
      idempotent: true,
      accept: 'text/csv',
      noTimeout: true,
    });
    const body = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream);
    if (flags.csv === '-') {
      await pipeline(body, ctx.io.stdout, { end: false });
    } else {
      await pipeline(body, createWriteStream(flags.csv));
      ctx.out(`rejected rows saved to ${flags.csv}`);
      ctx.emit({ fileId, saved: flags.csv });
    }
    return EXIT.ok;
  }
  const q = new URLSearchParams();
  const offset = whole(flags.offset, '--offset');
  const limit = whole(flags.limit, '--limit');
  if (offset !== undefined) q.set('offset', String(offset));
  if (limit !== undefined) q.set('limit', String(limit));
  const { body } = await ctx.client.get<RowErrorPage>(idPath(fileId, `/errors${q.size ? `?${q.toString()}` : ''}`));
  ctx.emit(body);
  const { meta } = body;
  if (!body.data.length)
    ctx.out(meta.total ? `no row errors from ${meta.offset} on (${meta.total} in all)` : 'no row errors');
  else {
    ctx.out(warningsTable(body.data, ctx.term, ctx.term.out));
    ctx.out(ctx.term.out.dim(`  ${meta.offset + 1}–${meta.offset + meta.count} of ${meta.total}`));
  }
  return EXIT.ok;
}

export async function uploadPreview(ctx: Ctx, fileId: string, flags: { limit?: string }): Promise<number> {
  const limit = whole(flags.limit, '--limit');
  const { body } = await ctx.client.get<UploadPreview>(idPath(fileId, `/preview${limit ? `?limit=${limit}` : ''}`));
  ctx.emit(body);
  const rows = body.items.map((i) => [String(i.row), JSON.stringify(i.item)]);
  ctx.out(rows.length ? table(['row', 'item'], rows, ctx.term.width, ctx.term.out.bold) : 'no valid items');
  if (body.validationErrors.length) {
    ctx.out('');
    ctx.out(warningsTable(body.validationErrors, ctx.term, ctx.term.out));
  }
  return EXIT.ok;
}

export async function uploadDiscard(ctx: Ctx, fileId: string): Promise<number> {
  await ctx.client.json('DELETE', idPath(fileId), { idempotent: true });
  ctx.emit({ fileId, discarded: true });
  ctx.out(`upload ${fileId} discarded`);
  return EXIT.ok;
}

/** Used by batch create --from-upload when it stops before creating: nothing is left behind. */
export async function discardAll(ctx: Ctx, outcomes: FileOutcome[]): Promise<void> {
  for (const o of outcomes) {
    if (!o.ok) continue;
    try {
      await ctx.client.json('DELETE', idPath(o.body.fileId), { idempotent: true });
    } catch (e) {
      if (!(e instanceof CliExit)) throw e;
      ctx.err(`batchgate: could not discard ${o.body.fileId}: ${e.message}`);
    }
  }
}
