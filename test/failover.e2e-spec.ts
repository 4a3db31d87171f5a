import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { api, startApp, type TestApp, upload } from './support/app';
import { s3Env } from './support/s3';
import { waitFor } from './support/wait';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { startPrivateCluster, masterPorts } = require('../scripts/private-cluster') as {
  startPrivateCluster(o: { dir: string; masters?: number; replicas?: number }): Promise<{
    urls: string;
    ports: number[];
    kill(port: number): void;
    stop(): Promise<void>;
  }>;
  masterPorts(port: number): Promise<number[]>;
};

/**
 * A Redis Cluster master killed under the api (3 masters, one replica each): while the cluster fails
 * over, every answer is a 2xx or a 503 with Retry-After (never a 500, never a hang), and the api
 * recovers by itself without a restart.
 */
jest.setTimeout(90_000);

/** The port of the master that serves `key`'s slot, from CLUSTER KEYSLOT and CLUSTER NODES. */
function masterOf(port: number, key: string): number {
  const cli = (...args: string[]) => execFileSync('redis-cli', ['-p', String(port), ...args]).toString();
  const slot = Number(cli('CLUSTER', 'KEYSLOT', key).trim());
  for (const line of cli('CLUSTER', 'NODES').split('\n')) {
    const f = line.split(' ');
    if (f.length < 9 || !f[2].includes('master')) continue;
    for (const range of f.slice(8)) {
      const [from, to] = range.split('-').map(Number);
      if (slot >= from && slot <= (to ?? from)) return Number(/:(\d+)@/.exec(f[1])![1]);
    }
  }
  throw new Error(`no master serves slot ${slot}`);
}

let cluster: Awaited<ReturnType<typeof startPrivateCluster>>;
let t: TestApp;

beforeAll(async () => {
  cluster = await startPrivateCluster({
    dir: await mkdtemp(join(tmpdir(), 'batchgate-failover-')),
    masters: 3,
    replicas: 1,
  });
  t = await startApp({ ...s3Env(), REDIS_CLUSTER_NODES: cluster.urls });
});
afterAll(async () => {
  await t?.close();
  await cluster?.stop();
});

it('answers 503 with Retry-After while a master fails over, and recovers unaided', async () => {
  const probe = async (key: string) => {
    const started = Date.now();
    // A read of the organization's keys (and of its rate-limit counter): no quota to run out of.
    const res = await api(t, key, 'GET', '/v1/batches?limit=1');
    return { status: res.status, retryAfter: res.headers.get('retry-after'), ms: Date.now() - started };
  };
  // Four organizations, so that some of them live on the master that dies.
  const keys = [t.keys.pro, t.keys.enterprise, t.keys.other, t.keys.pro];
  for (const key of keys) expect((await probe(key)).status).toBe(200);

  // The master that serves the first organization's keys, so the failover is on the path of the probes.
  const victim = masterOf(cluster.ports[0], `bg:{${t.orgs.pro}}:batches`);
  expect(await masterPorts(cluster.ports[0])).toContain(victim);
  cluster.kill(victim);
  const seen: { status: number; retryAfter: string | null; ms: number }[] = [];
  const until = Date.now() + 25_000;
  let recovered = false;
  while (Date.now() < until && !recovered) {
    const round = await Promise.all(keys.map(probe));
    seen.push(...round);
    recovered = seen.some((s) => s.status === 503) && round.every((s) => s.status === 200);
    await new Promise((r) => setTimeout(r, 200));
  }
  for (const s of seen) {
    expect([200, 503]).toContain(s.status);
    if (s.status === 503) expect(Number(s.retryAfter)).toBeGreaterThan(0);
    expect(s.ms).toBeLessThan(10_000);
  }
  expect(seen.some((s) => s.status === 503)).toBe(true);
  // Recovered without a restart: reads and uploads work on every organization again.
  await waitFor(
    () => Promise.all(keys.map(probe)),
    (round) => round.every((s) => s.status === 200),
    30_000,
    500,
  );
  expect((await upload(t, t.keys.other, 'content\nafter failover\n')).status).toBe(200);
});
