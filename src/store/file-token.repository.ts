import { Inject, Injectable } from '@nestjs/common';
import type Redis from 'ioredis';
import { REDIS } from '../redis/redis.module';
import { keys } from './redis-keys';
import { looksLikeId } from '../common/ids';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { fileExpired, fileNotFound } from '../errors/errors';
import { lua } from './lua';
import type { DuplicateOf, UploadLookup, UploadRecord } from './upload-record';

/** After expiry, a fileId is remembered for this long so that it answers 410, not 404 (API.md: at least 24 h). */
export const TRACE_GRACE_SECONDS = 25 * 3600;

/** A consumed upload still counts for `duplicateOf` this long after its batch was created. */
const DUPLICATE_WINDOW_SECONDS = 24 * 3600;

export type LiveUpload = Extract<UploadLookup, { record: UploadRecord }>;

/** A lookup that found the upload, or the error for one that did not: expired (410), else 404. */
export function requireLive(found: UploadLookup, fileId: string): LiveUpload {
  switch (found.state) {
    case 'available':
    case 'consumed':
      return found;
    case 'expired':
      throw fileExpired(fileId);
    case 'discarded':
    case 'unknown':
      throw fileNotFound(fileId);
  }
}

type DiscardReply = ['consumed', string] | ['missing'] | ['discarded'];

/** The single-use upload tokens in Redis. */
@Injectable()
export class FileTokenRepository {
  private readonly discardScript = lua('discard-upload');

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(APP_CONFIG) private readonly config: Pick<AppConfig, 'queuePrefix'>,
  ) {}

  /** Written last, after the upload's objects are durably stored. */
  async save(record: UploadRecord, ttlSeconds: number): Promise<void> {
    const { orgId, fileId } = record;
    // The sweep's index first, on its own (it is one global key, in another slot than the org's on a
    // cluster): a crash after it leaves an entry whose objects the sweep deletes, never objects no
    // entry points at. Then the token and its trace, together, in the org's slot.
    await this.redis.zadd(
      keys.uploadExpiry(this.config.queuePrefix),
      Date.parse(record.expiresAt),
      `${orgId}/${fileId}`,
    );
    const byContent = keys.uploadsByContent(orgId, record.schema, record.sha256);
    const reply = await this.redis
      .multi()
      .set(keys.upload(orgId, fileId), JSON.stringify(record), 'EX', ttlSeconds)
      .set(keys.uploadTrace(orgId, fileId), 'live', 'EX', ttlSeconds + TRACE_GRACE_SECONDS)
      // duplicateOf looks back at uploads still available or consumed within a day.
      .zadd(byContent, Date.parse(record.createdAt), fileId)
      .expire(byContent, ttlSeconds + DUPLICATE_WINDOW_SECONDS)
      .exec();
    const failed = reply?.find(([err]) => err);
    if (!reply || failed) throw failed?.[0] ?? new Error('Redis transaction aborted');
  }

  async find(orgId: string, fileId: string): Promise<UploadLookup> {
    const [upload, consumed, trace] = await this.redis.mget(
      keys.upload(orgId, fileId),
      keys.consumed(orgId, fileId),
      keys.uploadTrace(orgId, fileId),
    );
    if (consumed) {
      const tomb = JSON.parse(consumed) as { batchId: string; consumedAt?: number; upload: UploadRecord };
      return { state: 'consumed', record: tomb.upload, batchId: tomb.batchId, consumedAt: tomb.consumedAt };
    }
    if (upload) return { state: 'available', record: JSON.parse(upload) as UploadRecord };
    return this.gone(trace);
  }

  /**
   * API.md's `duplicateOf`: the most recent earlier upload by the organization of the same bytes and
   * schema that is still available or was consumed less than 24 hours ago, or null. Earlier than
   * now (a new upload), or than the upload `of` (its GET: what happened to those since is told).
   */
  async findDuplicate(
    orgId: string,
    schema: string,
    sha256: string,
    of?: Pick<UploadRecord, 'fileId' | 'createdAt'>,
    now = Date.now(),
  ): Promise<DuplicateOf | null> {
    const byContent = keys.uploadsByContent(orgId, schema, sha256);
    const recent = of
      ? await this.redis.zrevrangebyscore(byContent, Date.parse(of.createdAt), '-inf', 'LIMIT', 0, 11)
      : await this.redis.zrevrange(byContent, 0, 9);
    for (const fileId of recent) {
      if (fileId === of?.fileId) continue;
      const found = await this.find(orgId, fileId);
      if (found.state === 'available') {
        return { fileId, status: 'available', createdAt: found.record.createdAt };
      }
      if (found.state === 'consumed' && now - (found.consumedAt ?? now) < DUPLICATE_WINDOW_SECONDS * 1000) {
        return { fileId, status: 'consumed', batchId: found.batchId, createdAt: found.record.createdAt };
      }
    }
    return null;
  }

  /** The upload (available or consumed), or API.md's 410 for an expired id and 404 for any other. */
  async require(orgId: string, fileId: string): Promise<LiveUpload> {
    if (!looksLikeId(fileId, 'f')) throw fileNotFound(fileId);
    return requireLive(await this.find(orgId, fileId), fileId);
  }

  async discard(orgId: string, fileId: string): Promise<UploadLookup | { state: 'discarded-now' }> {
    const reply = (await this.redis.eval(
      this.discardScript,
      3,
      keys.upload(orgId, fileId),
      keys.consumed(orgId, fileId),
      keys.uploadTrace(orgId, fileId),
      TRACE_GRACE_SECONDS,
    )) as DiscardReply;
    if (reply[0] === 'consumed') {
      const tomb = JSON.parse(reply[1]) as { batchId: string; upload: UploadRecord };
      return { state: 'consumed', record: tomb.upload, batchId: tomb.batchId };
    }
    if (reply[0] === 'discarded') {
      await this.redis.zrem(keys.uploadExpiry(this.config.queuePrefix), `${orgId}/${fileId}`);
      return { state: 'discarded-now' };
    }
    return this.gone(await this.redis.get(keys.uploadTrace(orgId, fileId)));
  }

  private gone(trace: string | null): UploadLookup {
    if (trace === 'live') return { state: 'expired' };
    if (trace === 'discarded') return { state: 'discarded' };
    return { state: 'unknown' };
  }

  /** Up to `limit` uploads whose expiry has passed, as `orgId/fileId`. */
  async expiredUploads(now: number, limit: number): Promise<string[]> {
    return this.redis.zrangebyscore(keys.uploadExpiry(this.config.queuePrefix), 0, now, 'LIMIT', 0, limit);
  }

  /** True when the upload still exists or was consumed (its objects are still needed). */
  async stillNeeded(orgId: string, fileId: string): Promise<boolean> {
    const n = await this.redis.exists(keys.upload(orgId, fileId), keys.consumed(orgId, fileId));
    return n > 0;
  }

  async isConsumed(orgId: string, fileId: string): Promise<boolean> {
    return (await this.redis.exists(keys.consumed(orgId, fileId))) > 0;
  }

  async forgetExpiry(member: string): Promise<void> {
    await this.redis.zrem(keys.uploadExpiry(this.config.queuePrefix), member);
  }
}
