import { Controller, Get, Inject, Logger } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type Redis from 'ioredis';
import { AppError } from '../errors/app-error';
import { ApiErrorResponse, ApiJsonResponse } from '../http/openapi/responses';
import { DrainService } from '../lifecycle/drain.service';
import { keys } from '../store/redis-keys';
import { REDIS } from '../redis/redis.module';
import { FILE_STORAGE, type FileStorage } from '../storage/file-storage';

const READY_PROBE_TTL_MS = 10_000;

function within<T>(p: Promise<T>, ms: number): Promise<T> {
  return Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error('timeout')), ms).unref())]);
}

@ApiTags('service')
@Controller()
export class HealthController {
  private readonly logger = new Logger(HealthController.name);
  private lastRedisFault?: string;

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(FILE_STORAGE) private readonly storage: FileStorage,
    private readonly drain: DrainService,
  ) {}

  @Get('health')
  @ApiOperation({ summary: 'Liveness: 200 while the process runs' })
  @ApiJsonResponse(200, 'Health', 'The process runs')
  health() {
    return { status: 'ok' };
  }

  @Get('ready')
  @ApiJsonResponse(200, 'Readiness', 'Redis accepts a write and storage answers')
  @ApiErrorResponse(503, 'FILE_STORAGE_UNAVAILABLE with details.checks naming what is down, or draining (Retry-After)')
  @ApiOperation({
    summary: 'Readiness: 200 when Redis accepts a write and storage answers, else 503 naming the one that failed',
  })
  async ready() {
    if (this.drain.draining) {
      throw new AppError(
        'FILE_STORAGE_UNAVAILABLE',
        'Not ready: shutting down.',
        { checks: { draining: true } },
        undefined,
        5,
      );
    }
    const [redis, storage] = await Promise.all([
      within(this.redisWrite(), 1000).then(
        () => 'up' as const,
        () => 'down' as const,
      ),
      within(this.storage.check(), 1000).then(
        () => (this.storage.configured ? ('up' as const) : ('disabled' as const)),
        () => 'down' as const,
      ),
    ]);
    const checks = { redis, storage };
    const failed = Object.entries(checks)
      .filter(([, v]) => v === 'down')
      .map(([k]) => k);
    if (failed.length) {
      throw new AppError(
        'FILE_STORAGE_UNAVAILABLE',
        `Not ready: ${failed.join(' and ')} unavailable.`,
        { checks },
        undefined,
        5,
      );
    }
    return { status: 'ok', checks };
  }

  /**
   * A write, not a PING: a Redis out of memory (maxmemory with noeviction), failing to persist
   * (MISCONF) or short of replicas still answers PING while refusing every write the /v1 routes need.
   * Logged once per change, since load balancers poll this.
   */
  private async redisWrite(): Promise<void> {
    try {
      await this.redis.set(keys.readyProbe(), String(Date.now()), 'PX', READY_PROBE_TTL_MS);
      if (this.lastRedisFault) this.logger.log('Redis accepts writes again');
      this.lastRedisFault = undefined;
    } catch (e) {
      const fault = (e as Error).message;
      if (fault !== this.lastRedisFault) this.logger.warn(`not ready: Redis refused a write: ${fault}`);
      this.lastRedisFault = fault;
      throw e;
    }
  }
}
