import type { UploadRecord } from '../store/upload-record';

/** API.md's upload body (POST /v1/batch/upload's 200). */
export type UploadResponse = Omit<UploadRecord, 'orgId' | 'createdAt' | 'errorColumns'> & { message: string };

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

export function toUploadView(r: UploadRecord, state: UploadView['status'], batchId?: string): UploadView {
  const { validationErrors: _listed, ...rest } = toUploadResponse(r);
  return { ...rest, createdAt: r.createdAt, status: state, ...(batchId !== undefined && { batchId }) };
}
