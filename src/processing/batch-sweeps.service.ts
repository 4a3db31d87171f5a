import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { BatchRequeueSweeper } from './batch-requeue.sweeper';
import { BatchRetentionSweeper } from './batch-retention.sweeper';

const EVERY_MS = 60_000;

/** Runs the worker's two sweeps at start and every minute. A failed pass is logged and tried again. */
@Injectable()
export class BatchSweepsService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(BatchSweepsService.name);
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly requeue: BatchRequeueSweeper,
    private readonly retention: BatchRetentionSweeper,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.pass();
    this.timer = setInterval(() => void this.pass(), EVERY_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  private async pass(): Promise<void> {
    await this.requeue.sweep().catch((e: Error) => this.logger.warn(`requeue sweep failed: ${e.message}`));
    await this.retention.sweep().catch((e: Error) => this.logger.warn(`retention sweep failed: ${e.message}`));
  }
}
