import { Logger } from '@nestjs/common';
import Redis from 'ioredis';
import { once } from 'node:events';
import type { AppConfig } from '../config/app-config';
import type { MetricsService } from '../metrics/metrics.service';

/**
 * The one place Redis clients are built. Two kinds (DESIGN.md, "Redis connections"):
 * - api: fails fast. No offline queue, one retry, short connect and command timeouts, so a request
 *   meets a 503 at once when Redis is down instead of hanging; it reconnects in the background. The
 *   queue producer uses this kind too: BullMQ's Queue issues no blocking command, so the command
 *   timeout never cuts a legitimate wait, and a create whose enqueue fails is left to the sweep.
 * - worker: retries forever (`maxRetriesPerRequest: null`, as BullMQ requires for Workers, whose
 *   blocking commands must not time out).
 */
export function apiConnection(config: Pick<AppConfig, 'redisUrl'>, name: string, metrics?: MetricsService): Redis {
  const client = new Redis(config.redisUrl, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    commandTimeout: 2000,
    retryStrategy: (times) => Math.min(200 * times, 2000),
  });
  return reporting(client, name, metrics);
}

export function workerConnection(config: Pick<AppConfig, 'redisUrl'>, name: string, metrics?: MetricsService): Redis {
  return reporting(new Redis(config.redisUrl, { maxRetriesPerRequest: null }), name, metrics);
}

/** One warning when a connection goes down and one when it is back, and every error counted. */
function reporting(client: Redis, name: string, metrics?: MetricsService): Redis {
  const logger = new Logger(`redis:${name}`);
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

/** Waits up to `ms` for the first connection; start-up goes on without it (/ready says 503 until then). */
export async function untilReady(client: Redis, ms: number): Promise<void> {
  if (client.status === 'ready') return;
  const timer = new AbortController();
  const timeout = setTimeout(() => timer.abort(), ms);
  try {
    await once(client, 'ready', { signal: timer.signal });
  } catch {
    // not ready in time: start anyway
  } finally {
    clearTimeout(timeout);
  }
}

/** quit() when connected (clean), disconnect() otherwise (quit would wait for a reconnect). */
export async function closeRedis(client: Redis): Promise<void> {
  if (client.status === 'ready') await client.quit().catch(() => client.disconnect());
  else client.disconnect();
}
