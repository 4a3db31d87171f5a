import type { JobsOptions } from 'bullmq';

export const BATCH_QUEUE_NAME = 'batches';
export const BATCH_QUEUE = Symbol('BATCH_QUEUE');

/** Job payloads carry ids only, never rows (BullMQ "going to production"). */
export interface BatchJobData {
  orgId: string;
  batchId: string;
}

/** One job per batch; the batch id is the job id (never contains ':' nor is all digits), so adding twice is harmless. */
export function batchJobOptions(batchId: string): JobsOptions {
  return {
    jobId: batchId,
    attempts: 5,
    backoff: { type: 'exponential', delay: 1000 },
    removeOnComplete: true,
    removeOnFail: { age: 7 * 24 * 3600 },
  };
}
