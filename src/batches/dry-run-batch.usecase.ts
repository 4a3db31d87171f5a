import { Injectable } from '@nestjs/common';
import type { AuthContext } from '../auth/auth-context';
import type { RowErrorsBody } from '../common/row-error';
import { AppError } from '../errors/app-error';
import type { CreateReply } from '../store/batch.repository';
import { BatchAdmission } from './batch-admission';
import type { CreateBatchRequest } from './create-batch.request';

export interface QuotaUse {
  maxItemsPerBatch: number;
  maxItemsPerMonth: number | null;
  usedThisMonth: number;
  wouldUse: number;
  remainingThisMonth: number | null;
  activeBatches: number;
  maxConcurrentBatches: number;
}

/** What the real request would get: accepted (202) or refused (its status and error), with what is known. */
export interface Verdict {
  verdict: 'accepted' | 'refused';
  status: number;
  error?: AppError;
  itemCount?: number;
  fileId?: string;
  fileIds?: string[];
  quota?: QuotaUse;
  rows?: RowErrorsBody;
}

/**
 * `dryRun: true`: the creation script run in check-only mode. Every refusal is a verdict (API.md,
 * settled questions); a malformed request stays a 400 and a fault a 5xx, thrown.
 */
@Injectable()
export class DryRunBatch {
  constructor(private readonly admission: BatchAdmission) {}

  async execute(auth: AuthContext, req: CreateBatchRequest): Promise<Verdict> {
    const fileId = {
      ...(req.fileId !== undefined && { fileId: req.fileId }),
      ...(req.fileIds !== undefined && { fileIds: req.fileIds }),
    };
    try {
      const { reply, rows } = await this.admission.admit(auth, req, true);
      if (reply.kind === 'consumed' || reply.kind === 'missing') throw await this.admission.refusal(auth, req, reply);
      const shown = rows && (rows.validationErrorCount ?? 0) > 0 ? { rows } : {};
      const known = { itemCount: reply.itemCount, ...fileId, quota: quotaUse(auth, reply), ...shown };
      if (reply.kind === 'ok') return { verdict: 'accepted', status: 202, ...known };
      const error = await this.admission.refusal(auth, req, reply);
      return { verdict: 'refused', status: error.status, error, ...known };
    } catch (e) {
      if (!(e instanceof AppError) || e.code === 'validation_error' || e.status >= 500) throw e;
      return { verdict: 'refused', status: e.status, error: e, ...fileId, ...(e.rows && { rows: e.rows }) };
    }
  }
}

function quotaUse(auth: AuthContext, usage: Extract<CreateReply, { kind: 'ok' | 'quota' }>): QuotaUse {
  const plan = auth.plan;
  return {
    maxItemsPerBatch: plan.maxItemsPerBatch,
    maxItemsPerMonth: plan.maxItemsPerMonth,
    usedThisMonth: usage.usedThisMonth,
    wouldUse: usage.itemCount,
    remainingThisMonth:
      plan.maxItemsPerMonth === null ? null : plan.maxItemsPerMonth - usage.usedThisMonth - usage.itemCount,
    activeBatches: usage.activeBatches,
    maxConcurrentBatches: plan.maxConcurrentBatches,
  };
}
