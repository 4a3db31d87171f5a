import { Logger } from '@nestjs/common';
import Redis, { Cluster, type ClusterOptions, type RedisOptions } from 'ioredis';
import { once } from 'node:events';
import type { AppConfig } from '../config/app-config';
import type { MetricsService } from '../metrics/metrics.service';

/**
 * A BullMQ worker's job lock: held WORKER_LOCK_MS, renewed at half of it, and stalled jobs looked
 * for as often, so a dead worker's job is taken over within about 1.5 × WORKER_LOCK_MS (looking once
 * per lock made it about 2 ×, 55-57 s with the default).
 */
export function jobLock(lockMs: number): { lockDuration: number; stalledInterval: number } {
  return { lockDuration: lockMs, stalledInterval: Math.max(500, Math.floor(lockMs / 2)) };
}

/**
 * The one place Redis clients are built. Two kinds (DESIGN.md, "Redis connections"):
 * - api: fails fast. No offline queue, one retry, short connect and command timeouts, so a request
 *   meets a 503 at once when Redis is down instead of hanging; it reconnects in the background. The
 *   queue producer uses this kind too: BullMQ's Queue issues no blocking command, so the command
 *   timeout never cuts a legitimate wait, and a create whose enqueue fails is left to the sweep.
 * - worker: retries forever (`maxRetriesPerRequest: null`, as BullMQ requires for Workers, whose
 *   blocking commands must not time out).
 * Both are standalone clients, or Redis Cluster clients when REDIS_CLUSTER_NODES is set.
 */
export function apiConnection(
  config: Pick<AppConfig, 'redisUrl' | 'redisClusterNodes'>,
  name: string,
  metrics?: MetricsService,
): Redis {
  return reporting(connect(config, 'api'), name, metrics);
}

export function workerConnection(
  config: Pick<AppConfig, 'redisUrl' | 'redisClusterNodes'>,
  name: string,
  metrics?: MetricsService,
): Redis {
  return reporting(connect(config, 'worker'), name, metrics);
}

type Kind = 'api' | 'worker';

/** The per-connection options of each kind, for a standalone client and for each node of a cluster. */
function nodeOptions(kind: Kind): RedisOptions {
  return kind === 'api'
    ? { maxRetriesPerRequest: 1, connectTimeout: 2000, commandTimeout: 2000 }
    : { maxRetriesPerRequest: null };
}

/**
 * A standalone client for REDIS_URL, or, with REDIS_CLUSTER_NODES, an ioredis Cluster started from
 * those nodes (credentials and TLS taken from the first URL). Repositories use only commands that both
 * have, on keys of one hash slot per call, so the rest of the service takes either as `Redis`.
 */
function connect(config: Pick<AppConfig, 'redisUrl' | 'redisClusterNodes'>, kind: Kind): Redis {
  const retry = (times: number) => Math.min(200 * times, 2000);
  if (!config.redisClusterNodes) {
    return new Redis(config.redisUrl, {
      ...nodeOptions(kind),
      ...(kind === 'api' && { enableOfflineQueue: false, retryStrategy: retry }),
    });
  }
  const urls = config.redisClusterNodes.map((u) => new URL(u));
  const first = urls[0];
  const options: ClusterOptions = {
    // The api fails fast while the cluster is unreachable or failing over; a worker waits it out.
    enableOfflineQueue: kind === 'worker',
    clusterRetryStrategy: retry,
    retryDelayOnFailover: 200,
    retryDelayOnClusterDown: 300,
    slotsRefreshTimeout: 2000,
    redisOptions: {
      ...nodeOptions(kind),
      ...(first.username && { username: decodeURIComponent(first.username) }),
      ...(first.password && { password: decodeURIComponent(first.password) }),
      ...(first.protocol === 'rediss:' && { tls: {} }),
    },
  };
  const nodes = urls.map((u) => ({ host: u.hostname, port: Number(u.port || 6379) }));
  return new Cluster(nodes, options) as unknown as Redis;
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
