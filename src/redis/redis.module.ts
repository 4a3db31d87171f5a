import { Global, Inject, Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import Redis from 'ioredis';
import { once } from 'node:events';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { MetricsService } from '../metrics/metrics.service';

export const REDIS = Symbol('REDIS');

/**
 * The api's connection fails fast: no offline queue, one retry, short timeouts, so a request
 * meets a 503 at once when Redis is down instead of hanging. It reconnects in the background.
 */
export function createApiRedis(url: string, name: string, metrics?: MetricsService): Redis {
  const logger = new Logger(name);
  const client = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    commandTimeout: 2000,
    retryStrategy: (times) => Math.min(200 * times, 2000),
    lazyConnect: false,
  });
  let down = false;
  client.on('error', (e: Error) => {
    metrics?.redisErrors.inc({ connection: name });
    if (!down) logger.warn(`Redis unavailable: ${e.message}`);
    down = true;
  });
  client.on('ready', () => {
    if (down) logger.log('Redis available again');
    down = false;
  });
  return client;
}

/** How long start-up waits for Redis before serving anyway (requests then get 503 until it answers). */
const STARTUP_WAIT_MS = 5000;

export async function untilReady(client: Redis, ms: number): Promise<void> {
  if (client.status === 'ready') return;
  const timer = new AbortController();
  const timeout = setTimeout(() => timer.abort(), ms);
  try {
    await once(client, 'ready', { signal: timer.signal });
  } catch {
    // not ready in time: start anyway, /ready says 503 until it is
  } finally {
    clearTimeout(timeout);
  }
}

/** quit() when connected (clean), disconnect() otherwise (quit would wait for a reconnect). */
export async function closeRedis(client: Redis): Promise<void> {
  if (client.status === 'ready') await client.quit().catch(() => client.disconnect());
  else client.disconnect();
}

@Global()
@Module({
  providers: [
    {
      provide: REDIS,
      inject: [APP_CONFIG, MetricsService],
      useFactory: async (config: AppConfig, metrics: MetricsService) => {
        const client =
          config.redisRole === 'worker'
            ? new Redis(config.redisUrl, { maxRetriesPerRequest: null }).on('error', () =>
                metrics.redisErrors.inc({ connection: 'worker' }),
              )
            : createApiRedis(config.redisUrl, 'api', metrics);
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
