import { Global, Inject, Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import Redis from 'ioredis';
import { APP_CONFIG, type AppConfig } from '../config/app-config';

export const REDIS = Symbol('REDIS');

/**
 * The api's connection fails fast: no offline queue, one retry, short timeouts, so a request
 * meets a 503 at once when Redis is down instead of hanging. It reconnects in the background.
 */
export function createApiRedis(url: string, name: string): Redis {
  const logger = new Logger(name);
  const client = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    commandTimeout: 5000,
    retryStrategy: (times) => Math.min(200 * times, 2000),
    lazyConnect: false,
  });
  let down = false;
  client.on('error', (e: Error) => {
    if (!down) logger.warn(`Redis unavailable: ${e.message}`);
    down = true;
  });
  client.on('ready', () => {
    if (down) logger.log('Redis available again');
    down = false;
  });
  return client;
}

@Global()
@Module({
  providers: [
    {
      provide: REDIS,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) =>
        config.redisRole === 'worker'
          ? new Redis(config.redisUrl, { maxRetriesPerRequest: null }).on('error', () => undefined)
          : createApiRedis(config.redisUrl, 'Redis'),
    },
  ],
  exports: [REDIS],
})
export class RedisModule implements OnApplicationShutdown {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  async onApplicationShutdown(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
