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

export type { BatchView, RefusedFile, RowError, SeveralUploadsResponse, UploadResponse, UploadView };

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
