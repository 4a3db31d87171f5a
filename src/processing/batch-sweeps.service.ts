import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { BatchRequeueSweeper } from './batch-requeue.sweeper';
import { BatchRetentionSweeper } from './batch-retention.sweeper';
import { SessionSweeper } from './session.sweeper';

/** Runs the worker's sweeps (batch requeue and retention, upload sessions) at start and every SWEEP_INTERVAL_SECONDS (a minute). A failed pass is logged and tried again. */
@Injectable()
export class BatchSweepsService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(BatchSweepsService.name);
  private timer?: NodeJS.Timeout;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly requeue: BatchRequeueSweeper,
    private readonly retention: BatchRetentionSweeper,
    private readonly sessions: SessionSweeper,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.pass();
    this.timer = setInterval(() => void this.pass(), this.config.sweepIntervalMs);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  private async pass(): Promise<void> {
    await this.requeue.sweep().catch((e: Error) => this.logger.warn(`requeue sweep failed: ${e.message}`));
    await this.retention.sweep().catch((e: Error) => this.logger.warn(`retention sweep failed: ${e.message}`));
    await this.sessions.sweep().catch((e: Error) => this.logger.warn(`upload session sweep failed: ${e.message}`));
  }
}
