import { Inject, Injectable, Logger } from '@nestjs/common';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { newId } from '../common/ids';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { AppError } from '../errors/app-error';
import { checksumMismatch, payloadTooLarge, sizeMismatch, storageUnavailable } from '../errors/errors';
import { SchemaRegistry } from '../ingest/schema-registry';
import type { EncodingName } from '../ingest/detect';
import type { Format } from '../ingest/types';
import { type IntakeCounts, IntakeService } from '../intake/intake.service';
import { splitFileName } from '../intake/upload-path';
import { toUploadResponse } from '../intake/upload-view';
import { FILE_STORAGE, type FileStorage } from '../storage/file-storage';
import { storedSessionParts } from '../store/session-parts';
import { storageKeys } from '../store/storage-keys';
import type { SessionFailure, SessionMeta, SessionProgress } from '../store/upload-session-record';
import { UploadSessionRepository } from '../store/upload-session.repository';

/** API.md: progress is written at least every second. */
const PROGRESS_EVERY_MS = 500;

/** The run must stop: the session was cancelled, or another run took it over. */
class Stopped extends Error {
  constructor(readonly why: string) {
    super(`validation stopped: ${why}`);
  }
}

export type ValidationOutcome = { kind: 'done' } | { kind: 'retry'; error: Error };

/**
 * Validates one completed upload session, queue-agnostic: the stored parts are streamed, in order,
 * through the same intake as a direct upload (same items, errors and body), with the size checked
 * before and the sha256 after, and progress written as it goes. The session ends ready (its fileId
 * issued) or failed exactly once: each run claims the session with a run id of its own, and only the
 * run that still holds it may write progress or the end.
 */
@Injectable()
export class SessionValidator {
  private readonly logger = new Logger(SessionValidator.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(FILE_STORAGE) private readonly storage: FileStorage,
    private readonly sessions: UploadSessionRepository,
    private readonly schemas: SchemaRegistry,
    private readonly intake: IntakeService,
  ) {}

  async execute(job: { orgId: string; uploadId: string }, lastAttempt: boolean): Promise<ValidationOutcome> {
    const { orgId, uploadId } = job;
    const session = await this.sessions.get(orgId, uploadId);
    if (!session || session.status !== 'validating') return { kind: 'done' };
    const meta = session.meta;
    const fileId = newId('f');
    const run = randomBytes(9).toString('base64url');
    const [claimed, previous] = await this.sessions.claim(orgId, uploadId, fileId, run);
    if (claimed !== 'claimed') return { kind: 'done' };
    // An earlier run that died (or was abandoned) may have left objects under its own fileId.
    if (previous) await this.intake.deleteObjects(orgId, previous).catch(() => undefined);

    const progress: SessionProgress = { bytesRead: 0, rowsRead: 0, itemCount: 0, validationErrorCount: 0 };
    let stopped: Stopped | undefined;
    let current: Readable | undefined;
    const check = async () => {
      const reply = await this.sessions.progress(orgId, uploadId, run, progress);
      if (reply !== 'ok') {
        stopped ??= new Stopped(reply);
        current?.destroy(stopped);
      }
    };
    const timer = setInterval(() => void check().catch(() => undefined), PROGRESS_EVERY_MS);
    try {
      const parts = await this.partSizes(meta);
      const actual = parts.reduce((sum, p) => sum + p.sizeBytes, 0);
      if (actual > meta.maxFileBytes) throw payloadTooLarge(meta.maxFileBytes);
      if (actual !== meta.sizeBytes) throw sizeMismatch(meta.sizeBytes, actual);

      let complete: { sizeBytes: number; sha256: string } | undefined;
      let latestRead = { latest: false };
      const open = () => {
        complete = undefined;
        progress.bytesRead = 0;
        const hash = createHash('sha256');
        const storage = this.storage;
        // The ingest core opens the file twice (its first bytes, then all of it). Each stream counts
        // its own bytes, and only the latest one reports: the first one's read-ahead, which goes on
        // after the second is opened, once added a chunk to the result's sizeBytes.
        const mine = { latest: true };
        latestRead.latest = false;
        latestRead = mine;
        let read = 0;
        const stream = Readable.from(
          (async function* () {
            for (const part of parts) {
              for await (const chunk of storage.openRead(part.key) as AsyncIterable<Buffer>) {
                hash.update(chunk);
                read += chunk.length;
                if (mine.latest) progress.bytesRead = read;
                yield chunk;
              }
            }
            if (mine.latest) complete = { sizeBytes: read, sha256: hash.digest('hex') };
          })(),
          { objectMode: false, highWaterMark: 256 * 1024 },
        );
        current = stream;
        if (stopped) stream.destroy(stopped);
        return stream;
      };
      const schema = this.schemas.get(meta.schema);
      if (!schema) throw new AppError('validation_error', `Schema "${meta.schema}" is no longer configured.`);
      const record = await this.intake.run({
        orgId,
        maxFileBytes: meta.maxFileBytes,
        fileId,
        open,
        fields: {
          schema,
          format: meta.format as Format | undefined,
          encoding: meta.encoding as EncodingName | undefined,
        },
        fileName: meta.filename,
        contentType: meta.contentType,
        originalFileName: splitFileName(meta.filename).originalFileName,
        path: meta.path,
        digest: () => {
          if (!complete) throw new Error(`upload ${uploadId}: the stored parts were not read to their end`);
          return complete;
        },
        onRows: (counts: IntakeCounts) => {
          progress.itemCount = counts.itemCount;
          progress.validationErrorCount = counts.validationErrorCount;
          progress.rowsRead = counts.itemCount + counts.validationErrorCount;
        },
        beforeSave: async (r) => {
          if (meta.sha256 && r.sha256 !== meta.sha256) throw checksumMismatch(meta.sha256, r.sha256);
          await check();
          if (stopped) throw stopped;
        },
      });
      progress.itemCount = record.itemCount;
      progress.validationErrorCount = record.validationErrorCount;
      progress.rowsRead = record.itemCount + record.validationErrorCount;
      const ended = await this.sessions.finish(
        orgId,
        uploadId,
        run,
        { status: 'ready', result: toUploadResponse(record) },
        progress,
        this.config.fileTtlSeconds,
      );
      if (ended !== 'ready') {
        // Cancelled (or taken over) between the fileId's issue and the end: it must not stay.
        await this.intake.discard(orgId, fileId).catch(() => undefined);
        return { kind: 'done' };
      }
      await this.cleanUp(orgId, uploadId);
      return { kind: 'done' };
    } catch (e) {
      if (stopped || e instanceof Stopped) return { kind: 'done' };
      let failure: SessionFailure;
      if (e instanceof AppError && e.status < 500) {
        failure = {
          status: e.status,
          error: { code: e.code, message: e.message, ...(e.details && { details: e.details }) },
          validationErrors: e.rows?.validationErrors ?? [],
        };
      } else {
        if (!lastAttempt) return { kind: 'retry', error: e as Error };
        this.logger.warn(`validation of ${uploadId} failed for good: ${(e as Error).message}`);
        const unavailable = storageUnavailable();
        failure = {
          status: unavailable.status,
          error: { code: unavailable.code, message: unavailable.message },
          validationErrors: [],
        };
      }
      await this.sessions.finish(
        orgId,
        uploadId,
        run,
        { status: 'failed', error: failure },
        progress,
        this.config.fileTtlSeconds,
      );
      await this.cleanUp(orgId, uploadId);
      return { kind: 'done' };
    } finally {
      clearInterval(timer);
    }
  }

  /** Parts 1..N with their stored sizes, in order (a part the store lost counts as 0 bytes: size_mismatch). */
  private async partSizes(meta: SessionMeta): Promise<{ key: string; sizeBytes: number }[]> {
    const stored = await storedSessionParts(this.storage, meta);
    return Array.from({ length: meta.partCount }, (_, i) => ({
      key: storageKeys.sessionPart(meta.orgId, meta.uploadId, i + 1),
      sizeBytes: stored.get(i + 1) ?? 0,
    })).filter((p) => p.sizeBytes > 0);
  }

  /** Raw parts go once the session ended; the sweep looks again until the last part URL expired. */
  private async cleanUp(orgId: string, uploadId: string): Promise<void> {
    await this.storage.deletePrefix(storageKeys.sessionParts(orgId, uploadId));
    const s = await this.sessions.get(orgId, uploadId);
    await this.sessions.lookAgain(orgId, uploadId, s?.urlsExpireAtMs ?? 0);
  }
}
