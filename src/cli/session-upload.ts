import type { FreshPartUrls, SessionView, SignedPartUrl } from './api-types';
import { CliExit, EXIT, ServiceError } from './exit';
import type { LocalFile } from './multipart';
import { sendParts, sleep } from './part-sender';
import { type Open, type Start, createSessions, sessionPath } from './session-create';
import type { FileProgress } from './progress';
import { plural } from './terminal';
import {
  type FileOutcome,
  type UploadContext,
  type UploadStrategy,
  outcomeOfSession,
  refusalFromEnvelope,
  verdict,
} from './upload-outcome';

/** How often a validating session is looked at (GET /v1/uploads/{id}). */
const POLL_MS = 500;
/** A validation whose progress has not moved for this long is noted (once). */
const STALL_NOTE_MS = 60_000;
/** Ctrl-C: how long the cancelling DELETEs may take before the CLI gives up on them. */
const CANCEL_MS = 10_000;
/** `complete` answered 409 upload_incomplete: the missing parts are sent again this many times. */
const COMPLETE_TRIES = 3;

const isOutcome = (s: Start): s is FileOutcome => 'ok' in s;

/** One upload session per file, the files in turn, each file's parts in parallel. */
export const sessionUpload: UploadStrategy = {
  name: 'session',
  async upload(files, ctx) {
    return new SessionRun(files, ctx).run();
  },
};

class SessionRun {
  private readonly bars: Map<LocalFile, FileProgress>;
  /** Every session this run created or resumed, and whether it has ended (its state file removed). */
  private readonly live = new Map<LocalFile, { uploadId: string; ended: boolean }>();
  /** Ends the validation polls when the run stops for any reason. */
  private readonly done = new AbortController();

  constructor(
    private readonly files: LocalFile[],
    private readonly ctx: UploadContext,
  ) {
    this.bars = new Map(files.map((f) => [f, ctx.progress.file(f.label, f.size)]));
  }

  private bar(f: LocalFile): FileProgress {
    return this.bars.get(f)!;
  }

  private note(line: string): void {
    this.ctx.progress.note(line);
  }

  async run(): Promise<FileOutcome[]> {
    const stop = () => this.done.abort();
    this.ctx.signal.addEventListener('abort', stop, { once: true });
    try {
      const starts = await this.startAll();
      // The files' parts are sent in turn; a file's validation is followed while the next one is sent.
      const follows: Promise<{ ok: true; o: FileOutcome } | { ok: false; e: unknown }>[] = [];
      for (const s of starts) {
        let outcome: Promise<FileOutcome>;
        if (isOutcome(s)) outcome = Promise.resolve(s);
        else if (s.status === 'validating') outcome = this.follow(s);
        else {
          const ended = await this.sendAndComplete(s);
          outcome = ended ? Promise.resolve(ended) : this.follow(s);
        }
        follows.push(
          outcome.then(
            (o) => {
              this.bar(o.file).finish(verdict(o), o.ok);
              return { ok: true as const, o };
            },
            (e: unknown) => ({ ok: false as const, e }),
          ),
        );
      }
      const settled = await Promise.all(follows);
      const failed = settled.find((x) => !x.ok);
      if (failed && !failed.ok) throw failed.e;
      return settled.map((x) => (x.ok ? x.o : undefined)!);
    } catch (e) {
      this.done.abort();
      if (e instanceof CliExit && e.code === EXIT.interrupted) throw await this.cancelAll();
      throw this.withResumeHint(e);
    } finally {
      this.done.abort();
      this.ctx.signal.removeEventListener('abort', stop);
    }
  }

  /** Every file's session: resumed (`--resume`), or created in one POST /v1/uploads for the rest. */
  private async startAll(): Promise<Start[]> {
    const { states, resume } = this.ctx.sessions;
    const out = new Map<LocalFile, Start>();
    const fresh: LocalFile[] = [];
    for (const f of this.files) {
      const saved = await states.find(f.path);
      if (saved && resume) {
        const resumed = await this.resumeOne(f, saved.uploadId, saved.sizeBytes, saved.mtimeMs);
        if (resumed) {
          out.set(f, resumed);
          continue;
        }
      } else if (saved) {
        this.note(
          `batchgate: ${f.label}: the interrupted upload ${saved.uploadId} is cancelled, this one starts again (--resume picks one up)`,
        );
        await this.cancelQuietly(f, saved.uploadId);
      } else if (resume) {
        this.note(`batchgate: ${f.label}: no interrupted upload to resume; sending it whole`);
      }
      fresh.push(f);
    }
    if (fresh.length) {
      const created = await createSessions(
        fresh,
        this.ctx,
        (f) => this.bar(f),
        (f, uploadId) => this.live.set(f, { uploadId, ended: false }),
      );
      for (const [f, s] of created) out.set(f, s);
    }
    return this.files.map((f) => out.get(f)!);
  }

  /** The session found in the state file, where it stands; undefined: start afresh. */
  private async resumeOne(f: LocalFile, uploadId: string, size: number, mtimeMs: number): Promise<Start | undefined> {
    const { client, sessions } = this.ctx;
    if (size !== f.size || mtimeMs !== f.mtimeMs) {
      this.note(`batchgate: ${f.label} changed since upload ${uploadId} began; sending it whole`);
      await this.cancelQuietly(f, uploadId);
      return undefined;
    }
    let view: SessionView;
    try {
      view = (await client.get<SessionView>(sessionPath(uploadId))).body;
    } catch (e) {
      if (!(e instanceof ServiceError) || (e.status !== 404 && e.status !== 410)) throw e;
      this.note(`batchgate: ${f.label}: upload ${uploadId} is gone (${e.message}); sending it whole`);
      await sessions.states.remove(f.path);
      return undefined;
    }
    this.live.set(f, { uploadId, ended: false });
    const ended = outcomeOfSession(f, view);
    if (ended) {
      await this.ended(f);
      this.note(`batchgate: ${f.label}: upload ${uploadId} had ended (${view.status})`);
      return ended;
    }
    const open: Open = { file: f, uploadId, partSize: view.partSize, status: 'validating', missing: [], already: size };
    if (view.status !== 'pending') {
      this.note(`batchgate: ${f.label}: resuming upload ${uploadId}: every part arrived, following its validation`);
      return open;
    }
    let fresh: FreshPartUrls;
    try {
      fresh = (
        await client.json<FreshPartUrls>('POST', sessionPath(uploadId, '/parts'), { json: {}, idempotent: true })
      ).body;
    } catch (e) {
      // Completed in the meantime (by the run that was interrupted, just before it was): follow it.
      if (e instanceof ServiceError && e.errorCode === 'upload_state') return open;
      throw e;
    }
    const missingBytes = fresh.parts.reduce((n, p) => n + p.sizeBytes, 0);
    const received = view.partCount - fresh.parts.length;
    this.note(
      `batchgate: ${f.label}: resuming upload ${uploadId}: ` +
        (fresh.parts.length
          ? `${received} of ${plural(view.partCount, 'part')} already there, ${plural(fresh.parts.length, 'part')} to send`
          : `all ${plural(view.partCount, 'part')} already there`),
    );
    return { ...open, status: 'pending', missing: fresh.parts, already: size - missingBytes };
  }

  private async send(s: Open, parts: SignedPartUrl[], sent: { bytes: number }): Promise<void> {
    const bar = this.bar(s.file);
    await sendParts({
      uploadId: s.uploadId,
      path: s.file.path,
      label: s.file.label,
      partSize: s.partSize,
      parts,
      parallel: this.ctx.sessions.parallel,
      client: this.ctx.client,
      signal: this.ctx.signal,
      onBytes: (delta) => {
        sent.bytes += delta;
        bar.sent(sent.bytes);
      },
      note: (line) => this.note(line),
    });
  }

  /** Sends what is missing, then complete: the outcome if the session ended at once, else undefined. */
  private async sendAndComplete(s: Open): Promise<FileOutcome | undefined> {
    const { client } = this.ctx;
    const sent = { bytes: s.already };
    if (s.already && s.missing.length) this.bar(s.file).resumed(s.already);
    let parts = s.missing;
    for (let round = 1; ; round++) {
      try {
        await this.send(s, parts, sent);
      } catch (e) {
        // A part refused (the session cancelled elsewhere, expired...): this file is refused.
        if (!(e instanceof ServiceError)) throw e;
        await this.cancelQuietly(s.file, s.uploadId);
        return refusalFromEnvelope(s.file, e.status, e.envelope, e.message);
      }
      this.bar(s.file).validating();
      try {
        const { body } = await client.json<SessionView>('POST', sessionPath(s.uploadId, '/complete'), {
          idempotent: true,
        });
        const ended = outcomeOfSession(s.file, body);
        if (ended) await this.ended(s.file);
        return ended;
      } catch (e) {
        const missing = e instanceof ServiceError ? e.envelope?.error.details?.missingParts : undefined;
        if (!Array.isArray(missing) || !missing.length || round >= COMPLETE_TRIES) throw e;
        // The service lists a part as missing or short that was answered 200: send it again.
        this.note(`batchgate: ${s.file.label}: the service misses part(s) ${missing.join(', ')}; sending them again`);
        const { body } = await client.json<FreshPartUrls>('POST', sessionPath(s.uploadId, '/parts'), {
          json: { partNumbers: missing },
          idempotent: true,
        });
        parts = body.parts;
        sent.bytes -= parts.reduce((n, p) => n + p.sizeBytes, 0);
      }
    }
  }

  /** Polls the validating session until it ends, with the service's progress on the bar. */
  private async follow(s: Open): Promise<FileOutcome> {
    const bar = this.bar(s.file);
    bar.validating();
    let moved = { at: Date.now(), bytes: -1 };
    let told = false;
    for (;;) {
      const { body } = await this.ctx.client.get<SessionView>(sessionPath(s.uploadId));
      const ended = outcomeOfSession(s.file, body);
      if (ended) {
        await this.ended(s.file);
        return ended;
      }
      if (body.progress) bar.validated(body.progress.bytesRead, body.progress.rowsRead);
      // The workers validate (API.md: progress at least every second); none running means no end.
      const bytes = body.progress?.bytesRead ?? 0;
      if (bytes !== moved.bytes) moved = { at: Date.now(), bytes };
      else if (!told && Date.now() - moved.at > STALL_NOTE_MS) {
        told = true;
        this.note(
          `batchgate: ${s.file.label}: no validation progress for ${STALL_NOTE_MS / 1000} s (are the service's workers running?); still waiting`,
        );
      }
      await sleep(POLL_MS, this.done.signal);
      if (this.ctx.signal.aborted) throw new CliExit(EXIT.interrupted, 'Interrupted.');
      if (this.done.signal.aborted) throw new CliExit(EXIT.refused, 'Stopped.');
    }
  }

  private async ended(f: LocalFile): Promise<void> {
    const l = this.live.get(f);
    if (l) l.ended = true;
    await this.ctx.sessions.states.remove(f.path);
  }

  /** DELETE an abandoned session (an older one, or one whose part was refused); its state goes too. */
  private async cancelQuietly(f: LocalFile, uploadId: string): Promise<void> {
    try {
      await this.ctx.client.json('DELETE', sessionPath(uploadId), { idempotent: true });
    } catch (e) {
      if (!(e instanceof ServiceError)) throw e;
    }
    await this.ended(f);
  }

  /**
   * Ctrl-C: every session of this run is deleted (pending: its parts; validating: stopped; ready:
   * its fileId discarded, as nothing was reported yet), with a client of its own since the
   * command's signal has fired. A session that cannot be deleted keeps its state file.
   */
  private async cancelAll(): Promise<CliExit> {
    const client = this.ctx.client.detached(CANCEL_MS);
    const cancelled: string[] = [];
    const kept: string[] = [];
    for (const [f, l] of this.live) {
      try {
        await client.json('DELETE', sessionPath(l.uploadId), { idempotent: true });
        cancelled.push(l.uploadId);
      } catch (e) {
        if (!(e instanceof ServiceError) || (e.status !== 404 && e.status !== 410)) {
          kept.push(`${f.label} (${l.uploadId}: ${(e as Error).message})`);
          continue;
        }
      }
      await this.ctx.sessions.states.remove(f.path);
      this.bar(f).finish('cancelled', false);
    }
    const parts = ['Interrupted'];
    if (cancelled.length)
      parts.push(`upload session${cancelled.length > 1 ? 's' : ''} ${cancelled.join(', ')} cancelled`);
    if (kept.length) parts.push(`not cancelled: ${kept.join('; ')} (--resume picks it up)`);
    return new CliExit(EXIT.interrupted, `${parts.join(': ')}.`);
  }

  /** Any other stop (the service unreachable...): the sessions left pending can be resumed. */
  private withResumeHint(e: unknown): unknown {
    if (!(e instanceof CliExit)) return e;
    const open = [...this.live].filter(([, l]) => !l.ended).map(([f]) => f.label);
    if (!open.length) return e;
    return new CliExit(
      e.code,
      `${e.message}\nbatchgate: the same command with --resume picks up ${open.join(', ')} (what arrived is not sent again).`,
      e.json,
    );
  }
}
