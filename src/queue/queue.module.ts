import { Global, Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { getQueueToken } from '@nestjs/bull-shared';
import { Queue } from 'bullmq';
import type Redis from 'ioredis';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { apiConnection, closeRedis } from '../redis/connections';
import { BATCH_QUEUE, BATCH_QUEUE_NAME } from './batch-queue';
import { VALIDATION_QUEUE, VALIDATION_QUEUE_NAME } from './validation-queue';

const QUEUE_REDIS = Symbol('QUEUE_REDIS');

/**
 * The producer side of the `batches` and `validations` queues. Its connection fails fast (the api answers 503 rather
 * than hang); a batch whose enqueue failed is still `queued` in Redis and the worker's sweep adds it.
 */
@Global()
@Module({
  providers: [
    {
      provide: QUEUE_REDIS,
      inject: [APP_CONFIG],
      // Fail-fast like every api connection (see connections.ts); its outages are logged, not counted.
      useFactory: (config: AppConfig) => apiConnection(config, 'queue'),
    },
    {
      provide: BATCH_QUEUE,
      inject: [QUEUE_REDIS, APP_CONFIG],
      // Errors are the connection's: the api's own Redis client reports them, and /ready shows them.
      useFactory: (connection: Redis, config: AppConfig) =>
        new Queue(BATCH_QUEUE_NAME, { connection, prefix: config.queuePrefix }).on('error', () => undefined),
    },
    {
      provide: VALIDATION_QUEUE,
      inject: [QUEUE_REDIS, APP_CONFIG],
      useFactory: (connection: Redis, config: AppConfig) =>
        new Queue(VALIDATION_QUEUE_NAME, { connection, prefix: config.queuePrefix }).on('error', () => undefined),
    },
    // The name under which Nest integrations (Bull Board's forFeature) look the queue up.
    { provide: getQueueToken(BATCH_QUEUE_NAME), useExisting: BATCH_QUEUE },
  ],
  exports: [BATCH_QUEUE, getQueueToken(BATCH_QUEUE_NAME), VALIDATION_QUEUE],
})
export class QueueModule implements OnApplicationShutdown {
  constructor(
    @Inject(BATCH_QUEUE) private readonly queue: Queue,
    @Inject(VALIDATION_QUEUE) private readonly validations: Queue,
    @Inject(QUEUE_REDIS) private readonly redis: Redis,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    await this.queue.close().catch(() => undefined);
    await this.validations.close().catch(() => undefined);
    await closeRedis(this.redis);
  }
}
