import type { RowError } from '../common/row-error';
import { AppError } from '../errors/app-error';
import type { DuplicateOf, UploadRecord } from '../store/upload-record';

/** API.md's upload body (POST /v1/batch/upload's 200). */
export type UploadResponse = Omit<UploadRecord, 'orgId' | 'createdAt' | 'errorColumns' | 'path' | 'duplicateOf'> & {
  path: string | null;
  duplicateOf: DuplicateOf | null;
  message: string;
};

/** GET /v1/batch/upload/{fileId}: the body without its error list, with status and batchId. */
export type UploadView = Omit<UploadResponse, 'validationErrors'> & {
  status: 'available' | 'consumed';
  batchId?: string;
  createdAt: string;
};

export function toUploadResponse(r: UploadRecord): UploadResponse {
  const message =
    r.validationErrorCount > 0
      ? `File uploaded with ${r.validationErrorCount} validation warning(s). Items with errors were skipped.`
      : 'File uploaded successfully';
  return {
    fileId: r.fileId,
    originalFileName: r.originalFileName,
    path: r.path ?? null,
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
    duplicateOf: r.duplicateOf ?? null,
    expiresAt: r.expiresAt,
    message,
  };
}

export function toUploadView(r: UploadRecord, state: UploadView['status'], batchId?: string): UploadView {
  const { validationErrors: _listed, ...rest } = toUploadResponse(r);
  return { ...rest, createdAt: r.createdAt, status: state, ...(batchId !== undefined && { batchId }) };
}

/** One file of a several-file answer: its part's position first, then the single-file body. */
export type UploadedFile = { index: number } & UploadResponse;

/** One refused file of a several-file answer (API.md, "Several files"). */
export interface RefusedFile {
  index: number;
  originalFileName: string;
  path: string | null;
  status: number;
  error: { code: string; message: string; details?: Record<string, unknown> };
  validationErrors: unknown[];
}

/** POST /v1/batch/upload with two or more file parts. */
export interface SeveralUploadsResponse {
  files: UploadedFile[];
  errors: RefusedFile[];
  message: string;
}

export function severalMessage(accepted: number, refused: number): string {
  return `${accepted + refused} files: ${accepted} uploaded, ${refused} refused.`;
}

/** Every file refused: the first refusal's status and envelope, with every file's refusal in details.files. */
export function everyFileRefused(refused: Pick<RefusedFile, 'error' | 'validationErrors'>[]): AppError {
  const first = refused[0];
  return new AppError(
    first.error.code as AppError['code'],
    first.error.message,
    { ...first.error.details, files: refused },
    first.validationErrors.length ? { validationErrors: first.validationErrors as RowError[] } : undefined,
  );
}
