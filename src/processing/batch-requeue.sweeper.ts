import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { BATCH_QUEUE, type BatchJobData, batchJobOptions } from '../queue/batch-queue';
import { BatchRepository } from '../store/batch.repository';

/**
 * Re-adds the job of every queued or processing batch whose job is missing: the window between the
 * creation script and the enqueue (an api that died there, or Redis refusing the add). Adding a job
 * that exists is harmless (jobId = batchId), so any number of workers may run it.
 */
@Injectable()
export class BatchRequeueSweeper {
  private readonly logger = new Logger(BatchRequeueSweeper.name);

  constructor(
    @Inject(BATCH_QUEUE) private readonly queue: Queue<BatchJobData>,
    private readonly batches: BatchRepository,
  ) {}

  async sweep(): Promise<void> {
    for (const [orgId, batchId] of await this.batches.activeBatches()) {
      const batch = await this.batches.get(orgId, batchId);
      if (!batch || (batch.status !== 'queued' && batch.status !== 'processing')) continue;
      if (!(await this.queue.getJob(batchId))) {
        this.logger.log(`re-enqueueing batch ${batchId} (its job was missing)`);
        await this.queue.add('batch', { orgId, batchId }, batchJobOptions(batchId));
      }
    }
  }
}
