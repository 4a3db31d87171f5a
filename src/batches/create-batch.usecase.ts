import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Queue } from 'bullmq';
import type { AuthContext } from '../auth/auth-context';
import type { RowErrorsBody } from '../common/row-error';
import { AppError } from '../errors/app-error';
import { MetricsService } from '../metrics/metrics.service';
import { BATCH_QUEUE, type BatchJobData, batchJobOptions } from '../queue/batch-queue';
import { BatchAdmission } from './batch-admission';
import type { CreateBatchRequest } from './create-batch.request';

export interface CreatedBatch {
  id: string;
  itemCount: number;
  fileId?: string;
  fileIds?: string[];
  createdAt: string;
  /** Direct items only: the row errors of the items that were skipped. */
  rows?: RowErrorsBody;
}

/**
 * POST /v1/batch: the batch is created, and its upload consumed, by one script that checks the plan
 * limits atomically (a refusal changes nothing); then its job is enqueued. Returns the batch or
 * throws the API.md refusal.
 */
@Injectable()
export class CreateBatch {
  private readonly logger = new Logger(CreateBatch.name);

  constructor(
    @Inject(BATCH_QUEUE) private readonly queue: Queue<BatchJobData>,
    private readonly admission: BatchAdmission,
    private readonly metrics: MetricsService,
  ) {}

  async execute(auth: AuthContext, req: CreateBatchRequest): Promise<CreatedBatch> {
    const { record, reply, rows } = await this.admission.admit(auth, req, false);
    if (reply.kind !== 'ok') {
      const refusal = await this.admission.refusal(auth, req, reply);
      if (req.items === undefined) this.countConsumption(refusal);
      throw refusal;
    }
    if (req.items === undefined) this.metrics.tokenConsumptions.inc({ outcome: 'consumed' });
    this.metrics.batches.inc({ status: 'queued' });
    try {
      await this.queue.add('batch', { orgId: auth.orgId, batchId: record.id }, batchJobOptions(record.id));
    } catch (e) {
      // The batch is recorded as queued: the worker's sweep enqueues it. The client still gets its 202.
      this.logger.warn(`enqueue of batch ${record.id} failed, left to the sweep: ${(e as Error).message}`);
    }
    return {
      id: record.id,
      itemCount: reply.itemCount,
      ...(req.fileId !== undefined && { fileId: req.fileId }),
      ...(req.fileIds !== undefined && { fileIds: req.fileIds }),
      createdAt: record.createdAt,
      ...(rows && { rows }),
    };
  }

  private countConsumption(refusal: AppError): void {
    const outcome = refusal.code === 'quota_exceeded' ? `quota_${String(refusal.details?.limit)}` : refusal.code;
    this.metrics.tokenConsumptions.inc({ outcome });
  }
}
