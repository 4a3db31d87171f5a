import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { BatchDataRepository } from '../store/batch-data.repository';
import { type BatchRecord, type ChunkItem, FINISHED } from '../store/batch-record';
import { BatchRepository } from '../store/batch.repository';
import { ITEM_PROCESSOR, type ItemProcessor } from './item-processor';

export interface BatchRef {
  orgId: string;
  batchId: string;
}

export interface RunHooks {
  /** Told the processed count after each committed chunk. */
  progress(processed: number): Promise<void>;
  /** True when a transient failure now would not be retried: the batch is then failed instead. */
  lastAttempt: boolean;
}

/** How a run ended, for the queue adapter to map onto its own vocabulary. */
export type RunOutcome =
  | { kind: 'done' }
  /** Shutdown: the chunk in hand was committed; the batch goes back to the queue to resume elsewhere. */
  | { kind: 'handedBack' }
  /** Ended failed (recorded): do not retry. */
  | { kind: 'failed'; message: string }
  /** A transient fault: retry later; the retry resumes from the last checkpoint. */
  | { kind: 'retry'; error: Error };

/**
 * Runs one batch: streams its items from where the last committed chunk ended, processes them in
 * chunks, and after each chunk stores its results and then checkpoints the counters. A worker that
 * dies mid-batch leaves its job to stall; another worker picks it up and resumes after the last
 * checkpoint, so no item is lost and none is counted twice. Cancel and shutdown are honoured between
 * chunks. Knows nothing of the queue.
 */
@Injectable()
export class BatchRunner {
  private readonly logger = new Logger(BatchRunner.name);
  private stopping = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly batches: BatchRepository,
    private readonly data: BatchDataRepository,
    @Inject(ITEM_PROCESSOR) private readonly processor: ItemProcessor,
  ) {}

  /** SIGTERM: finish the chunk in hand, then hand the batch back. */
  stop(): void {
    this.stopping = true;
  }

  async execute({ orgId, batchId }: BatchRef, hooks: RunHooks): Promise<RunOutcome> {
    const batch = await this.batches.get(orgId, batchId);
    if (!batch) return { kind: 'done' }; // past retention, or never created: nothing to do
    if (FINISHED.includes(batch.status)) {
      if (batch.status === 'cancelled') await this.finish(batch, 'cancelled');
      return { kind: 'done' };
    }
    if ((await this.batches.start(orgId, batchId)) === 'cancelled') {
      await this.finish(batch, 'cancelled');
      return { kind: 'done' };
    }
    try {
      return await this.processFrom(batch, hooks);
    } catch (e) {
      const error = e as Error & { code?: string };
      if (error.code !== 'ENOENT' && !hooks.lastAttempt) return { kind: 'retry', error };
      this.logger.error(`batch ${batchId} failed: ${error.message}`);
      const message = error.code === 'ENOENT' ? 'The batch items are no longer stored.' : error.message;
      await this.finish(batch, 'failed', message);
      return { kind: 'failed', message: error.message };
    }
  }

  private async processFrom(batch: BatchRecord, hooks: RunHooks): Promise<RunOutcome> {
    let chunkIndex = batch.nextChunk;
    const counts = { processed: batch.processedCount, succeeded: batch.succeededCount, failed: batch.failedCount };
    let chunk: ChunkItem[] = [];

    /** Commits the chunk in hand; `go` to read on, or how the run ends here. */
    const flush = async (): Promise<'go' | RunOutcome> => {
      const current = await this.batches.get(batch.orgId, batch.id);
      if (!current || current.status === 'cancelled') {
        if (current) await this.finish(current, 'cancelled');
        return { kind: 'done' };
      }
      if (current.nextChunk !== chunkIndex) return { kind: 'done' }; // another worker is ahead: leave it the batch
      const results = await this.processor.process(batch, chunkIndex, chunk);
      let lines = '';
      results.forEach((r, i) => {
        // Items of an upload carry it into their results line (API.md: fileId, and path when it had one).
        const { fileId, path } = chunk[i] ?? {};
        const line = fileId === undefined ? r : { fileId, ...(path ? { path } : {}), ...r };
        lines += JSON.stringify(line) + '\n';
        if (r.status === 'succeeded') counts.succeeded++;
        else counts.failed++;
      });
      counts.processed += chunk.length;
      await this.data.writeResults(batch, chunkIndex, lines, this.config.batchRetentionSeconds);
      if (!(await this.batches.checkpoint(batch.orgId, batch.id, chunkIndex, counts))) return { kind: 'done' };
      chunkIndex++;
      chunk = [];
      await hooks.progress(counts.processed).catch(() => undefined);
      return this.stopping ? { kind: 'handedBack' } : 'go';
    };

    for await (const item of this.data.items(batch, batch.processedCount)) {
      chunk.push(item);
      if (chunk.length >= batch.chunkSize) {
        const next = await flush();
        if (next !== 'go') return next;
      }
    }
    if (chunk.length) {
      const next = await flush();
      if (next !== 'go') return next;
    }
    await this.finish(batch, 'completed');
    return { kind: 'done' };
  }

  private async finish(batch: BatchRecord, status: 'completed' | 'failed' | 'cancelled', error: string | null = null) {
    await this.batches.finish(batch, status, error, this.config.batchRetentionSeconds);
  }
}
