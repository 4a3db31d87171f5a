import Redis from 'ioredis';
import { randomBytes } from 'node:crypto';
import { MetricsService } from '../metrics/metrics.service';
import type { BatchRecord } from './batch-record';
import { BatchRepository, type CreateArgs } from './batch.repository';
import { FileTokenRepository } from './file-token.repository';
import { IdempotencyRepository, canonicalJson } from './idempotency.repository';
import { keys } from './redis-keys';
import type { UploadRecord } from './upload-record';

/**
 * The repository tier: each repository and Lua script run directly against the private redis-server
 * that test/global-setup.js started (never 6379), with a fresh organization per test. No app, no HTTP.
 */
let redis: Redis;
let batches: BatchRepository;
let tokens: FileTokenRepository;
let idempotency: IdempotencyRepository;

beforeAll(() => {
  const url = process.env.BATCHGATE_TEST_REDIS_URL;
  if (!url) throw new Error('BATCHGATE_TEST_REDIS_URL is not set: run with `npm test`');
  redis = new Redis(url);
  batches = new BatchRepository(redis, new MetricsService(), { queuePrefix: 'spec' });
  tokens = new FileTokenRepository(redis, { queuePrefix: 'spec' });
  idempotency = new IdempotencyRepository(redis);
});
afterAll(() => redis.quit());

const freshOrg = () => `spec-${randomBytes(6).toString('hex')}`;
const id = (prefix: string) => `${prefix}_${randomBytes(16).toString('base64url')}`;
const plan = { maxItemsPerBatch: 5000, maxItemsPerMonth: 50_000, maxConcurrentBatches: 5 };

function upload(orgId: string, itemCount = 10): UploadRecord {
  const now = Date.now();
  return {
    fileId: id('f'),
    orgId,
    originalFileName: 'claims.csv',
    format: 'csv',
    schema: 'default',
    itemCount,
    validationErrorCount: 0,
    validationErrors: [],
    validationErrorsTruncated: false,
    errorSummary: [],
    parsing: { encoding: 'utf-8', bom: false, compressed: false },
    sizeBytes: 100,
    sha256: 'x'.repeat(64),
    createdAt: new Date(now).toISOString(),
    expiresAt: new Date(now + 3600_000).toISOString(),
    errorColumns: [],
  };
}

function createArgs(orgId: string, fileId: string | null, over: Partial<CreateArgs> = {}): CreateArgs {
  const createdAt = new Date().toISOString();
  const record: Omit<BatchRecord, 'itemCount' | 'files'> = {
    id: id('b'),
    orgId,
    name: null,
    status: 'queued',
    processedCount: 0,
    succeededCount: 0,
    failedCount: 0,
    sourceType: fileId ? 'file' : 'items',
    fileId,
    originalFileName: null,
    metadata: null,
    createdAt,
    startedAt: null,
    completedAt: null,
    error: null,
    usageMonth: createdAt.slice(0, 7),
    itemsStore: fileId ? 'storage' : 'redis',
    itemsKey: '',
    chunkSize: 1000,
    nextChunk: 0,
  };
  return {
    record,
    fileIds: fileId ? [fileId] : [],
    itemCount: 0,
    limits: plan,
    tombstoneTtlSeconds: 3600,
    dryRun: false,
    ...over,
  };
}

/** Every key of the organization with its value, to compare before and after. */
async function snapshot(orgId: string): Promise<Record<string, string>> {
  const found: Record<string, string> = {};
  let cursor = '0';
  do {
    const [next, ks] = await redis.scan(cursor, 'MATCH', `bg:{${orgId}}:*`, 'COUNT', 1000);
    cursor = next;
    for (const k of ks) found[k] = JSON.stringify(await redis.dump(k));
  } while (cursor !== '0');
  return found;
}

describe('create-batch script', () => {
  it('gives exactly one of 50 concurrent consumes of one upload the batch; the others see the tombstone', async () => {
    const orgId = freshOrg();
    const u = upload(orgId);
    await tokens.save(u, 3600);
    const replies = await Promise.all(Array.from({ length: 50 }, () => batches.create(createArgs(orgId, u.fileId))));
    const ok = replies.filter((r) => r.kind === 'ok');
    expect(ok).toHaveLength(1);
    const consumed = replies.filter((r) => r.kind === 'consumed');
    expect(consumed).toHaveLength(49);
    const winner = (await redis.zrange(keys.batchIndex(orgId), '0', '-1'))[0];
    for (const r of consumed) expect(r).toEqual({ kind: 'consumed', index: 0, batchId: winner });
    expect(await redis.get(keys.usageMonth(orgId, new Date().toISOString().slice(0, 7)))).toBe('10');
    expect(await tokens.find(orgId, u.fileId)).toMatchObject({ state: 'consumed', batchId: winner });
  });

  it('changes nothing when a plan limit refuses (each limit in turn)', async () => {
    const orgId = freshOrg();
    const u = upload(orgId, 20);
    await tokens.save(u, 3600);
    const before = await snapshot(orgId);
    const refusals = [
      { limits: { ...plan, maxItemsPerBatch: 19 }, limit: 'maxItemsPerBatch' },
      { limits: { ...plan, maxItemsPerMonth: 19 }, limit: 'maxItemsPerMonth' },
      { limits: { ...plan, maxConcurrentBatches: 0 }, limit: 'maxConcurrentBatches' },
    ];
    for (const { limits, limit } of refusals) {
      const reply = await batches.create(createArgs(orgId, u.fileId, { limits }));
      expect(reply).toMatchObject({ kind: 'quota', limit, itemCount: 20 });
    }
    expect(await snapshot(orgId)).toEqual(before);
    expect((await tokens.find(orgId, u.fileId)).state).toBe('available');
  });

  it('answers a dry run with the same verdict and writes nothing', async () => {
    const orgId = freshOrg();
    const u = upload(orgId, 7);
    await tokens.save(u, 3600);
    const before = await snapshot(orgId);
    expect(await batches.create(createArgs(orgId, u.fileId, { dryRun: true }))).toMatchObject({
      kind: 'ok',
      itemCount: 7,
      usedThisMonth: 0,
      activeBatches: 0,
    });
    expect(await snapshot(orgId)).toEqual(before);
  });

  it('says missing for an unknown upload', async () => {
    const orgId = freshOrg();
    expect(await batches.create(createArgs(orgId, id('f')))).toEqual({ kind: 'missing', index: 0 });
  });
});

describe('batch lifecycle scripts', () => {
  async function created(orgId: string, itemCount: number) {
    const args = createArgs(orgId, null, { itemCount });
    const reply = await batches.create(args);
    expect(reply.kind).toBe('ok');
    return args.record;
  }
  const month = () => new Date().toISOString().slice(0, 7);

  it('refuses a replayed checkpoint and keeps the first counts', async () => {
    const orgId = freshOrg();
    const b = await created(orgId, 3000);
    expect(await batches.start(orgId, b.id)).toBe('processing');
    expect(await batches.checkpoint(orgId, b.id, 0, { processed: 1000, succeeded: 990, failed: 10 })).toBe(true);
    expect(await batches.checkpoint(orgId, b.id, 0, { processed: 2000, succeeded: 2000, failed: 0 })).toBe(false);
    expect(await batches.checkpoint(orgId, b.id, 2, { processed: 3000, succeeded: 3000, failed: 0 })).toBe(false);
    expect(await batches.get(orgId, b.id)).toMatchObject({
      processedCount: 1000,
      succeededCount: 990,
      failedCount: 10,
      nextChunk: 1,
      status: 'processing',
    });
  });

  it('finishes once: a second finish changes nothing, and items never processed are refunded', async () => {
    const orgId = freshOrg();
    const b = await created(orgId, 3000);
    expect(await redis.get(keys.usageMonth(orgId, month()))).toBe('3000');
    await batches.checkpoint(orgId, b.id, 0, { processed: 1000, succeeded: 1000, failed: 0 });
    expect(await batches.finish(b, 'cancelled', null, 3600)).toBe(true);
    expect(await redis.get(keys.usageMonth(orgId, month()))).toBe('1000');
    expect(await redis.scard(keys.activeBatches(orgId))).toBe(0);
    expect(await batches.finish(b, 'failed', 'late', 3600)).toBe(false);
    expect(await redis.get(keys.usageMonth(orgId, month()))).toBe('1000');
    expect(await batches.get(orgId, b.id)).toMatchObject({ status: 'cancelled', error: null });
  });

  it('refunds nothing for a completed batch', async () => {
    const orgId = freshOrg();
    const b = await created(orgId, 10);
    await batches.checkpoint(orgId, b.id, 0, { processed: 10, succeeded: 9, failed: 1 });
    expect(await batches.finish(b, 'completed', null, 3600)).toBe(true);
    expect(await redis.get(keys.usageMonth(orgId, month()))).toBe('10');
  });

  it('a cancel answered is how the batch ends: its worker finishing the last chunk does not make it completed', async () => {
    const orgId = freshOrg();
    const b = await created(orgId, 10);
    await batches.start(orgId, b.id);
    expect(await batches.cancel(orgId, b.id)).toEqual(['cancelled', 'processing']);
    await batches.checkpoint(orgId, b.id, 0, { processed: 10, succeeded: 10, failed: 0 });
    expect(await batches.finish(b, 'completed', null, 3600)).toBe(true);
    expect(await batches.get(orgId, b.id)).toMatchObject({ status: 'cancelled', processedCount: 10, error: null });
    expect(await redis.get(keys.usageMonth(orgId, month()))).toBe('10');
    const failing = await created(orgId, 10);
    await batches.start(orgId, failing.id);
    await batches.cancel(orgId, failing.id);
    await batches.finish(failing, 'failed', 'webhook unreachable', 3600);
    expect(await batches.get(orgId, failing.id)).toMatchObject({ status: 'cancelled', processedCount: 0, error: null });
    expect(await redis.get(keys.usageMonth(orgId, month()))).toBe('10');
  });

  it('cancels a queued batch and refuses to cancel a finished one', async () => {
    const orgId = freshOrg();
    const b = await created(orgId, 10);
    expect(await batches.cancel(orgId, b.id)).toEqual(['cancelled', 'queued']);
    await batches.finish(b, 'cancelled', null, 3600);
    expect(await batches.cancel(orgId, b.id)).toEqual(['finished', 'cancelled']);
    expect(await batches.cancel(orgId, id('b'))).toEqual(['missing']);
  });
});

describe('file tokens', () => {
  it('tells available, consumed, discarded and unknown apart', async () => {
    const orgId = freshOrg();
    const u = upload(orgId);
    await tokens.save(u, 3600);
    expect((await tokens.find(orgId, u.fileId)).state).toBe('available');
    expect((await tokens.discard(orgId, u.fileId)).state).toBe('discarded-now');
    expect((await tokens.find(orgId, u.fileId)).state).toBe('discarded');
    expect((await tokens.discard(orgId, u.fileId)).state).toBe('discarded');
    expect((await tokens.find(orgId, id('f'))).state).toBe('unknown');
  });

  it('tells an expired upload from an unknown one', async () => {
    const orgId = freshOrg();
    const u = upload(orgId);
    await tokens.save(u, 1);
    await redis.del(keys.upload(orgId, u.fileId)); // what expiry does
    expect((await tokens.find(orgId, u.fileId)).state).toBe('expired');
    await expect(tokens.require(orgId, u.fileId)).rejects.toMatchObject({ code: 'file_expired' });
    await expect(tokens.require(orgId, 'f_nope')).rejects.toMatchObject({ code: 'file_not_found' });
  });
});

describe('idempotency records', () => {
  it('starts once, answers in-flight as a conflict, replays after success, and refuses another body', async () => {
    const orgId = freshOrg();
    const started = await idempotency.start(orgId, 'k1', { a: 1, b: [1, 2] });
    expect(started.kind).toBe('new');
    await expect(idempotency.start(orgId, 'k1', { b: [1, 2], a: 1 })).rejects.toMatchObject({
      code: 'idempotency_conflict',
    });
    if (started.kind !== 'new') throw new Error('unreachable');
    await idempotency.succeed(orgId, 'k1', started.hash, 202, { id: 'b_1' });
    expect(await idempotency.start(orgId, 'k1', { b: [1, 2], a: 1 })).toEqual({
      kind: 'replay',
      status: 202,
      body: { id: 'b_1' },
    });
    await expect(idempotency.start(orgId, 'k1', { a: 2 })).rejects.toMatchObject({ code: 'idempotency_key_reused' });
  });

  it("forgets a failed request so that a retry is judged afresh, but never drops another request's marker", async () => {
    const orgId = freshOrg();
    const first = await idempotency.start(orgId, 'k2', {});
    if (first.kind !== 'new') throw new Error('expected a new request');
    await idempotency.fail(orgId, 'k2', first.marker);
    const second = await idempotency.start(orgId, 'k2', {});
    expect(second.kind).toBe('new');
    // The first request, long past its marker, fails late: the second one's marker stays.
    await idempotency.fail(orgId, 'k2', first.marker);
    await expect(idempotency.start(orgId, 'k2', {})).rejects.toMatchObject({ code: 'idempotency_conflict' });
  });
});

describe('canonicalJson', () => {
  it('sorts keys at every level and writes what JSON.stringify writes otherwise', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { f: null, e: 'x' }], c: true } })).toBe(
      '{"a":{"c":true,"d":[3,{"e":"x","f":null}]},"b":1}',
    );
    expect(canonicalJson([])).toBe('[]');
    expect(canonicalJson({})).toBe('{}');
    expect(canonicalJson('é"')).toBe(JSON.stringify('é"'));
    expect(canonicalJson(undefined)).toBe('null');
  });

  it('does not overflow the stack on a value nested 100,000 levels deep', () => {
    const deep = JSON.parse('['.repeat(100_000) + ']'.repeat(100_000)) as unknown;
    expect(canonicalJson(deep)).toHaveLength(200_000);
  });
});
