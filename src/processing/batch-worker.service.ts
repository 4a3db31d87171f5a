import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { type Job, UnrecoverableError, WaitingError, Worker } from 'bullmq';
import type Redis from 'ioredis';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { MetricsService } from '../metrics/metrics.service';
import { BATCH_QUEUE_NAME, type BatchJobData } from '../queue/batch-queue';
import { closeRedis, jobLock, workerConnection } from '../redis/connections';
import { BatchRunner } from './batch-runner';

/**
 * The BullMQ consumer of the `batches` queue, and the only part of the worker that knows BullMQ: a job
 * becomes one BatchRunner run, and the run's outcome becomes BullMQ's answer (done; handed back with
 * moveToWait + WaitingError; failed for good with UnrecoverableError; a transient error rethrown so
 * attempts and backoff apply).
 */
@Injectable()
export class BatchWorkerService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(BatchWorkerService.name);
  private worker?: Worker<BatchJobData>;
  private connection?: Redis;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly runner: BatchRunner,
    private readonly metrics: MetricsService,
  ) {}

  onApplicationBootstrap(): void {
    this.connection = workerConnection(this.config, 'batch-worker', this.metrics);
    this.worker = new Worker<BatchJobData>(BATCH_QUEUE_NAME, (job, token) => this.run(job, token), {
      connection: this.connection,
      prefix: this.config.queuePrefix,
      concurrency: this.config.workerConcurrency,
      ...jobLock(this.config.workerLockMs),
      maxStalledCount: 100,
    });
    this.worker.on('error', (e) => this.logger.warn(`worker: ${e.message}`));
  }

  private async run(job: Job<BatchJobData>, token?: string): Promise<void> {
    const outcome = await this.runner.execute(job.data, {
      progress: (processed) => job.updateProgress(processed),
      lastAttempt: job.attemptsMade + 1 >= (job.opts.attempts ?? 1),
    });
    switch (outcome.kind) {
      case 'done':
        return;
      case 'handedBack':
        await job.moveToWait(token);
        throw new WaitingError();
      case 'failed':
        throw new UnrecoverableError(outcome.message);
      case 'retry':
        throw outcome.error;
    }
  }

  async onApplicationShutdown(): Promise<void> {
    this.runner.stop();
    // close() waits for active jobs; they hand themselves back after the chunk in hand.
    await this.worker?.close();
    // BullMQ does not close a connection it was handed.
    if (this.connection) await closeRedis(this.connection);
  }
}
