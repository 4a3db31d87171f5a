import { Injectable } from '@nestjs/common';
import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { AuthContext } from '../auth/auth-context';
import { AppError } from '../errors/app-error';
import { fileRequired, payloadTooLarge } from '../errors/errors';
import { SchemaRegistry } from '../ingest/schema-registry';
import { IntakeService } from '../intake/intake.service';
import { type UploadFields, readUploadFields } from '../intake/upload-fields';
import { checkedPath, splitFileName } from '../intake/upload-path';
import {
  type RefusedFile,
  type SeveralUploadsResponse,
  type UploadedFile,
  type UploadResponse,
  type UploadView,
  everyFileRefused,
  severalMessage,
  toUploadResponse,
  toUploadView,
} from '../intake/upload-view';
import { MetricsService } from '../metrics/metrics.service';
import { FileTokenRepository, type LiveUpload } from '../store/file-token.repository';
import { EarlyRead } from './early-read';
import { SPOOL_READ_BYTES } from './spool-file';
import type { ArrivingPart, SpooledFile } from './spool-storage.engine';

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

/** Direct uploads: the ingest run that turns a spooled file into stored items and a fileId; lookup and discard. */
@Injectable()
export class UploadService {
  constructor(
    private readonly schemas: SchemaRegistry,
    private readonly tokens: FileTokenRepository,
    private readonly intake: IntakeService,
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
    early?: EarlyRead,
  ): Promise<UploadResponse | SeveralUploadsResponse> {
    try {
      if (files.length === 0) throw fileRequired();
      const options = readUploadFields(fields, this.schemas);
      if (files.length === 1) return await this.uploadOne(auth, files[0], options, options.path, early);
      const accepted: UploadedFile[] = [];
      const refused: RefusedFile[] = [];
      for (const file of files) {
        try {
          const { path, ...body } = await this.uploadOne(auth, file, options, undefined, early);
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
      if (early) await this.dropEarlyRead(early);
      await Promise.all(files.filter((f) => f.path).map((f) => rm(f.path, { force: true })));
    }
  }

  /** Drops an early read not used (a no-op once decided); resolves when what it wrote is gone. */
  dropEarlyRead(early: EarlyRead): Promise<void> {
    if (!early.decided) this.metrics.earlyReads.inc({ outcome: 'dropped' });
    return early.drop();
  }

  /**
   * Starts reading the request's first file part as it arrives (EarlyRead), with the form fields
   * that came before it; undefined for a later part, or when those fields would be refused.
   */
  beginEarlyRead(auth: AuthContext, part: ArrivingPart, fieldsSoFar: Record<string, unknown>): EarlyRead | undefined {
    if (part.index !== 0) return undefined;
    let fields: UploadFields;
    try {
      fields = readUploadFields(fieldsSoFar, this.schemas);
    } catch {
      return undefined;
    }
    const early = new EarlyRead(part.index, fields);
    const { originalFileName } = splitFileName(part.originalname);
    early.start(
      () => part.spool.follow(),
      (open, beforeSave) =>
        this.intake.run({
          orgId: auth.orgId,
          maxFileBytes: auth.plan.maxFileBytes,
          open,
          fields,
          fileName: part.originalname,
          contentType: part.mimetype,
          originalFileName,
          path: null,
          digest: () => {
            if (!part.spool.digest) throw new Error('the spooled part has no digest: it did not end');
            return part.spool.digest;
          },
          beforeSave,
          tentative: true,
        }),
    );
    return early;
  }

  private async uploadOne(
    auth: AuthContext,
    file: SpooledFile,
    options: UploadFields,
    pathField: string | undefined,
    early: EarlyRead | undefined,
  ): Promise<UploadResponse> {
    const { originalFileName, path: fromName } = splitFileName(file.originalname);
    const path = pathField ?? fromName;
    if (path !== null) checkedPath(path);
    if (file.tooLarge) throw payloadTooLarge(auth.plan.maxFileBytes);
    if (early?.index === file.index) {
      if (early.matches(options)) {
        const record = await early.use(path);
        this.metrics.earlyReads.inc({ outcome: record ? 'used' : 'reread' });
        if (record) return toUploadResponse(record);
        // The early read failed (a refusal, a fault): the read of the spool file gives the answer.
      } else await this.dropEarlyRead(early);
    }
    return this.ingestFile(auth, file, options, originalFileName, path);
  }

  private async ingestFile(
    auth: AuthContext,
    file: SpooledFile,
    options: UploadFields,
    originalFileName: string,
    path: string | null,
  ): Promise<UploadResponse> {
    const record = await this.intake.run({
      orgId: auth.orgId,
      maxFileBytes: auth.plan.maxFileBytes,
      open: () => createReadStream(file.path, { highWaterMark: SPOOL_READ_BYTES }),
      fields: options,
      fileName: file.originalname,
      contentType: file.mimetype,
      originalFileName,
      path,
      digest: () => ({ sizeBytes: file.size, sha256: file.sha256 }),
    });
    return toUploadResponse(record);
  }

  /** The upload, or the API.md error for an expired/discarded/unknown id. */
  find(auth: AuthContext, fileId: string): Promise<LiveUpload> {
    return this.tokens.require(auth.orgId, fileId);
  }

  async view(auth: AuthContext, fileId: string): Promise<UploadView> {
    const found = await this.find(auth, fileId);
    return toUploadView(found.record, found.state, found.state === 'consumed' ? found.batchId : undefined);
  }

  discard(auth: AuthContext, fileId: string): Promise<void> {
    return this.intake.discard(auth.orgId, fileId);
  }
}
