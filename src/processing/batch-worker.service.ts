import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { type Queue, Worker } from 'bullmq';
import Redis from 'ioredis';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { closeRedis } from '../redis/redis.module';
import { BATCH_QUEUE, BATCH_QUEUE_NAME, type BatchJobData, batchJobOptions } from '../queue/batch-queue';
import { BatchRepository } from '../tokens/batch.repository';
import { uploadObjects } from '../tokens/upload-record';
import { FILE_STORAGE, type FileStorage } from '../storage/file-storage';
import { BatchDataStore } from './batch-data.store';
import { BatchProcessor } from './batch.processor';

const SWEEP_EVERY_MS = 60_000;

/**
 * The BullMQ consumer. Its connection retries forever (`maxRetriesPerRequest: null`, as BullMQ
 * requires for workers). At start and every minute it re-adds `queued`/`processing` batches whose
 * job is missing (the window between the creation script and the enqueue), and deletes the stored
 * data of batches past their retention.
 */
@Injectable()
export class BatchWorkerService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(BatchWorkerService.name);
  private worker?: Worker<BatchJobData>;
  private connection?: Redis;
  private timer?: NodeJS.Timeout;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(BATCH_QUEUE) private readonly queue: Queue<BatchJobData>,
    @Inject(FILE_STORAGE) private readonly storage: FileStorage,
    private readonly batches: BatchRepository,
    private readonly data: BatchDataStore,
    private readonly processor: BatchProcessor,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.connection = new Redis(this.config.redisUrl, { maxRetriesPerRequest: null }).on('error', () => undefined);
    this.worker = new Worker<BatchJobData>(BATCH_QUEUE_NAME, (job, token) => this.processor.run(job, token), {
      connection: this.connection,
      prefix: this.config.queuePrefix,
      concurrency: this.config.workerConcurrency,
      lockDuration: this.config.workerLockMs,
      stalledInterval: this.config.workerLockMs,
      maxStalledCount: 100,
    });
    this.worker.on('error', (e) => this.logger.warn(`worker: ${e.message}`));
    await this.sweep().catch((e: Error) => this.logger.warn(`sweep failed: ${e.message}`));
    this.timer = setInterval(
      () => void this.sweep().catch((e: Error) => this.logger.warn(`sweep failed: ${e.message}`)),
      SWEEP_EVERY_MS,
    );
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    this.processor.stop();
    // close() waits for active jobs; they hand themselves back after the chunk in hand.
    await this.worker?.close();
    // BullMQ does not close a connection it was handed.
    if (this.connection) await closeRedis(this.connection);
  }

  async sweep(): Promise<void> {
    for (const [orgId, batchId] of await this.batches.activeBatches()) {
      const batch = await this.batches.get(orgId, batchId);
      if (!batch || (batch.status !== 'queued' && batch.status !== 'processing')) continue;
      if (!(await this.queue.getJob(batchId))) {
        this.logger.log(`re-enqueueing batch ${batchId} (its job was missing)`);
        await this.queue.add('batch', { orgId, batchId }, batchJobOptions(batchId));
      }
    }
    for (const member of await this.batches.expiredRetention(Date.now(), 100)) {
      const [orgId, batchId] = member.split('/');
      const batch = await this.batches.get(orgId, batchId);
      if (batch) {
        await this.data.deleteAll(batch);
        if (batch.fileId) await this.storage.delete(uploadObjects(orgId, batch.fileId).errors);
        await this.batches.delete(orgId, batchId);
      }
      await this.batches.forgetRetention(member);
    }
  }
}
