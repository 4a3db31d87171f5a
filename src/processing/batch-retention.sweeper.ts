import { Injectable } from '@nestjs/common';
import { BatchDataRepository } from '../store/batch-data.repository';
import { BatchRepository } from '../store/batch.repository';

const PER_PASS = 100;

/**
 * Deletes what a finished batch leaves once BATCH_RETENTION_DAYS have passed: its items, results and
 * the error log of the upload it came from, then the record. Deleting twice is harmless.
 */
@Injectable()
export class BatchRetentionSweeper {
  constructor(
    private readonly batches: BatchRepository,
    private readonly data: BatchDataRepository,
  ) {}

  async sweep(now = Date.now()): Promise<void> {
    for (const member of await this.batches.expiredRetention(now, PER_PASS)) {
      const [orgId, batchId] = member.split('/');
      const batch = await this.batches.get(orgId, batchId);
      if (batch) {
        await this.data.deleteAll(batch);
        await this.batches.delete(orgId, batchId);
      }
      await this.batches.forgetRetention(member);
    }
  }
}
