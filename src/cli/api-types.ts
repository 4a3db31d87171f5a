/**
 * The HTTP bodies the CLI reads and sends, as the service's own TypeScript types: each is imported
 * from the code that builds the answer, so a contract change in the service breaks `nest build`
 * here rather than a user's script. Types only: nothing of these modules is loaded at run time
 * (eslint.config.mjs allows the CLI type imports from the service and nothing else but common/).
 */
import type { createdBody, verdictBody } from '../batches/batch-answers';
import type { CreateBatchRequest } from '../batches/create-batch.request';
import type { BatchService } from '../batches/batch.service';
import type { RowError, RowErrorsBody } from '../common/row-error';
import type { ErrorCode } from '../errors/app-error';
import type { ItemResult } from '../processing/item-processor';
import type { BatchView } from '../store/batch-record';
import type { UploadReaderService } from '../uploads/upload-reader.service';
import type { RefusedFile, SeveralUploadsResponse, UploadResponse, UploadView } from '../intake/upload-view';
import type { SessionFileRefusal } from '../sessions/session-request';
import type { SessionCreated, SessionView, SignedPartUrl } from '../sessions/session-view';
import type { UploadSessionsService } from '../sessions/upload-sessions.service';

export type {
  BatchView,
  RefusedFile,
  RowError,
  SessionCreated,
  SessionFileRefusal,
  SessionView,
  SeveralUploadsResponse,
  SignedPartUrl,
  UploadResponse,
  UploadView,
};

/** POST /v1/batch/upload: one file part answers the single body, two or more the several-files body. */
export type UploadAnswer = UploadResponse | SeveralUploadsResponse;

/** GET /v1/batch/upload/{fileId}/errors (JSON). */
export type RowErrorPage = Awaited<ReturnType<UploadReaderService['errors']>>;

/** GET /v1/batch/upload/{fileId}/preview. */
export type UploadPreview = Awaited<ReturnType<UploadReaderService['preview']>>;

/** GET /v1/batches. */
export type BatchPage = Awaited<ReturnType<BatchService['list']>>;

/** POST /v1/batch's 202 body. */
export type BatchCreated = ReturnType<typeof createdBody>;

/** POST /v1/batch's 200 body for `dryRun: true`. */
export type DryRunVerdict = ReturnType<typeof verdictBody>;

/** What the CLI sends to POST /v1/batch: the request the service parses, as JSON (files only). */
export type CreateBatchBody = Partial<Pick<CreateBatchRequest, 'fileId' | 'fileIds'>> & {
  name?: CreateBatchRequest['name'];
  metadata?: CreateBatchRequest['metadata'];
  dryRun?: CreateBatchRequest['dryRun'];
};

/** One line of GET /v1/batch/{id}/results (NDJSON). */
export type ResultLine = ItemResult & { fileId?: string; path?: string };

/** API.md's error envelope. */
export interface ErrorEnvelope extends Partial<RowErrorsBody> {
  error: { code: ErrorCode; message: string; details?: Record<string, unknown> };
  requestId: string;
}

/** One file of POST /v1/uploads, as API.md "Upload sessions" lists its fields. */
export interface SessionFileRequest {
  filename: string;
  sizeBytes: number;
  contentType?: string;
  sha256?: string;
  path?: string;
  schema?: string;
  format?: string;
  encoding?: string;
}

/** POST /v1/uploads's 201 body. */
export type SessionsCreated = Awaited<ReturnType<UploadSessionsService['create']>>;

/** POST /v1/uploads/{id}/parts's 200 body. */
export type FreshPartUrls = Awaited<ReturnType<UploadSessionsService['parts']>>;
