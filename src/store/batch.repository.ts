import { Inject, Injectable } from '@nestjs/common';
import type Redis from 'ioredis';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { MetricsService } from '../metrics/metrics.service';
import { REDIS } from '../redis/redis.module';
import { keys } from './redis-keys';
import { type BatchRecord, type BatchStatus, fromHash, initialFields } from './batch-record';
import { lua } from './lua';
import type { UploadRecord } from './upload-record';

export type QuotaLimit = 'maxItemsPerBatch' | 'maxItemsPerMonth' | 'maxConcurrentBatches';

export type CreateReply =
  /** `index`: which of the listed uploads (0-based); the first listed one that fails decides. */
  | { kind: 'consumed'; index: number; batchId: string }
  | { kind: 'missing'; index: number }
  | {
      kind: 'quota';
      limit: QuotaLimit;
      max: number;
      used: number;
      requested: number;
      itemCount: number;
      usedThisMonth: number;
      activeBatches: number;
    }
  | { kind: 'ok'; itemCount: number; usedThisMonth: number; activeBatches: number; upload: UploadRecord | null };

export interface CreateArgs {
  record: Omit<BatchRecord, 'itemCount' | 'files'>;
  /** The uploads to consume, in order (none for direct items). */
  fileIds: string[];
  /** For direct items; a file batch takes its count from the uploads. */
  itemCount: number;
  limits: { maxItemsPerBatch: number; maxItemsPerMonth: number | null; maxConcurrentBatches: number };
  tombstoneTtlSeconds: number;
  dryRun: boolean;
}

const USAGE_TTL_SECONDS = 62 * 24 * 3600;

/** Batch records, counters and the scripts that change them together. */
@Injectable()
export class BatchRepository {
  private readonly scripts = {
    create: lua('create-batch'),
    finish: lua('finish-batch'),
    checkpoint: lua('checkpoint-batch'),
    cancel: lua('cancel-batch'),
    start: lua('start-batch'),
  };

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    private readonly metrics: MetricsService,
    @Inject(APP_CONFIG) private readonly config: Pick<AppConfig, 'queuePrefix'>,
  ) {}

  async create(args: CreateArgs): Promise<CreateReply> {
    const { record: r } = args;
    // Indexed before the script, so a batch the script creates is always found by the requeue sweep.
    if (!args.dryRun) await this.redis.sadd(keys.batchOrgs(this.config.queuePrefix), r.orgId);
    const reply = (await this.redis.eval(
      this.scripts.create,
      4 + 2 * args.fileIds.length,
      keys.usageMonth(r.orgId, r.usageMonth),
      keys.activeBatches(r.orgId),
      keys.batch(r.orgId, r.id),
      keys.batchIndex(r.orgId),
      ...args.fileIds.flatMap((fileId) => [keys.upload(r.orgId, fileId), keys.consumed(r.orgId, fileId)]),
      r.sourceType,
      r.id,
      Date.parse(r.createdAt),
      args.itemCount,
      args.limits.maxItemsPerBatch,
      args.limits.maxItemsPerMonth ?? -1,
      args.limits.maxConcurrentBatches,
      args.tombstoneTtlSeconds,
      args.dryRun ? '1' : '0',
      USAGE_TTL_SECONDS,
      ...initialFields(r),
    )) as (string | number)[];
    switch (reply[0]) {
      case 'consumed':
        return {
          kind: 'consumed',
          index: Number(reply[1]) - 1,
          batchId: (JSON.parse(String(reply[2])) as { batchId: string }).batchId,
        };
      case 'missing':
        return { kind: 'missing', index: Number(reply[1]) - 1 };
      case 'quota':
        return {
          kind: 'quota',
          limit: reply[1] as QuotaLimit,
          max: Number(reply[2]),
          used: Number(reply[3]),
          requested: Number(reply[4]),
          itemCount: Number(reply[5]),
          usedThisMonth: Number(reply[6]),
          activeBatches: Number(reply[7]),
        };
      default:
        return {
          kind: 'ok',
          itemCount: Number(reply[1]),
          usedThisMonth: Number(reply[2]),
          activeBatches: Number(reply[3]),
          upload: reply[4] ? (JSON.parse(String(reply[4])) as UploadRecord) : null,
        };
    }
  }

  async get(orgId: string, id: string): Promise<BatchRecord | null> {
    return fromHash(await this.redis.hgetall(keys.batch(orgId, id)));
  }

  /** Newest first; records past their retention are dropped from the index as they are met. */
  async list(orgId: string, offset: number, limit: number, status?: BatchStatus) {
    const ids = await this.redis.zrevrange(keys.batchIndex(orgId), 0, -1);
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.hgetall(keys.batch(orgId, id));
    const replies = ids.length ? ((await pipeline.exec()) ?? []) : [];
    const gone: string[] = [];
    const all: BatchRecord[] = [];
    replies.forEach(([err, hash], i) => {
      if (err) throw err;
      const record = fromHash(hash as Record<string, string>);
      if (!record) gone.push(ids[i]);
      else if (!status || record.status === status) all.push(record);
    });
    if (gone.length) await this.redis.zrem(keys.batchIndex(orgId), ...gone);
    return { data: all.slice(offset, offset + limit), total: all.length };
  }

  async cancel(
    orgId: string,
    id: string,
  ): Promise<['missing'] | ['finished', BatchStatus] | ['cancelled', BatchStatus]> {
    return (await this.redis.eval(this.scripts.cancel, 1, keys.batch(orgId, id))) as
      ['missing'] | ['finished', BatchStatus] | ['cancelled', BatchStatus];
  }

  async start(orgId: string, id: string): Promise<BatchStatus | 'missing'> {
    return (await this.redis.eval(this.scripts.start, 1, keys.batch(orgId, id), new Date().toISOString())) as
      BatchStatus | 'missing';
  }

  /** Returns false when the chunk was already recorded (a replay after a stall). */
  async checkpoint(
    orgId: string,
    id: string,
    chunk: number,
    counts: { processed: number; succeeded: number; failed: number },
  ): Promise<boolean> {
    const reply = (await this.redis.eval(
      this.scripts.checkpoint,
      1,
      keys.batch(orgId, id),
      chunk,
      counts.processed,
      counts.succeeded,
      counts.failed,
    )) as [string, string, string?, string?, string?];
    if (reply[0] !== 'ok') return false;
    this.metrics.itemsProcessed.inc({ status: 'succeeded' }, counts.succeeded - Number(reply[3]));
    this.metrics.itemsProcessed.inc({ status: 'failed' }, counts.failed - Number(reply[4]));
    return true;
  }

  async finish(
    record: Pick<BatchRecord, 'orgId' | 'id' | 'usageMonth'>,
    status: Extract<BatchStatus, 'completed' | 'failed' | 'cancelled'>,
    error: string | null,
    retentionSeconds: number,
  ): Promise<boolean> {
    const reply = (await this.redis.eval(
      this.scripts.finish,
      3,
      keys.batch(record.orgId, record.id),
      keys.usageMonth(record.orgId, record.usageMonth),
      keys.activeBatches(record.orgId),
      status,
      new Date().toISOString(),
      error ?? '',
      // The record outlives the retention by a day, so the retention sweep can still read it.
      retentionSeconds + 86400,
      record.id,
    )) as [string, unknown, BatchStatus?];
    if (reply[0] === 'finished') {
      this.metrics.batches.inc({ status: reply[2] ?? status });
      await this.redis.zadd(
        keys.batchRetention(this.config.queuePrefix),
        Date.now() + retentionSeconds * 1000,
        `${record.orgId}/${record.id}`,
      );
      return true;
    }
    return false;
  }

  /**
   * Every organization's queued or processing batches, as [orgId, batchId], from the index of
   * organizations that ever created one (no SCAN: on a cluster it would see one node).
   */
  async activeBatches(): Promise<[string, string][]> {
    const found: [string, string][] = [];
    for (const orgId of await this.redis.smembers(keys.batchOrgs(this.config.queuePrefix))) {
      for (const id of await this.redis.smembers(keys.activeBatches(orgId))) found.push([orgId, id]);
    }
    return found;
  }

  async expiredRetention(now: number, limit: number): Promise<string[]> {
    return this.redis.zrangebyscore(keys.batchRetention(this.config.queuePrefix), 0, now, 'LIMIT', 0, limit);
  }

  async forgetRetention(member: string): Promise<void> {
    await this.redis.zrem(keys.batchRetention(this.config.queuePrefix), member);
  }

  async delete(orgId: string, id: string): Promise<void> {
    await this.redis.multi().del(keys.batch(orgId, id)).zrem(keys.batchIndex(orgId), id).exec();
  }

  async putDirectItems(orgId: string, id: string, ndjson: string, ttlSeconds: number): Promise<void> {
    await this.redis.set(keys.batchItems(orgId, id), ndjson, 'EX', ttlSeconds);
  }

  async dropDirectItems(orgId: string, id: string): Promise<void> {
    await this.redis.del(keys.batchItems(orgId, id));
  }
}
