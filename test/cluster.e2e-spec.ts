import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { api, startApp, type TestApp, upload } from './support/app';
import { plansFile } from './support/plans';
import { listStore, s3Env } from './support/s3';
import { waitFor } from './support/wait';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { startPrivateCluster } = require('../scripts/private-cluster') as {
  startPrivateCluster(o: { dir: string; masters?: number; replicas?: number }): Promise<{
    urls: string;
    ports: number[];
    kill(port: number): void;
    stop(): Promise<void>;
  }>;
};

/**
 * The service on a real 3-master Redis Cluster (started here) and s3rver, in this process: the whole
 * upload → batch → results path, the single-use race, discard and expiry checked in the store, and
 * idempotency and rate limits on the cluster. Every script and MULTI must touch one slot: a CROSSSLOT
 * would surface here as a 503 or 500.
 */
jest.setTimeout(60_000);

let cluster: Awaited<ReturnType<typeof startPrivateCluster>>;
let t: TestApp;
let prefix: string;

beforeAll(async () => {
  cluster = await startPrivateCluster({ dir: await mkdtemp(join(tmpdir(), 'batchgate-cluster-')) });
  prefix = `cluster-${Date.now()}/`;
  t = await startApp({
    ...s3Env(prefix),
    REDIS_CLUSTER_NODES: cluster.urls,
    WORKER_IN_PROCESS: 'true',
    FILE_TTL_SECONDS: '3',
    SWEEP_INTERVAL_SECONDS: '1',
  });
});
afterAll(async () => {
  await t?.close();
  await cluster?.stop();
});

const csv = (n: number, bad: number[] = []) =>
  'content,externalId\n' +
  Array.from({ length: n }, (_, i) => `${bad.includes(i + 2) ? '' : `item ${i}`},id-${i}`).join('\n') +
  '\n';

describe('on Redis Cluster and S3', () => {
  it('uploads, reads back, creates, processes and answers the results', async () => {
    const up = await upload(t, t.keys.pro, csv(2500, [3, 7]));
    expect(up.status).toBe(200);
    expect(up.body).toMatchObject({ itemCount: 2498, validationErrorCount: 2 });
    const { fileId } = up.body;
    const objects = await listStore(`${prefix}${t.orgs.pro}/`);
    expect(objects.sort()).toEqual([
      `${prefix}${t.orgs.pro}/${fileId}.errors.ndjson`,
      `${prefix}${t.orgs.pro}/${fileId}.items.ndjson`,
    ]);

    expect((await api(t, t.keys.pro, 'GET', `/v1/batch/upload/${fileId}`)).body.status).toBe('available');
    const preview = await api(t, t.keys.pro, 'GET', `/v1/batch/upload/${fileId}/preview?limit=2`);
    expect(preview.body.items.map((i: { row: number }) => i.row)).toEqual([2, 4]);
    const errors = await api(t, t.keys.pro, 'GET', `/v1/batch/upload/${fileId}/errors?format=csv`);
    expect(errors.text.split('\n')[1]).toMatch(/^,id-1,3,content,required,/);

    const dry = await api(t, t.keys.pro, 'POST', '/v1/batch', { fileId, dryRun: true });
    expect(dry.body).toMatchObject({ verdict: 'accepted', itemCount: 2498 });
    const created = await api(t, t.keys.pro, 'POST', '/v1/batch', { fileId }, { 'Idempotency-Key': `c-${fileId}` });
    expect(created.status).toBe(202);
    const replay = await api(t, t.keys.pro, 'POST', '/v1/batch', { fileId }, { 'Idempotency-Key': `c-${fileId}` });
    expect(replay.status).toBe(202);
    expect(replay.body.id).toBe(created.body.id);

    const done = await waitFor(
      () => api(t, t.keys.pro, 'GET', `/v1/batch/${created.body.id}`).then((r) => r.body),
      (b) => b.status === 'completed',
    );
    expect(done).toMatchObject({ processedCount: 2498, succeededCount: 2498 });
    const results = (await api(t, t.keys.pro, 'GET', `/v1/batch/${created.body.id}/results`)).text.trim().split('\n');
    expect(results).toHaveLength(2498);
    expect(new Set(results.map((l) => (JSON.parse(l) as { row: number }).row)).size).toBe(2498);
    const list = await api(t, t.keys.pro, 'GET', '/v1/batches?limit=5');
    expect(list.body.data[0].id).toBe(created.body.id);
  });

  it('gives exactly one of 50 concurrent creates of one fileId its batch', async () => {
    const up = await upload(t, t.keys.other, csv(10));
    const answers = await Promise.all(
      Array.from({ length: 50 }, () => api(t, t.keys.other, 'POST', '/v1/batch', { fileId: up.body.fileId })),
    );
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses.filter((s) => s === 202)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(49);
  });

  it('deletes a discarded upload from the store, and an expired one by the sweep', async () => {
    const org = t.orgs.enterprise;
    const discarded = await upload(t, t.keys.enterprise, csv(3));
    const expiring = await upload(t, t.keys.enterprise, csv(4));
    expect((await listStore(`${prefix}${org}/`)).length).toBe(4);
    expect((await api(t, t.keys.enterprise, 'DELETE', `/v1/batch/upload/${discarded.body.fileId}`)).status).toBe(204);
    expect((await listStore(`${prefix}${org}/`)).every((k) => !k.includes(discarded.body.fileId))).toBe(true);
    // FILE_TTL_SECONDS=3, sweep every second: the store is emptied within a few seconds of expiry.
    await waitFor(
      () => listStore(`${prefix}${org}/`),
      (keys) => keys.length === 0,
      15_000,
      250,
    );
    expect((await api(t, t.keys.enterprise, 'GET', `/v1/batch/upload/${expiring.body.fileId}`)).status).toBe(410);
  });

  it('takes direct items, and reports ready with both checks up', async () => {
    const created = await api(t, t.keys.pro, 'POST', '/v1/batch', { items: [{ content: 'a' }, { content: '' }] });
    expect(created.status).toBe(202);
    expect(created.body).toMatchObject({ itemCount: 1, validationErrorCount: 1 });
    await waitFor(
      () => api(t, t.keys.pro, 'GET', `/v1/batch/${created.body.id}`).then((r) => r.body.status),
      (s) => s === 'completed',
    );
    const ready = await api(t, undefined, 'GET', '/ready');
    expect(ready.body).toEqual({ status: 'ok', checks: { redis: 'up', storage: 'up' } });
  });
});

describe('rate limits and quotas on the cluster', () => {
  let limited: TestApp;
  beforeAll(async () => {
    limited = await startApp({
      ...s3Env(),
      REDIS_CLUSTER_NODES: cluster.urls,
      PLANS_FILE: await plansFile({ pro: { requestsPerMinute: 3, maxItemsPerMonth: 5 } }),
    });
  });
  afterAll(() => limited.close());

  it('answers 429 past the plan rate, and 402 past the monthly quota', async () => {
    const first = await api(limited, limited.keys.pro, 'POST', '/v1/batch', {
      items: [1, 2, 3].map((i) => ({ content: `x${i}` })),
    });
    expect(first.status).toBe(202);
    const second = await api(limited, limited.keys.pro, 'POST', '/v1/batch', {
      items: [1, 2, 3].map((i) => ({ content: `y${i}` })),
    });
    expect(second.status).toBe(402);
    expect(second.body.error.details).toMatchObject({ limit: 'maxItemsPerMonth', max: 5, used: 3, requested: 3 });
    await api(limited, limited.keys.pro, 'GET', '/v1/batches');
    const fourth = await api(limited, limited.keys.pro, 'GET', '/v1/batches');
    expect(fourth.status).toBe(429);
    expect(Number(fourth.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});
