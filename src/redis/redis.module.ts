import { Global, Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import type Redis from 'ioredis';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { MetricsService } from '../metrics/metrics.service';
import { apiConnection, closeRedis, untilReady, workerConnection } from './connections';

export const REDIS = Symbol('REDIS');

/** How long start-up waits for Redis before serving anyway (requests then get 503 until it answers). */
const STARTUP_WAIT_MS = 5000;

/** The process's main Redis client: fail-fast in the api, retry-forever in a worker process. */
@Global()
@Module({
  providers: [
    {
      provide: REDIS,
      inject: [APP_CONFIG, MetricsService],
      useFactory: async (config: AppConfig, metrics: MetricsService) => {
        const client =
          config.redisRole === 'worker'
            ? workerConnection(config, 'worker', metrics)
            : apiConnection(config, 'api', metrics);
        await untilReady(client, STARTUP_WAIT_MS);
        return client;
      },
    },
  ],
  exports: [REDIS],
})
export class RedisModule implements OnApplicationShutdown {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  async onApplicationShutdown(): Promise<void> {
    await closeRedis(this.redis);
  }
}
