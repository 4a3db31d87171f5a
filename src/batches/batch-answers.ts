import type { CreatedBatch } from './create-batch.usecase';
import type { Verdict } from './dry-run-batch.usecase';

/** POST /v1/batch's 202 body. */
export function createdBody(b: CreatedBatch) {
  return {
    id: b.id,
    status: 'queued' as const,
    itemCount: b.itemCount,
    ...(b.fileId !== undefined && { fileId: b.fileId }),
    ...(b.fileIds !== undefined && { fileIds: b.fileIds }),
    createdAt: b.createdAt,
    ...(b.rows && (b.rows.validationErrorCount ?? 0) > 0 && b.rows),
  };
}

/** A dry run's 200 body: verdict and status first, as the README shows. */
export function verdictBody(v: Verdict) {
  const e = v.error;
  return {
    dryRun: true,
    verdict: v.verdict,
    status: v.status,
    ...(e && { error: { code: e.code, message: e.message, ...(e.details && { details: e.details }) } }),
    ...(v.itemCount !== undefined && { itemCount: v.itemCount }),
    ...(v.fileId !== undefined && { fileId: v.fileId }),
    ...(v.fileIds !== undefined && { fileIds: v.fileIds }),
    ...(v.quota && { quota: v.quota }),
    ...v.rows,
  };
}
