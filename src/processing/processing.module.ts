import { Module } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { BatchRequeueSweeper } from './batch-requeue.sweeper';
import { BatchRetentionSweeper } from './batch-retention.sweeper';
import { BatchRunner } from './batch-runner';
import { BatchSweepsService } from './batch-sweeps.service';
import { BatchWorkerService } from './batch-worker.service';
import { SessionSweeper } from './session.sweeper';
import { SessionValidator } from './session-validator';
import { ValidationWorkerService } from './validation-worker.service';
import { AcceptProcessor, ITEM_PROCESSOR, type ItemProcessor } from './item-processor';
import { WebhookProcessor } from './webhook.processor';

/** The worker: the BullMQ consumers (batches, validations), the batch runner, the session validator, the processors, the sweeps. Repositories come from StoreModule. */
@Module({
  providers: [
    BatchRunner,
    BatchWorkerService,
    BatchRequeueSweeper,
    BatchRetentionSweeper,
    BatchSweepsService,
    SessionValidator,
    ValidationWorkerService,
    SessionSweeper,
    {
      provide: ITEM_PROCESSOR,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig): ItemProcessor =>
        config.processor === 'webhook'
          ? new WebhookProcessor({
              url: config.webhookUrl!,
              secret: config.webhookSecret,
              attempts: config.webhookAttempts,
              baseDelayMs: config.webhookRetryDelayMs,
            })
          : new AcceptProcessor(),
    },
  ],
})
export class ProcessingModule {}
