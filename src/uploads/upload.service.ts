import { Inject, Injectable, Logger } from '@nestjs/common';
import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { AuthContext } from '../auth/auth-context';
import { looksLikeId, newId } from '../common/ids';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { AppError } from '../errors/app-error';
import {
  fileAlreadyConsumed,
  fileNotFound,
  fileRequired,
  payloadTooLarge,
  rowsRefused,
  storageUnavailable,
} from '../errors/errors';
import { ingest } from '../ingest/ingest';
import { SchemaRegistry } from '../ingest/schema-registry';
import { itemLine, rejectedLine } from '../ingest/sink-lines';
import { IngestError } from '../ingest/types';
import { MetricsService } from '../metrics/metrics.service';
import { FILE_STORAGE, type FileStorage, type StorageWriter } from '../storage/file-storage';
import { FileTokenRepository, type LiveUpload, requireLive } from '../store/file-token.repository';
import { uploadObjects } from '../store/storage-keys';
import type { UploadRecord } from '../store/upload-record';
import type { RowError } from '../common/row-error';
import { type UploadFields, readUploadFields } from './upload-fields';
import { checkedPath, splitFileName } from './upload-path';
import {
  type RefusedFile,
  type SeveralUploadsResponse,
  type UploadedFile,
  type UploadResponse,
  type UploadView,
  severalMessage,
  toUploadResponse,
  toUploadView,
} from './upload-view';
import type { SpooledFile } from './spool-storage.engine';

/** A whole-file failure of ingest, as API.md's error: 400 (with the row errors), 413 (the plan's figure) or 415. */
function ingestFailure(e: IngestError, maxBytes: number): AppError {
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

function refusedFile(file: SpooledFile, e: AppError): RefusedFile {
  const { originalFileName, path } = splitFileName(file.originalname);
  return {
    index: file.index,
    originalFileName,
    path,
    status: e.status,
    error: { code: e.code, message: e.message, ...(e.details && { details: e.details }) },
    validationErrors: e.rows?.validationErrors ?? [],
  };
}

/** Every file refused: the first refusal's status and envelope, with every file's refusal in details.files. */
function everyFileRefused(refused: RefusedFile[]): AppError {
  const first = refused[0];
  return new AppError(
    first.error.code as AppError['code'],
    first.error.message,
    { ...first.error.details, files: refused },
    first.validationErrors.length ? { validationErrors: first.validationErrors as RowError[] } : undefined,
  );
}

/** An upload's objects being written: items and rejected rows, as NDJSON. */
class UploadSink {
  constructor(
    readonly items: StorageWriter,
    readonly errors: StorageWriter,
  ) {}
  item(row: number, item: Record<string, unknown>) {
    return this.items.write(itemLine(row, item));
  }
  rejected(error: RowError, raw: unknown) {
    return this.errors.write(rejectedLine(error, raw));
  }
  /** A chunk's lines from the ingest pool, as UTF-8 bytes. */
  async lines(items: Uint8Array, rejected: Uint8Array) {
    if (items.length) await this.items.writeBytes(items);
    if (rejected.length) await this.errors.writeBytes(rejected);
  }
  async reset() {
    await Promise.all([this.items.reset(), this.errors.reset()]);
  }
  async commit() {
    await Promise.all([this.items.commit(), this.errors.commit()]);
  }
  async abort() {
    await Promise.all([this.items.abort(), this.errors.abort()]);
  }
}

/** Direct uploads: the ingest run that turns a spooled file into stored items and a fileId; lookup and discard. */
@Injectable()
export class UploadService {
  private readonly logger = new Logger(UploadService.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(FILE_STORAGE) private readonly storage: FileStorage,
    private readonly schemas: SchemaRegistry,
    private readonly tokens: FileTokenRepository,
    private readonly metrics: MetricsService,
  ) {}

  /**
   * Parses and validates each spooled file on its own, stores its items, and issues its single-use
   * fileId (written last). One file part: the single-file body, or its error. Several: every file's
   * body or refusal, in part order; one bad file never fails the others.
   */
  async upload(
    auth: AuthContext,
    files: SpooledFile[],
    fields: Record<string, unknown>,
  ): Promise<UploadResponse | SeveralUploadsResponse> {
    try {
      if (files.length === 0) throw fileRequired();
      const options = readUploadFields(fields, this.schemas);
      if (files.length === 1) return await this.uploadOne(auth, files[0], options, options.path);
      const accepted: UploadedFile[] = [];
      const refused: RefusedFile[] = [];
      for (const file of files) {
        try {
          const { path, ...body } = await this.uploadOne(auth, file, options, undefined);
          accepted.push({ index: file.index, path, ...body });
        } catch (e) {
          // A fault (storage or Redis down) is the whole request's; a refusal is this file's.
          if (!(e instanceof AppError) || e.status >= 500) throw e;
          refused.push(refusedFile(file, e));
        }
      }
      if (accepted.length === 0) throw everyFileRefused(refused);
      return { files: accepted, errors: refused, message: severalMessage(accepted.length, refused.length) };
    } finally {
      await Promise.all(files.filter((f) => f.path).map((f) => rm(f.path, { force: true })));
    }
  }

  private async uploadOne(
    auth: AuthContext,
    file: SpooledFile,
    options: UploadFields,
    pathField: string | undefined,
  ): Promise<UploadResponse> {
    const { originalFileName, path: fromName } = splitFileName(file.originalname);
    const path = pathField ?? fromName;
    if (path !== null) checkedPath(path);
    if (file.tooLarge) throw payloadTooLarge(auth.plan.maxFileBytes);
    return this.ingestFile(auth, file, options, originalFileName, path);
  }

  private async ingestFile(
    auth: AuthContext,
    file: SpooledFile,
    options: UploadFields,
    originalFileName: string,
    path: string | null,
  ): Promise<UploadResponse> {
    const fileId = newId('f');
    const objects = uploadObjects(auth.orgId, fileId);
    const sink = new UploadSink(
      await this.storage.createWriter(objects.items),
      await this.storage.createWriter(objects.errors),
    );
    let stored = false;
    try {
      const summary = await ingest(
        () => createReadStream(file.path, { highWaterMark: 256 * 1024 }),
        {
          schema: options.schema,
          format: options.format,
          encoding: options.encoding,
          fileName: file.originalname,
          contentType: file.mimetype,
          maxBytes: auth.plan.maxFileBytes,
          maxRecordBytes: this.config.maxRecordBytes,
        },
        sink,
      );
      await sink.commit();
      const duplicateOf = await this.tokens.findDuplicate(auth.orgId, options.schema.name, file.sha256);
      const now = Date.now();
      const record: UploadRecord = {
        fileId,
        orgId: auth.orgId,
        originalFileName,
        path,
        format: summary.format,
        schema: options.schema.name,
        itemCount: summary.itemCount,
        validationErrorCount: summary.validationErrorCount,
        validationErrors: summary.validationErrors,
        validationErrorsTruncated: summary.validationErrorsTruncated,
        errorSummary: summary.errorSummary,
        parsing: summary.parsing,
        sizeBytes: file.size,
        sha256: file.sha256,
        createdAt: new Date(now).toISOString(),
        expiresAt: new Date(now + this.config.fileTtlSeconds * 1000).toISOString(),
        errorColumns: summary.errorColumns,
        duplicateOf,
      };
      await this.tokens.save(record, this.config.fileTtlSeconds);
      stored = true;
      this.metrics.uploads.inc({ format: record.format, outcome: 'accepted' });
      this.metrics.uploadBytes.inc({ format: record.format }, record.sizeBytes);
      this.metrics.countRows(record);
      return toUploadResponse(record);
    } catch (e) {
      if (e instanceof IngestError) {
        this.metrics.uploads.inc({ format: options.format ?? 'unknown', outcome: e.code });
        throw ingestFailure(e, auth.plan.maxFileBytes);
      }
      throw e;
    } finally {
      if (!stored)
        await sink.abort().catch((e: Error) => this.logger.warn(`cleanup of ${fileId} failed: ${e.message}`));
    }
  }

  /** The upload, or the API.md error for an expired/discarded/unknown id. */
  find(auth: AuthContext, fileId: string): Promise<LiveUpload> {
    return this.tokens.require(auth.orgId, fileId);
  }

  async view(auth: AuthContext, fileId: string): Promise<UploadView> {
    const found = await this.find(auth, fileId);
    return toUploadView(found.record, found.state, found.state === 'consumed' ? found.batchId : undefined);
  }

  async discard(auth: AuthContext, fileId: string): Promise<void> {
    if (!looksLikeId(fileId, 'f')) throw fileNotFound(fileId);
    const result = await this.tokens.discard(auth.orgId, fileId);
    if (result.state === 'discarded-now') {
      const objects = uploadObjects(auth.orgId, fileId);
      await Promise.all([this.storage.delete(objects.items), this.storage.delete(objects.errors)]);
      return;
    }
    if (result.state === 'consumed') throw fileAlreadyConsumed(result.batchId);
    requireLive(result, fileId);
  }
}
