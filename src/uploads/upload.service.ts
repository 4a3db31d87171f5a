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
import { FileTokenRepository, type LiveUpload } from '../store/file-token.repository';
import type { SpooledFile } from './spool-storage.engine';

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
    const record = await this.intake.run({
      orgId: auth.orgId,
      maxFileBytes: auth.plan.maxFileBytes,
      open: () => createReadStream(file.path, { highWaterMark: 256 * 1024 }),
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
    const { record } = found;
    // As it stands now: the earlier upload it named may have been consumed or discarded since.
    const duplicateOf = await this.tokens.findDuplicate(auth.orgId, record.schema, record.sha256, record);
    return toUploadView(
      { ...record, duplicateOf },
      found.state,
      found.state === 'consumed' ? found.batchId : undefined,
    );
  }

  discard(auth: AuthContext, fileId: string): Promise<void> {
    return this.intake.discard(auth.orgId, fileId);
  }
}
