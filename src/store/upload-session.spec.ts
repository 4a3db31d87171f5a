import Redis from 'ioredis';
import { randomBytes } from 'node:crypto';
import type { SessionMeta } from './upload-session-record';
import { UploadSessionRepository } from './upload-session.repository';

/** The session transition script against the private redis-server (test/global-setup.js), no app. */
let redis: Redis;
let sessions: UploadSessionRepository;

beforeAll(() => {
  const url = process.env.BATCHGATE_TEST_REDIS_URL;
  if (!url) throw new Error('BATCHGATE_TEST_REDIS_URL is not set: run with `npm test`');
  redis = new Redis(url);
  sessions = new UploadSessionRepository(redis, { queuePrefix: 'spec', sweepIntervalMs: 60_000 });
});
afterAll(() => redis.quit());

function meta(expiresInMs = 3600_000): SessionMeta {
  const now = Date.now();
  return {
    uploadId: `u_${randomBytes(16).toString('base64url')}`,
    orgId: `spec-${randomBytes(6).toString('hex')}`,
    filename: 'claims.csv',
    path: null,
    sizeBytes: 100,
    schema: 'default',
    method: 'put',
    partSize: 100,
    partCount: 1,
    maxFileBytes: 1000,
    createdAt: new Date(now).toISOString(),
    expiresAt: new Date(now + expiresInMs).toISOString(),
  };
}

const progress = { bytesRead: 1, rowsRead: 1, itemCount: 1, validationErrorCount: 0 };

describe('upload session transitions (session-transition.lua)', () => {
  it('50 concurrent completes: exactly one moves the session to validating', async () => {
    const m = meta();
    await sessions.create(m, Date.now() + 60_000);
    const replies = await Promise.all(Array.from({ length: 50 }, () => sessions.complete(m.orgId, m.uploadId)));
    expect(replies.filter((r) => r === 'started')).toHaveLength(1);
    expect(replies.filter((r) => r === 'validating')).toHaveLength(49);
    expect((await sessions.get(m.orgId, m.uploadId))?.status).toBe('validating');
  });

  it('only the run that holds the session writes progress and its end; a later claim takes over', async () => {
    const m = meta();
    await sessions.create(m, Date.now());
    await sessions.complete(m.orgId, m.uploadId);
    expect(await sessions.claim(m.orgId, m.uploadId, 'f_one', 'run1')).toEqual(['claimed', '']);
    expect(await sessions.progress(m.orgId, m.uploadId, 'run1', progress)).toBe('ok');
    // A second run (the first one's worker was presumed dead) takes over and learns the old fileId.
    expect(await sessions.claim(m.orgId, m.uploadId, 'f_two', 'run2')).toEqual(['claimed', 'f_one']);
    expect(await sessions.progress(m.orgId, m.uploadId, 'run1', progress)).toBe('stale');
    const ready = { status: 'ready' as const, result: { fileId: 'f_two' } };
    expect(await sessions.finish(m.orgId, m.uploadId, 'run1', ready, progress, 3600)).toBe('stale');
    expect(await sessions.finish(m.orgId, m.uploadId, 'run2', ready, progress, 3600)).toBe('ready');
    // Ended once: neither run may end it again, nor may a new run claim it.
    expect(await sessions.finish(m.orgId, m.uploadId, 'run2', ready, progress, 3600)).toBe('ready');
    expect((await sessions.claim(m.orgId, m.uploadId, 'f_three', 'run3'))[0]).toBe('ready');
    expect((await sessions.get(m.orgId, m.uploadId))?.fileId).toBe('f_two');
  });

  it('cancel against finish: whichever comes first wins, the other is refused', async () => {
    const m = meta();
    await sessions.create(m, Date.now());
    await sessions.complete(m.orgId, m.uploadId);
    await sessions.claim(m.orgId, m.uploadId, 'f_x', 'run');
    expect(await sessions.cancel(m.orgId, m.uploadId)).toEqual(['cancelled', 'f_x']);
    expect(await sessions.progress(m.orgId, m.uploadId, 'run', progress)).toBe('cancelled');
    expect(await sessions.finish(m.orgId, m.uploadId, 'run', { status: 'failed', error: {} }, progress, 60)).toBe(
      'cancelled',
    );
    // A ready session is cancelled only when the caller says its fileId was discarded.
    const r = meta();
    await sessions.create(r, Date.now());
    await sessions.complete(r.orgId, r.uploadId);
    await sessions.claim(r.orgId, r.uploadId, 'f_r', 'run');
    await sessions.finish(r.orgId, r.uploadId, 'run', { status: 'ready', result: {} }, progress, 60);
    expect(await sessions.cancel(r.orgId, r.uploadId)).toEqual(['ready', 'f_r']);
    expect(await sessions.cancel(r.orgId, r.uploadId, true)).toEqual(['cancelled', 'f_r']);
  });

  it('past expiresAt a pending session cannot be completed or cancelled: it is expired', async () => {
    const m = meta(-1);
    await sessions.create(m, Date.now());
    expect(await sessions.complete(m.orgId, m.uploadId)).toBe('expired');
    expect((await sessions.cancel(m.orgId, m.uploadId))[0]).toBe('expired');
    expect(await sessions.expire(m.orgId, m.uploadId)).toBe('expired');
    expect((await sessions.get(m.orgId, m.uploadId))?.status).toBe('expired');
    expect(await sessions.complete(m.orgId, 'u_missingmissingmissing')).toBe('missing');
  });

  it('the signing secret is made once and the same for every caller', async () => {
    const all = await Promise.all(Array.from({ length: 10 }, () => sessions.signingSecret()));
    expect(new Set(all).size).toBe(1);
    expect(all[0].length).toBeGreaterThanOrEqual(40);
  });
});
