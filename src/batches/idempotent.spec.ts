import Redis from 'ioredis';
import { randomBytes } from 'node:crypto';
import { IdempotencyRepository } from '../store/idempotency.repository';
import { idempotent } from './idempotent';

/** The Idempotency-Key protocol around a request, against the private redis-server of `npm test`. */
let redis: Redis;
let records: IdempotencyRepository;
const org = () => `o_${randomBytes(6).toString('hex')}`;

beforeAll(() => {
  const url = process.env.BATCHGATE_TEST_REDIS_URL;
  if (!url) throw new Error('BATCHGATE_TEST_REDIS_URL is not set: run with `npm test`');
  redis = new Redis(url);
  records = new IdempotencyRepository(redis);
});
afterAll(() => redis.quit());

describe('idempotent', () => {
  it('answers what was done when its answer cannot be kept for replays, and a retry then finds it in flight', async () => {
    const orgId = org();
    let runs = 0;
    const run = () => Promise.resolve({ status: 202, body: { id: `b_${++runs}` } });
    const failing = Object.create(records) as IdempotencyRepository;
    failing.succeed = () => Promise.reject(new Error('Connection is closed.'));
    expect(await idempotent(failing, orgId, 'k', { a: 1 }, run)).toEqual({ status: 202, body: { id: 'b_1' } });
    await expect(idempotent(records, orgId, 'k', { a: 1 }, run)).rejects.toMatchObject({
      code: 'idempotency_conflict',
    });
    expect(runs).toBe(1);
  });

  it('frees the key when the request fails, and replays a success', async () => {
    const orgId = org();
    const refused = Object.assign(new Error('quota'), { status: 402 });
    await expect(idempotent(records, orgId, 'k', {}, () => Promise.reject(refused))).rejects.toBe(refused);
    const ok = await idempotent(records, orgId, 'k', {}, () => Promise.resolve({ status: 202, body: { id: 'b_2' } }));
    expect(ok).toEqual({ status: 202, body: { id: 'b_2' } });
    expect(await idempotent(records, orgId, 'k', {}, () => Promise.reject(new Error('not run')))).toEqual({
      status: 202,
      body: { id: 'b_2' },
      replayed: true,
    });
  });
});
