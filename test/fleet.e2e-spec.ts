import { mkdtemp } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { api, type TestApp, upload } from './support/app';
import { Fleet, type FleetProcess } from './support/fleet';
import { plansFile } from './support/plans';
import { listStore, s3Env } from './support/s3';
import { waitFor } from './support/wait';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { startPrivateCluster } = require('../scripts/private-cluster') as {
  startPrivateCluster(o: { dir: string }): Promise<{ urls: string; stop(): Promise<void> }>;
};

/**
 * The fleet test (issue 11): 2 api processes and 2 worker processes, each in its own empty working
 * directory, on a 3-master Redis Cluster and s3rver. Upload on one api, read and create on the other;
 * the single-use race across both; a worker SIGKILLed mid-batch and the other finishing it; a quota
 * and a rate limit held across both apis; the expiry sweep emptying the store; no CROSSSLOT anywhere.
 */
jest.setTimeout(180_000);

const ITEMS = 20_000;
const KEYS = { pro: 'fleet-pro-key-1', rated: 'fleet-rated-key', quota: 'fleet-quota-key' };

let cluster: Awaited<ReturnType<typeof startPrivateCluster>>;
let fleet: Fleet;
let a: TestApp;
let b: TestApp;
const workers: FleetProcess[] = [];
let receiver: Server;
const delivered = new Map<number, number>();
const prefix = `fleet-${Date.now()}/`;

const on = (p: FleetProcess) => ({ url: p.url! }) as TestApp;
const fail = (e: unknown): never => {
  throw new Error(`${(e as Error).message}\n--- fleet output ---\n${fleet.output.slice(-6000)}`);
};

beforeAll(async () => {
  cluster = await startPrivateCluster({ dir: await mkdtemp(join(tmpdir(), 'batchgate-fleet-cluster-')) });
  // A receiver slow enough (15 ms a chunk of 100) that the batch is still running when a worker is killed.
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString()) as { items: { row: number }[] };
      for (const { row } of body.items) delivered.set(row, (delivered.get(row) ?? 0) + 1);
      setTimeout(() => res.writeHead(204).end(), 15);
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const plans = await plansFile({
    rated: {
      batchEnabled: true,
      maxFileBytes: 1048576,
      maxItemsPerBatch: 100,
      maxItemsPerMonth: 1000,
      maxConcurrentBatches: 5,
      requestsPerMinute: 10,
    },
    quota: {
      batchEnabled: true,
      maxFileBytes: 1048576,
      maxItemsPerBatch: 100,
      maxItemsPerMonth: 5,
      maxConcurrentBatches: 5,
    },
  });
  fleet = new Fleet({
    ...s3Env(prefix),
    REDIS_CLUSTER_NODES: cluster.urls,
    QUEUE_PREFIX: `fleet${Date.now()}`,
    API_KEYS: `${KEYS.pro}:fleet-org:enterprise,${KEYS.rated}:fleet-rated:rated,${KEYS.quota}:fleet-quota:quota`,
    PLANS_FILE: plans,
    LOG_LEVEL: 'info',
    FILE_TTL_SECONDS: '10',
    SWEEP_INTERVAL_SECONDS: '1',
    WORKER_LOCK_MS: '2000',
    PROCESSOR: 'webhook',
    WEBHOOK_URL: `http://127.0.0.1:${(receiver.address() as { port: number }).port}/`,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  });
  const [apiA, apiB] = await Promise.all([fleet.api('api-a'), fleet.api('api-b')]);
  a = on(apiA);
  b = on(apiB);
});

afterAll(async () => {
  await fleet?.stop();
  await new Promise((r) => receiver?.close(r));
  await cluster?.stop();
});

it('reads on one api what was uploaded on the other, and gives one of 500 creates across both the batch', async () => {
  const up = await upload(a, KEYS.pro, 'content\nfirst\nsecond\n');
  expect(up.status).toBe(200);
  const seen = await api(b, KEYS.pro, 'GET', `/v1/batch/upload/${up.body.fileId}`);
  expect(seen.body).toMatchObject({ status: 'available', itemCount: 2 });
  expect((await api(b, KEYS.pro, 'GET', `/v1/batch/upload/${up.body.fileId}/preview`)).body.items).toHaveLength(2);

  const answers = await Promise.all(
    Array.from({ length: 500 }, (_, i) =>
      api(i % 2 ? a : b, KEYS.pro, 'POST', '/v1/batch', { fileId: up.body.fileId }),
    ),
  );
  const count = (s: number) => answers.filter((r) => r.status === s).length;
  expect([count(202), count(409)]).toEqual([1, 499]);
  const winner = answers.find((r) => r.status === 202)!.body.id as string;
  for (const r of answers.filter((x) => x.status === 409)) expect(r.body.error.details.batchId).toBe(winner);
});

it('finishes a 20,000-item batch on the other worker after one is SIGKILLed, every row once', async () => {
  let csv = 'content\n';
  for (let i = 1; i <= ITEMS; i++) csv += `item ${i}\n`;
  const up = await upload(a, KEYS.pro, csv, { name: 'many.csv' });
  const created = await api(b, KEYS.pro, 'POST', '/v1/batch', { fileId: up.body.fileId });
  expect(created.status).toBe(202);
  const id = created.body.id as string;
  const progress = () => api(a, KEYS.pro, 'GET', `/v1/batch/${id}`).then((r) => r.body);

  // The first worker takes the job; the second joins once it is under way, then the first dies.
  const first = await fleet.worker('worker-1');
  workers.push(first);
  await waitFor(progress, (p) => p.processedCount >= 1000, 60_000, 20).catch(fail);
  workers.push(await fleet.worker('worker-2'));
  await waitFor(progress, (p) => p.processedCount >= 2000, 60_000, 20).catch(fail);
  await first.kill('SIGKILL');
  const frozen = (await progress()).processedCount as number;
  expect(frozen).toBeLessThan(ITEMS);

  const done = await waitFor(progress, (p) => p.status === 'completed', 120_000, 200).catch(fail);
  expect(done).toMatchObject({ itemCount: ITEMS, processedCount: ITEMS, succeededCount: ITEMS, failedCount: 0 });
  const rows = (await api(b, KEYS.pro, 'GET', `/v1/batch/${id}/results`)).text
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as { row: number }).row);
  expect(rows).toEqual(Array.from({ length: ITEMS }, (_, i) => i + 2));
  expect(delivered.size).toBe(ITEMS);
});

it('holds a monthly quota and a rate limit across both apis', async () => {
  const items = (n: number) => ({ items: Array.from({ length: n }, (_, i) => ({ content: `q${i}` })) });
  expect((await api(a, KEYS.quota, 'POST', '/v1/batch', items(3))).status).toBe(202);
  const refused = await api(b, KEYS.quota, 'POST', '/v1/batch', items(3));
  expect(refused.status).toBe(402);
  expect(refused.body.error.details).toMatchObject({ limit: 'maxItemsPerMonth', used: 3, requested: 3 });

  const statuses: number[] = [];
  for (let i = 0; i < 12; i++) statuses.push((await api(i % 2 ? a : b, KEYS.rated, 'GET', '/v1/batches')).status);
  expect(statuses.slice(0, 10).every((s) => s === 200)).toBe(true);
  expect(statuses.slice(10)).toEqual([429, 429]);
});

it('takes an upload session begun on one api and completed on the other, validated by a worker', async () => {
  let csv = 'content\n';
  for (let i = 1; i <= 2000; i++) csv += `session row ${i}\n`;
  const bytes = Buffer.from(csv);
  const created = await api(a, KEYS.pro, 'POST', '/v1/uploads', {
    files: [{ filename: 'fleet.csv', sizeBytes: bytes.length }],
  });
  expect(created.status).toBe(201);
  const s = created.body.data[0];
  const put = await fetch(s.parts[0].url, { method: 'PUT', body: bytes });
  expect(put.status).toBe(200);
  const seen = await api(b, KEYS.pro, 'GET', `/v1/uploads/${s.uploadId}`);
  expect(seen.body.receivedParts).toEqual([{ partNumber: 1, sizeBytes: bytes.length }]);
  const done = await api(b, KEYS.pro, 'POST', `/v1/uploads/${s.uploadId}/complete`, undefined, { Prefer: 'wait=60' });
  expect(done.body).toMatchObject({ status: 'ready', result: { itemCount: 2000 } });
  expect((await listStore(prefix)).filter((k) => k.includes(s.uploadId))).toEqual([]);
});

it('deletes an expired upload from the store, and no process ever met a CROSSSLOT', async () => {
  const up = await upload(b, KEYS.pro, 'content\nlate\n');
  const mine = (keys: string[]) => keys.filter((k) => k.includes(up.body.fileId as string));
  expect(mine(await listStore(prefix))).toHaveLength(2);
  // FILE_TTL_SECONDS=10, sweeps every second on both apis.
  await waitFor(
    () => listStore(prefix).then(mine),
    (keys) => keys.length === 0,
    30_000,
    500,
  ).catch(fail);
  expect((await api(a, KEYS.pro, 'GET', `/v1/batch/upload/${up.body.fileId}`)).status).toBe(410);
  expect(fleet.output).not.toMatch(/CROSSSLOT/);
  expect(fleet.output).not.toMatch(/"level":50/);
});
