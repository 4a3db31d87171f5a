import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { BatchCreated, BatchPage, BatchView, CreateBatchBody, DryRunVerdict } from '../api-types';
import type { Ctx } from '../context';
import { CliExit, EXIT, UsageError } from '../exit';
import { batchesTable, renderBatch } from '../render';
import { plural } from '../terminal';
import { discardAll, outcomesJson, skippedRows, uploadAndReport, type UploadFlags } from './uploads';

const FINISHED: readonly BatchView['status'][] = ['completed', 'failed', 'cancelled'];
const batchPath = (id: string, rest = '') => `/v1/batch/${encodeURIComponent(id)}${rest}`;

export interface CreateFlags extends UploadFlags {
  fileId?: string[];
  fromUpload?: string[];
  name?: string;
  metadata?: string[];
  dryRun?: boolean;
  wait?: boolean;
  results?: string;
  idempotencyKey?: string;
  pollInterval?: string;
  allowDuplicate?: boolean;
}

function metadataOf(pairs: string[] | undefined): Record<string, string> | undefined {
  if (!pairs?.length) return undefined;
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`--metadata takes key=value, not "${pair}".`);
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}

function pollMs(raw: string | undefined): number {
  if (raw === undefined) return 500;
  if (!/^\d+$/.test(raw) || Number(raw) < 50)
    throw new UsageError('--poll-interval must be a whole number of ms, at least 50.');
  return Number(raw);
}

/**
 * The Idempotency-Key of a create: derived from the request itself, so the same command run again
 * (by a retry inside this run, or by a script re-running it within 24 hours) gets the first answer
 * back instead of a second batch or a 409.
 */
export function idempotencyKeyOf(body: CreateBatchBody): string {
  return `batchgate-cli-${createHash('sha256').update(JSON.stringify(body)).digest('hex').slice(0, 40)}`;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new CliExit(EXIT.interrupted, 'Interrupted.'));
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Polls the batch until it ends, with a progress bar of its processed items. */
async function follow(ctx: Ctx, id: string, every: number): Promise<BatchView> {
  const started = Date.now();
  let bar: ReturnType<Ctx['progress']['items']> | undefined;
  try {
    for (;;) {
      const { body: b } = await ctx.client.get<BatchView>(batchPath(id));
      bar ??= ctx.progress.items(id, b.itemCount);
      bar.update(b.processedCount, b.itemCount, b.status);
      if (FINISHED.includes(b.status)) {
        const secs = ((Date.now() - started) / 1000).toFixed(1);
        bar.finish(
          `${b.status}: ${b.processedCount.toLocaleString('en-US')} of ${plural(b.itemCount, 'item')} in ${secs} s`,
          b.status === 'completed',
        );
        return b;
      }
      await sleep(every, ctx.signal);
    }
  } catch (e) {
    if (e instanceof CliExit && e.code === EXIT.interrupted) {
      throw new CliExit(EXIT.interrupted, `Stopped following ${id}; it goes on (batchgate batch get ${id}).`);
    }
    throw e;
  } finally {
    ctx.progress.stop();
  }
}

/** Streams the results (NDJSON) to a file or stdout; resolves with the number of lines. */
async function writeResults(ctx: Ctx, id: string, out: string): Promise<number> {
  const res = await ctx.client.send('GET', batchPath(id, '/results'), {
    idempotent: true,
    accept: 'application/x-ndjson',
    noTimeout: true,
  });
  let lines = 0;
  const count = new Transform({
    transform(chunk: Buffer, _enc, done) {
      for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
      done(null, chunk);
    },
  });
  const body = Readable.fromWeb(res.body as WebReadableStream);
  if (out === '-') await pipeline(body, count, ctx.io.stdout, { end: false });
  else await pipeline(body, count, createWriteStream(out));
  return lines;
}

/** Exit code and stderr line for a batch that ended. */
function ended(ctx: Ctx, b: BatchView): number {
  if (b.status === 'completed') return EXIT.ok;
  ctx.err(`batchgate: batch ${b.id} ${b.status}${b.error ? `: ${b.error}` : '.'}`);
  return EXIT.batchFailed;
}

/**
 * `--from-upload` run again: the fresh uploads are the same bytes as uploads that one batch already
 * consumed (API.md duplicateOf), every one of them and nothing else. Then that batch is the answer.
 */
async function earlierBatch(ctx: Ctx, fileIdsDup: (string | undefined)[]): Promise<BatchView | undefined> {
  const ids = new Set(fileIdsDup);
  if (ids.size !== 1 || ids.has(undefined)) return undefined;
  const [id] = [...ids] as string[];
  const { body } = await ctx.client.get<BatchView>(batchPath(id));
  const count = body.source.type === 'files' ? body.source.files.length : body.source.type === 'file' ? 1 : 0;
  return count === fileIdsDup.length ? body : undefined;
}

export async function batchCreate(ctx: Ctx, flags: CreateFlags): Promise<number> {
  const ids = flags.fileId ?? [];
  const paths = flags.fromUpload ?? [];
  if (!ids.length === !paths.length)
    throw new UsageError('Give --file-id ID... or --from-upload FILE..., one of them.');
  if (flags.results === '-' && ctx.json)
    throw new UsageError('--results - writes to stdout, as --json would: choose one.');
  if (flags.dryRun && (flags.wait || flags.results)) throw new UsageError('--dry-run creates nothing to wait for.');
  const every = pollMs(flags.pollInterval);
  const metadata = metadataOf(flags.metadata);
  const wait = flags.wait === true || flags.results !== undefined;

  let fileIds = ids;
  let uploadsJson: unknown;
  if (paths.length) {
    const outcomes = await uploadAndReport(ctx, paths, flags);
    uploadsJson = outcomesJson(outcomes);
    if (outcomes.some((o) => !o.ok)) {
      await discardAll(ctx, outcomes);
      ctx.emit({ uploads: uploadsJson, batch: null });
      throw new CliExit(EXIT.refused, 'No batch created: a file was refused (the accepted ones are discarded).');
    }
    const skipped = skippedRows(outcomes);
    if (flags.failOnWarnings && skipped > 0) {
      await discardAll(ctx, outcomes);
      ctx.emit({ uploads: uploadsJson, batch: null });
      throw new CliExit(EXIT.warnings, `No batch created: ${plural(skipped, 'row')} skipped (--fail-on-warnings).`);
    }
    fileIds = outcomes.map((o) => (o.ok ? o.body.fileId : ''));
    if (!flags.allowDuplicate && !flags.dryRun) {
      const dup = outcomes.map((o) =>
        o.ok && o.body.duplicateOf?.status === 'consumed' ? o.body.duplicateOf.batchId : undefined,
      );
      const earlier = await earlierBatch(ctx, dup);
      if (earlier) {
        await discardAll(ctx, outcomes);
        ctx.out(
          `these files already made batch ${earlier.id}: no second batch (--allow-duplicate makes one)` +
            (wait ? '; following it' : ''),
        );
        return afterCreate(ctx, earlier.id, {
          wait,
          results: flags.results,
          every,
          uploads: uploadsJson,
          created: null,
        });
      }
    }
  }
  if (fileIds.length > 100) throw new UsageError('A batch takes at most 100 files.');

  const body: CreateBatchBody = {
    ...(fileIds.length === 1 ? { fileId: fileIds[0] } : { fileIds }),
    ...(flags.name !== undefined && { name: flags.name }),
    ...(metadata && { metadata }),
    ...(flags.dryRun && { dryRun: true }),
  };
  if (flags.dryRun) {
    const { body: v } = await ctx.client.json<DryRunVerdict>('POST', '/v1/batch', { json: body, idempotent: true });
    ctx.emit(uploadsJson === undefined ? v : { uploads: uploadsJson, dryRun: v });
    const items = v.itemCount !== undefined ? `, ${plural(v.itemCount, 'item')}` : '';
    if (v.verdict === 'accepted') {
      ctx.out(
        `dry run: accepted${items}${v.quota ? `; ${v.quota.remainingThisMonth ?? 'unlimited'} left this month after it` : ''}`,
      );
      if (paths.length) ctx.out(`uploads kept for a real create: ${fileIds.join(' ')}`);
      return EXIT.ok;
    }
    ctx.out(`dry run: refused (${v.status} ${v.error?.code ?? ''})${items}`);
    ctx.err(`batchgate: ${v.error?.message ?? 'refused'}`);
    return EXIT.refused;
  }

  const key = flags.idempotencyKey ?? idempotencyKeyOf(body);
  const created = await ctx.client.json<BatchCreated>('POST', '/v1/batch', {
    json: body,
    headers: { 'Idempotency-Key': key },
    idempotent: true,
  });
  const c = created.body;
  const replayed = created.headers.get('idempotent-replayed') === 'true';
  ctx.out(
    `batch ${ctx.term.out.bold(c.id)} ${c.status}: ${plural(c.itemCount, 'item')} from ${plural(fileIds.length, 'file')}` +
      (replayed ? ' (created by an earlier run of this command: same Idempotency-Key)' : ''),
  );
  return afterCreate(ctx, c.id, { wait, results: flags.results, every, uploads: uploadsJson, created: c });
}

async function afterCreate(
  ctx: Ctx,
  id: string,
  o: { wait: boolean; results?: string; every: number; uploads: unknown; created: BatchCreated | null },
): Promise<number> {
  const doc = (batch: unknown) => (o.uploads === undefined ? batch : { uploads: o.uploads, batch });
  if (!o.wait) {
    ctx.emit(doc(o.created ?? (await ctx.client.get<BatchView>(batchPath(id))).body));
    return EXIT.ok;
  }
  const final = await follow(ctx, id, o.every);
  ctx.lines(renderBatch(final, ctx.term.out));
  if (o.results !== undefined) {
    const lines = await writeResults(ctx, id, o.results);
    if (o.results !== '-') ctx.out(`results: ${plural(lines, 'line')} written to ${o.results}`);
  }
  ctx.emit(doc(final));
  return ended(ctx, final);
}

export async function batchGet(
  ctx: Ctx,
  id: string,
  flags: { wait?: boolean; pollInterval?: string },
): Promise<number> {
  if (flags.wait) {
    const final = await follow(ctx, id, pollMs(flags.pollInterval));
    ctx.emit(final);
    ctx.lines(renderBatch(final, ctx.term.out));
    return ended(ctx, final);
  }
  const { body } = await ctx.client.get<BatchView>(batchPath(id));
  ctx.emit(body);
  ctx.lines(renderBatch(body, ctx.term.out));
  return EXIT.ok;
}

export async function batchList(
  ctx: Ctx,
  flags: { status?: string; limit?: string; offset?: string },
): Promise<number> {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(flags)) {
    if (v === undefined) continue;
    if (k !== 'status' && !/^\d+$/.test(v)) throw new UsageError(`--${k} must be a whole number.`);
    q.set(k, v);
  }
  const { body } = await ctx.client.get<BatchPage>(`/v1/batches${q.size ? `?${q.toString()}` : ''}`);
  ctx.emit(body);
  if (!body.data.length) ctx.out('no batches');
  else {
    ctx.out(batchesTable(body.data, ctx.term, ctx.term.out));
    const { offset, count, total } = body.meta;
    ctx.out(ctx.term.out.dim(`  ${offset + 1}–${offset + count} of ${total}, newest first`));
  }
  return EXIT.ok;
}

export async function batchCancel(ctx: Ctx, id: string): Promise<number> {
  const { body } = await ctx.client.json<BatchView>('POST', batchPath(id, '/cancel'), { idempotent: true });
  ctx.emit(body);
  ctx.lines(renderBatch(body, ctx.term.out));
  return EXIT.ok;
}

export async function batchResults(ctx: Ctx, id: string, flags: { out?: string }): Promise<number> {
  const out = flags.out ?? '-';
  if (out === '-' && ctx.json) throw new UsageError('The results are NDJSON already: --out FILE, or no --json.');
  const lines = await writeResults(ctx, id, out);
  if (out !== '-') {
    ctx.out(`results: ${plural(lines, 'line')} written to ${out}`);
    ctx.emit({ id, lines, out });
  }
  return EXIT.ok;
}
