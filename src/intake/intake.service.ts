import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Readable } from 'node:stream';
import { looksLikeId, newId } from '../common/ids';
import type { RowError } from '../common/row-error';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { AppError } from '../errors/app-error';
import { fileAlreadyConsumed, fileNotFound, payloadTooLarge, rowsRefused, storageUnavailable } from '../errors/errors';
import { ingest } from '../ingest/ingest';
import { itemLine, rejectedLine } from '../ingest/sink-lines';
import { IngestError } from '../ingest/types';
import { MetricsService } from '../metrics/metrics.service';
import { FILE_STORAGE, type FileStorage, type StorageWriter } from '../storage/file-storage';
import { FileTokenRepository, requireLive } from '../store/file-token.repository';
import { uploadObjects } from '../store/storage-keys';
import type { UploadRecord } from '../store/upload-record';
import type { UploadFields } from './upload-fields';

/** A whole-file failure of ingest, as API.md's error: 400 (with the row errors), 413 (the plan's figure) or 415. */
export function ingestFailure(e: IngestError, maxBytes: number): AppError {
  switch (e.code) {
    case 'file_parsing_failed':
      return rowsRefused(e.message, e.rows);
    case 'payload_too_large':
      return payloadTooLarge(maxBytes);
    case 'unavailable':
      // An ingest pool thread died while reading the file: nothing is stored; try again.
      return storageUnavailable();
    default:
      return new AppError(e.code, e.message);
  }
}

/** Rows seen so far by one intake run (an upload session's `progress`). */
export interface IntakeCounts {
  itemCount: number;
  validationErrorCount: number;
}

export interface IntakeInput {
  orgId: string;
  /** The plan's limit, applied to the decompressed bytes too. */
  maxFileBytes: number;
  /** Given by an upload session (each validation run has its own); else a new one. */
  fileId?: string;
  /** The file's bytes from the start, each time it is called (ingest may restart as windows-1252). */
  open: () => Readable;
  fields: Pick<UploadFields, 'schema' | 'format' | 'encoding'>;
  /** The name the client gave (with any folder): format detection reads its extension. */
  fileName: string;
  contentType?: string;
  originalFileName: string;
  path: string | null;
  /** The stored bytes' size and sha256, asked once ingest has read them all. */
  digest: () => { sizeBytes: number; sha256: string };
  /** Called as rows are written (no more than the caller wants to look at). */
  onRows?: (counts: IntakeCounts) => void;
  /** The last word before the fileId is issued: throwing drops everything written. */
  beforeSave?: (record: UploadRecord) => Promise<void>;
}

function countLines(bytes: Uint8Array): number {
  let n = 0;
  for (let i = bytes.indexOf(0x0a); i !== -1; i = bytes.indexOf(0x0a, i + 1)) n++;
  return n;
}

/** An upload's objects being written: items and rejected rows, as NDJSON. */
class UploadSink {
  readonly counts: IntakeCounts = { itemCount: 0, validationErrorCount: 0 };

  constructor(
    readonly items: StorageWriter,
    readonly errors: StorageWriter,
    private readonly onRows?: (counts: IntakeCounts) => void,
  ) {}
  item(row: number, item: Record<string, unknown>) {
    this.counts.itemCount++;
    this.onRows?.(this.counts);
    return this.items.write(itemLine(row, item));
  }
  rejected(error: RowError, raw: unknown) {
    this.counts.validationErrorCount++;
    this.onRows?.(this.counts);
    return this.errors.write(rejectedLine(error, raw));
  }
  /** A chunk's lines from the ingest pool, as UTF-8 bytes (one row a line: a JSON line holds no raw newline). */
  async lines(items: Uint8Array, rejected: Uint8Array) {
    if (this.onRows) {
      this.counts.itemCount += countLines(items);
      this.counts.validationErrorCount += countLines(rejected);
      this.onRows(this.counts);
    }
    if (items.length) await this.items.writeBytes(items);
    if (rejected.length) await this.errors.writeBytes(rejected);
  }
  async reset() {
    this.counts.itemCount = 0;
    this.counts.validationErrorCount = 0;
    await Promise.all([this.items.reset(), this.errors.reset()]);
  }
  async commit() {
    await Promise.all([this.items.commit(), this.errors.commit()]);
  }
  async abort() {
    await Promise.all([this.items.abort(), this.errors.abort()]);
  }
}

/**
 * The one way bytes become an upload, whichever way they came (a direct upload's spool, an upload
 * session's stored parts): ingest → items and rejected rows stored → the single-use fileId issued,
 * written last. Also the one discard of an unconsumed upload.
 */
@Injectable()
export class IntakeService {
  private readonly logger = new Logger(IntakeService.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(FILE_STORAGE) private readonly storage: FileStorage,
    private readonly tokens: FileTokenRepository,
    private readonly metrics: MetricsService,
  ) {}

  /** The stored upload's record; an AppError (400/413/415) for a file that cannot be used, nothing kept. */
  async run(input: IntakeInput): Promise<UploadRecord> {
    const fileId = input.fileId ?? newId('f');
    const objects = uploadObjects(input.orgId, fileId);
    const sink = new UploadSink(
      await this.storage.createWriter(objects.items),
      await this.storage.createWriter(objects.errors),
      input.onRows,
    );
    const { schema, format, encoding } = input.fields;
    let stored = false;
    try {
      const summary = await ingest(
        input.open,
        {
          schema,
          format,
          encoding,
          fileName: input.fileName,
          contentType: input.contentType,
          maxBytes: input.maxFileBytes,
          maxRecordBytes: this.config.maxRecordBytes,
        },
        sink,
      );
      await sink.commit();
      const { sizeBytes, sha256 } = input.digest();
      const duplicateOf = await this.tokens.findDuplicate(input.orgId, schema.name, sha256);
      const now = Date.now();
      const record: UploadRecord = {
        fileId,
        orgId: input.orgId,
        originalFileName: input.originalFileName,
        path: input.path,
        format: summary.format,
        schema: schema.name,
        itemCount: summary.itemCount,
        validationErrorCount: summary.validationErrorCount,
        validationErrors: summary.validationErrors,
        validationErrorsTruncated: summary.validationErrorsTruncated,
        errorSummary: summary.errorSummary,
        parsing: summary.parsing,
        sizeBytes,
        sha256,
        createdAt: new Date(now).toISOString(),
        expiresAt: new Date(now + this.config.fileTtlSeconds * 1000).toISOString(),
        errorColumns: summary.errorColumns,
        duplicateOf,
      };
      await input.beforeSave?.(record);
      await this.tokens.save(record, this.config.fileTtlSeconds);
      stored = true;
      this.metrics.uploads.inc({ format: record.format, outcome: 'accepted' });
      this.metrics.uploadBytes.inc({ format: record.format }, record.sizeBytes);
      this.metrics.countRows(record);
      return record;
    } catch (e) {
      if (e instanceof IngestError) {
        this.metrics.uploads.inc({ format: format ?? 'unknown', outcome: e.code });
        throw ingestFailure(e, input.maxFileBytes);
      }
      throw e;
    } finally {
      if (!stored)
        await sink.abort().catch((e: Error) => this.logger.warn(`cleanup of ${fileId} failed: ${e.message}`));
    }
  }

  /** DELETE of an unconsumed upload: its token and objects go; 409 once consumed, 410/404 when gone. */
  async discard(orgId: string, fileId: string): Promise<void> {
    if (!looksLikeId(fileId, 'f')) throw fileNotFound(fileId);
    const result = await this.tokens.discard(orgId, fileId);
    if (result.state === 'discarded-now') {
      await this.deleteObjects(orgId, fileId);
      return;
    }
    if (result.state === 'consumed') throw fileAlreadyConsumed(result.batchId);
    requireLive(result, fileId);
  }

  /** The items and rejected rows of an upload (or of an abandoned run that never issued its fileId). */
  async deleteObjects(orgId: string, fileId: string): Promise<void> {
    const objects = uploadObjects(orgId, fileId);
    await Promise.all([this.storage.delete(objects.items), this.storage.delete(objects.errors)]);
  }
}
