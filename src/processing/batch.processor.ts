import { Inject, Injectable, Logger } from '@nestjs/common';
import { type Job, UnrecoverableError, WaitingError } from 'bullmq';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import type { BatchJobData } from '../queue/batch-queue';
import { type BatchRecord, FINISHED } from '../tokens/batch-record';
import { BatchRepository } from '../tokens/batch.repository';
import { BatchDataStore } from './batch-data.store';
import { type ChunkItem, ITEM_PROCESSOR, type ItemProcessor } from './item-processor';

export function retentionSeconds(config: AppConfig): number {
  return config.batchRetentionDays * 86400;
}

/**
 * Runs one batch: streams its items from where the last committed chunk ended, processes them in
 * chunks, and after each chunk stores its results and then checkpoints the counters. A worker that
 * dies mid-batch leaves the job to stall; another worker picks it up and resumes after the last
 * checkpoint, so no item is lost and none is counted twice. Cancel and shutdown are honoured
 * between chunks.
 */
@Injectable()
export class BatchProcessor {
  private readonly logger = new Logger(BatchProcessor.name);
  private stopping = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly batches: BatchRepository,
    private readonly data: BatchDataStore,
    @Inject(ITEM_PROCESSOR) private readonly processor: ItemProcessor,
  ) {}

  /** SIGTERM: finish the chunk in hand, then hand the job back to the queue. */
  stop(): void {
    this.stopping = true;
  }

  async run(job: Job<BatchJobData>, token?: string): Promise<void> {
    const { orgId, batchId } = job.data;
    const batch = await this.batches.get(orgId, batchId);
    if (!batch) return; // past retention, or never created: nothing to do
    if (FINISHED.includes(batch.status)) {
      if (batch.status === 'cancelled') await this.finish(batch, 'cancelled');
      return;
    }
    if ((await this.batches.start(orgId, batchId)) === 'cancelled') {
      await this.finish(batch, 'cancelled');
      return;
    }
    try {
      await this.processFrom(batch, job, token);
    } catch (e) {
      if (e instanceof WaitingError) throw e;
      const code = (e as { code?: string }).code;
      const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      if (code === 'ENOENT' || e instanceof UnrecoverableError || lastAttempt) {
        this.logger.error(`batch ${batchId} failed: ${(e as Error).message}`);
        await this.finish(
          batch,
          'failed',
          code === 'ENOENT' ? 'The batch items are no longer stored.' : (e as Error).message,
        );
        throw new UnrecoverableError((e as Error).message);
      }
      throw e; // transient: BullMQ retries with backoff, and the retry resumes from the checkpoint
    }
  }

  private async processFrom(batch: BatchRecord, job: Job<BatchJobData>, token?: string): Promise<void> {
    let chunkIndex = batch.nextChunk;
    const counts = { processed: batch.processedCount, succeeded: batch.succeededCount, failed: batch.failedCount };
    let chunk: ChunkItem[] = [];

    const flush = async (): Promise<boolean> => {
      const current = await this.batches.get(batch.orgId, batch.id);
      if (!current || current.status === 'cancelled') {
        if (current) await this.finish(current, 'cancelled');
        return false;
      }
      if (current.nextChunk !== chunkIndex) return false; // another worker is ahead: leave it the batch
      const results = await this.processor.process(batch, chunkIndex, chunk);
      let lines = '';
      for (const r of results) {
        lines += JSON.stringify(r) + '\n';
        if (r.status === 'succeeded') counts.succeeded++;
        else counts.failed++;
      }
      counts.processed += chunk.length;
      await this.data.writeResults(batch, chunkIndex, lines, retentionSeconds(this.config));
      if (!(await this.batches.checkpoint(batch.orgId, batch.id, chunkIndex, counts))) return false;
      chunkIndex++;
      chunk = [];
      await job.updateProgress(counts.processed).catch(() => undefined);
      if (this.stopping) {
        await job.moveToWait(token);
        throw new WaitingError();
      }
      return true;
    };

    for await (const item of this.data.items(batch, batch.processedCount)) {
      chunk.push(item);
      if (chunk.length >= batch.chunkSize && !(await flush())) return;
    }
    if (chunk.length && !(await flush())) return;
    await this.finish(batch, 'completed');
  }

  private async finish(batch: BatchRecord, status: 'completed' | 'failed' | 'cancelled', error: string | null = null) {
    await this.batches.finish(batch, status, error, retentionSeconds(this.config));
  }
}
