import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { type Job, Worker } from 'bullmq';
import type Redis from 'ioredis';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { MetricsService } from '../metrics/metrics.service';
import { VALIDATION_QUEUE_NAME, type ValidationJobData } from '../queue/validation-queue';
import { closeRedis, jobLock, workerConnection } from '../redis/connections';
import { SessionValidator } from './session-validator';

/**
 * The BullMQ consumer of the `validations` queue (VALIDATION_CONCURRENCY at once, apart from the
 * batches): a job is one SessionValidator run. A worker killed mid-run loses its lock; the job is
 * then stalled and run again, and the new run takes the session over.
 */
@Injectable()
export class ValidationWorkerService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ValidationWorkerService.name);
  private worker?: Worker<ValidationJobData>;
  private connection?: Redis;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly validator: SessionValidator,
    private readonly metrics: MetricsService,
  ) {}

  onApplicationBootstrap(): void {
    this.connection = workerConnection(this.config, 'validation-worker', this.metrics);
    this.worker = new Worker<ValidationJobData>(VALIDATION_QUEUE_NAME, (job) => this.run(job), {
      connection: this.connection,
      prefix: this.config.queuePrefix,
      concurrency: this.config.validationConcurrency,
      ...jobLock(this.config.workerLockMs),
      maxStalledCount: 10,
    });
    this.worker.on('error', (e) => this.logger.warn(`validation worker: ${e.message}`));
  }

  private async run(job: Job<ValidationJobData>): Promise<void> {
    const outcome = await this.validator.execute(job.data, job.attemptsMade + 1 >= (job.opts.attempts ?? 1));
    if (outcome.kind === 'retry') throw outcome.error;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.worker?.close();
    if (this.connection) await closeRedis(this.connection);
  }
}
