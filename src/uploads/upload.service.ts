import { Inject, Injectable, Logger } from '@nestjs/common';
import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import type { AuthContext } from '../auth/auth-context';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { looksLikeId } from '../common/query';
import { AppError } from '../errors/app-error';
import { type EncodingName, normalizeEncoding } from '../ingest/detect';
import { ingest } from '../ingest/ingest';
import { SchemaRegistry } from '../ingest/schema-registry';
import { ErrorCollector } from '../ingest/error-collector';
import { FORMATS, type Format, IngestError } from '../ingest/types';
import type { ErrorSummaryEntry, RowError } from '../common/row-error';
import { MetricsService } from '../metrics/metrics.service';
import { FILE_STORAGE, type FileStorage, type StorageWriter } from '../storage/file-storage';
import { FileTokenRepository } from '../tokens/file-token.repository';
import { type UploadLookup, type UploadRecord, uploadObjects } from '../tokens/upload-record';
import { FILE_REQUIRED } from './multipart.interceptor';
import type { SpooledFile } from './spool-storage.engine';

export type UploadResponse = Omit<UploadRecord, 'orgId' | 'createdAt' | 'errorColumns'> & { message: string };
export type UploadView = Omit<UploadResponse, 'validationErrors'> & {
  status: 'available' | 'consumed';
  batchId?: string;
  createdAt: string;
};

/** 128 random bits, URL-safe (API.md asks for at least 122). */
export function newId(prefix: string): string {
  return `${prefix}_${randomBytes(16).toString('base64url')}`;
}

function field(fields: Record<string, unknown>, name: string): string | undefined {
  const v = fields[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string')
    throw new AppError('validation_error', `Form field "${name}" must be given once, as text.`);
  return v.trim() === '' ? undefined : v.trim();
}

/** One { field, code, count } per kind of error. */
function summarize(errors: RowError[]): ErrorSummaryEntry[] {
  const collector = new ErrorCollector();
  for (const e of errors) collector.add(e);
  return collector.errorSummary();
}

export function ingestErrorToAppError(e: IngestError): AppError {
  if (e.code === 'file_parsing_failed') {
    const extra = e.extra as { validationErrorCount?: number; validationErrorsTruncated?: boolean; errorSummary?: [] };
    return new AppError('file_parsing_failed', e.message, undefined, {
      validationErrors: e.validationErrors,
      validationErrorCount: extra.validationErrorCount ?? e.validationErrors.length,
      validationErrorsTruncated: extra.validationErrorsTruncated ?? false,
      errorSummary: extra.errorSummary ?? summarize(e.validationErrors),
    });
  }
  return new AppError(e.code, e.message, Object.keys(e.extra).length ? e.extra : undefined);
}

/** An upload's objects being written: items and rejected rows, as NDJSON. */
class UploadSink {
  constructor(
    readonly items: StorageWriter,
    readonly errors: StorageWriter,
  ) {}
  item(row: number, item: Record<string, unknown>) {
    return this.items.write(`{"row":${row},"item":${JSON.stringify(item)}}\n`);
  }
  rejected(error: RowError, raw: unknown) {
    return this.errors.write(`${JSON.stringify({ ...error, raw })}\n`);
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

  /** Parses and validates the spooled file, stores its items, and issues the single-use fileId (written last). */
  async upload(
    auth: AuthContext,
    file: SpooledFile | undefined,
    fields: Record<string, unknown>,
  ): Promise<UploadResponse> {
    try {
      if (!file) throw new AppError('validation_error', FILE_REQUIRED);
      const options = this.readFields(fields);
      return await this.store(auth, file, options);
    } finally {
      if (file) await rm(file.path, { force: true });
    }
  }

  private readFields(fields: Record<string, unknown>) {
    const schemaName = field(fields, 'schema') ?? 'default';
    const schema = this.schemas.get(schemaName);
    if (!schema) {
      throw new AppError(
        'validation_error',
        `Unknown schema "${schemaName}". Known schemas: ${this.schemas.names().join(', ')}.`,
      );
    }
    const format = field(fields, 'format')?.toLowerCase();
    if (format !== undefined && !FORMATS.includes(format as Format)) {
      throw new AppError('validation_error', `Unknown format "${format}": use csv, json or ndjson.`);
    }
    const encodingName = field(fields, 'encoding');
    let encoding: EncodingName | undefined;
    if (encodingName !== undefined) {
      encoding = normalizeEncoding(encodingName);
      if (!encoding) {
        throw new AppError(
          'validation_error',
          `Unknown encoding "${encodingName}": use utf-8, utf-16le, utf-16be or windows-1252.`,
        );
      }
    }
    return { schema, format: format as Format | undefined, encoding };
  }

  private async store(
    auth: AuthContext,
    file: SpooledFile,
    options: ReturnType<UploadService['readFields']>,
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
      const now = Date.now();
      const record: UploadRecord = {
        fileId,
        orgId: auth.orgId,
        originalFileName: file.originalname,
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
      };
      await this.tokens.save(record, this.config.fileTtlSeconds);
      stored = true;
      this.count(record);
      return toUploadResponse(record);
    } catch (e) {
      if (e instanceof IngestError) {
        this.metrics.uploads.inc({ format: options.format ?? 'unknown', outcome: e.code });
        if (e.code === 'payload_too_large') e.extra.maxBytes = auth.plan.maxFileBytes;
        throw ingestErrorToAppError(e);
      }
      throw e;
    } finally {
      if (!stored)
        await sink.abort().catch((e: Error) => this.logger.warn(`cleanup of ${fileId} failed: ${e.message}`));
    }
  }

  private count(record: UploadRecord): void {
    this.metrics.uploads.inc({ format: record.format, outcome: 'accepted' });
    this.metrics.uploadBytes.inc({ format: record.format }, record.sizeBytes);
    this.metrics.rowsValidated.inc({ result: 'valid' }, record.itemCount);
    this.metrics.rowsValidated.inc({ result: 'rejected' }, record.validationErrorCount);
    for (const { code, count } of record.errorSummary) this.metrics.rowsRejected.inc({ code }, count);
  }

  /** The upload, or the API.md error for a consumed/expired/discarded/unknown id. */
  async find(auth: AuthContext, fileId: string): Promise<Extract<UploadLookup, { record: UploadRecord }>> {
    if (!looksLikeId(fileId, 'f')) throw new AppError('file_not_found', `File ${fileId.slice(0, 64)} not found.`);
    const found = await this.tokens.find(auth.orgId, fileId);
    return requireRecord(found, fileId);
  }

  async view(auth: AuthContext, fileId: string): Promise<UploadView> {
    const found = await this.find(auth, fileId);
    const { validationErrors: _listed, ...rest } = toUploadResponse(found.record);
    return {
      ...rest,
      createdAt: found.record.createdAt,
      status: found.state,
      ...(found.state === 'consumed' && { batchId: found.batchId }),
    };
  }

  async discard(auth: AuthContext, fileId: string): Promise<void> {
    if (!looksLikeId(fileId, 'f')) throw new AppError('file_not_found', `File ${fileId.slice(0, 64)} not found.`);
    const result = await this.tokens.discard(auth.orgId, fileId);
    if (result.state === 'discarded-now') {
      const objects = uploadObjects(auth.orgId, fileId);
      await Promise.all([this.storage.delete(objects.items), this.storage.delete(objects.errors)]);
      return;
    }
    if (result.state === 'consumed') {
      throw new AppError('file_already_consumed', 'This file was already used to create a batch.', {
        batchId: result.batchId,
      });
    }
    requireRecord(result, fileId);
  }
}

export function requireRecord(found: UploadLookup, fileId: string): Extract<UploadLookup, { record: UploadRecord }> {
  switch (found.state) {
    case 'available':
    case 'consumed':
      return found;
    case 'expired':
      throw new AppError('file_expired', `File ${fileId} has expired. Upload the file again.`);
    case 'discarded':
    case 'unknown':
      throw new AppError('file_not_found', `File ${fileId} not found.`);
  }
}

export function toUploadResponse(r: UploadRecord): UploadResponse {
  const message =
    r.validationErrorCount > 0
      ? `File uploaded with ${r.validationErrorCount} validation warning(s). Items with errors were skipped.`
      : 'File uploaded successfully';
  return {
    fileId: r.fileId,
    originalFileName: r.originalFileName,
    format: r.format,
    schema: r.schema,
    itemCount: r.itemCount,
    validationErrorCount: r.validationErrorCount,
    validationErrors: r.validationErrors,
    validationErrorsTruncated: r.validationErrorsTruncated,
    errorSummary: r.errorSummary,
    parsing: r.parsing,
    sizeBytes: r.sizeBytes,
    sha256: r.sha256,
    expiresAt: r.expiresAt,
    message,
  };
}
