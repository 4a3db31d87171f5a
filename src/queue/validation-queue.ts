import type { JobsOptions } from 'bullmq';

export const VALIDATION_QUEUE_NAME = 'validations';
export const VALIDATION_QUEUE = Symbol('VALIDATION_QUEUE');

/** An upload session to validate: ids only, the session itself is in Redis. */
export interface ValidationJobData {
  orgId: string;
  uploadId: string;
}

/**
 * One job per session, its id the session's (`u_…`: no ':' and not all digits), so a second `complete`
 * or the sweep adding it again is harmless. A worker that dies mid-validation loses its lock and the job
 * runs again (stalled); the run itself makes sure the session ends ready or failed once.
 */
export function validationJobOptions(uploadId: string): JobsOptions {
  return {
    jobId: uploadId,
    attempts: 3,
    backoff: { type: 'exponential', delay: 2000 },
    removeOnComplete: true,
    removeOnFail: { age: 24 * 3600 },
  };
}
