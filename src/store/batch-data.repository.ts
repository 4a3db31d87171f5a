import { Inject, Injectable } from '@nestjs/common';
import type Redis from 'ioredis';
import { createInterface } from 'node:readline';
import { REDIS } from '../redis/redis.module';
import { keys } from './redis-keys';
import { storageKeys } from './storage-keys';
import { FILE_STORAGE, type FileStorage } from '../storage/file-storage';
import type { BatchRecord, ChunkItem } from './batch-record';

type ItemsSource = Pick<BatchRecord, 'orgId' | 'itemsKey' | 'fileId' | 'files' | 'itemCount'>;

/** The stored items objects of a storage batch, in processing order, with the upload each came from. */
function filesOf(batch: ItemsSource): { key: string; fileId?: string; path: string | null; itemCount: number }[] {
  if (batch.files?.length) {
    return batch.files.map((f) => ({
      key: storageKeys.uploadItems(batch.orgId, f.fileId),
      fileId: f.fileId,
      path: f.path,
      itemCount: f.itemCount,
    }));
  }
  // A record written before `files` existed: its one upload.
  return [{ key: batch.itemsKey, fileId: batch.fileId ?? undefined, path: null, itemCount: batch.itemCount }];
}

/**
 * A batch's items (read) and results (written chunk by chunk). Results go to file storage, one
 * object per chunk (written whole, then renamed: a replayed chunk overwrites, never duplicates), or
 * to a Redis hash chunkIndex -> lines when file storage is switched off.
 */
@Injectable()
export class BatchDataRepository {
  constructor(
    @Inject(FILE_STORAGE) private readonly storage: FileStorage,
    @Inject(REDIS) private readonly redis: Redis,
  ) {}

  /** The batch's items in row order, after the first `skip`. */
  async *items(batch: BatchRecord, skip: number): AsyncGenerator<ChunkItem> {
    let seen = 0;
    if (batch.itemsStore === 'redis') {
      const text = await this.redis.get(keys.batchItems(batch.orgId, batch.id));
      if (text === null) throw Object.assign(new Error(`items of batch ${batch.id} are gone`), { code: 'ENOENT' });
      let start = 0;
      while (start < text.length) {
        let end = text.indexOf('\n', start);
        if (end === -1) end = text.length;
        if (end > start && seen++ >= skip) yield JSON.parse(text.slice(start, end)) as ChunkItem;
        start = end + 1;
      }
      return;
    }
    let toSkip = skip;
    for (const file of filesOf(batch)) {
      // A resumed batch skips whole files it has done without reading them.
      if (file.fileId !== undefined && toSkip >= file.itemCount) {
        toSkip -= file.itemCount;
        continue;
      }
      const from = { ...(file.fileId !== undefined && { fileId: file.fileId, path: file.path }) };
      for await (const item of this.lines(file.key)) {
        if (toSkip > 0) {
          toSkip--;
          continue;
        }
        yield { ...item, ...from };
      }
    }
  }

  private async *lines(key: string): AsyncGenerator<ChunkItem> {
    const stream = this.storage.openRead(key);
    const lines = createInterface({ input: stream, crlfDelay: Infinity });
    try {
      for await (const line of lines) if (line) yield JSON.parse(line) as ChunkItem;
    } finally {
      lines.close();
      stream.destroy();
    }
  }

  private resultKey(batch: Pick<BatchRecord, 'orgId' | 'id'>, chunk: number): string {
    return storageKeys.batchResults(batch.orgId, batch.id, chunk);
  }

  async writeResults(batch: BatchRecord, chunk: number, lines: string, retentionSeconds: number): Promise<void> {
    if (!this.storage.configured) {
      const key = keys.batchResults(batch.orgId, batch.id);
      await this.redis
        .multi()
        .hset(key, String(chunk), lines)
        .expire(key, retentionSeconds + 86400)
        .exec();
      return;
    }
    const writer = await this.storage.createWriter(this.resultKey(batch, chunk));
    try {
      await writer.write(lines);
      await writer.commit();
    } catch (e) {
      await writer.abort();
      throw e;
    }
  }

  /** The NDJSON results of every recorded chunk, in row order. */
  async *results(batch: BatchRecord): AsyncGenerator<string | Buffer> {
    for (let i = 0; i < batch.nextChunk; i++) {
      if (!this.storage.configured) {
        const text = await this.redis.hget(keys.batchResults(batch.orgId, batch.id), String(i));
        if (text) yield text;
        continue;
      }
      for await (const part of this.storage.openRead(this.resultKey(batch, i)) as AsyncIterable<Buffer>) yield part;
    }
  }

  /** Everything stored for the batch: items, results, and the error log of the upload it consumed. */
  async deleteAll(
    batch: Pick<
      BatchRecord,
      'orgId' | 'id' | 'nextChunk' | 'itemsStore' | 'itemsKey' | 'fileId' | 'files' | 'itemCount'
    >,
  ): Promise<void> {
    await this.redis.del(keys.batchResults(batch.orgId, batch.id), keys.batchItems(batch.orgId, batch.id));
    if (!this.storage.configured) return;
    for (let i = 0; i < batch.nextChunk; i++) await this.storage.delete(this.resultKey(batch, i));
    if (batch.itemsStore !== 'storage') return;
    for (const file of filesOf(batch)) {
      await this.storage.delete(file.key);
      if (file.fileId !== undefined) await this.storage.delete(storageKeys.uploadErrors(batch.orgId, file.fileId));
    }
  }
}
