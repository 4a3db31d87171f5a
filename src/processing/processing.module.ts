import { Module } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { BatchRepository } from '../tokens/batch.repository';
import { BatchDataStore } from './batch-data.store';
import { BatchWorkerService } from './batch-worker.service';
import { BatchProcessor } from './batch.processor';
import { AcceptProcessor, ITEM_PROCESSOR, type ItemProcessor } from './item-processor';
import { WebhookProcessor } from './webhook.processor';

/** The worker: BullMQ consumer, batch runner, processors. */
@Module({
  providers: [
    BatchRepository,
    BatchDataStore,
    BatchProcessor,
    BatchWorkerService,
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
  exports: [BatchDataStore],
})
export class ProcessingModule {}
