import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { api, startApp, testRedisUrl, upload, type TestApp } from './support/app';
import { waitFor } from './support/wait';

const WORKER = join(__dirname, '..', 'dist', 'worker.js');
const ITEMS = 20_000;

/**
 * A worker process is killed with SIGKILL mid-batch; another one resumes after the last committed
 * chunk. A third is stopped with SIGTERM and hands its job back after the chunk in hand. The batch
 * ends with every row's result exactly once, in row order.
 */
describe('worker crash and shutdown', () => {
  let t: TestApp;
  let receiver: Server;
  const delivered = new Map<number, number>();
  const workers: ChildProcess[] = [];
  /** Everything the worker processes printed, shown when a wait times out. */
  let workerOutput = '';

  function startWorker(): ChildProcess {
    const port = (receiver.address() as { port: number }).port;
    const child = spawn(process.execPath, [WORKER], {
      env: {
        PATH: process.env.PATH,
        REDIS_URL: testRedisUrl(),
        STORAGE_DIR: t.storageDir,
        PROCESSOR: 'webhook',
        WEBHOOK_URL: `http://127.0.0.1:${port}/`,
        WORKER_LOCK_MS: '2000',
        API_KEYS: 'unused-key-123:unused:pro',
        LOG_LEVEL: 'info',
        QUEUE_PREFIX: t.config.queuePrefix,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const n = workers.length + 1;
    const collect = (c: Buffer) => (workerOutput += c.toString().replace(/^/gm, `[worker ${n}] `));
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('exit', (code, signal) => (workerOutput += `[worker ${n}] exited code=${code} signal=${signal}\n`));
    workers.push(child);
    return child;
  }

  beforeAll(async () => {
    if (!existsSync(WORKER)) throw new Error('dist/worker.js is missing: `npm test` builds it first (nest build)');
    t = await startApp();
    // A receiver slow enough (15 ms a chunk of 100) that the batch is still running when we kill.
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
  });

  afterAll(async () => {
    for (const w of workers) if (w.exitCode === null && w.signalCode === null) w.kill('SIGKILL');
    await new Promise((r) => receiver.close(r));
    await t.close();
  });

  it('resumes a SIGKILLed batch elsewhere and finishes with every row exactly once', async () => {
    let csv = 'content\n';
    for (let i = 1; i <= ITEMS; i++) csv += `item ${i}\n`;
    const fileId = (await upload(t, t.keys.enterprise, csv, { name: 'many.csv' })).body.fileId;
    const created = await api(t, t.keys.enterprise, 'POST', '/v1/batch', { fileId });
    expect(created.status).toBe(202);
    const id = created.body.id as string;
    const progress = () => api(t, t.keys.enterprise, 'GET', `/v1/batch/${id}`);
    const until = async (done: (r: Awaited<ReturnType<typeof progress>>) => boolean, ms: number, every: number) => {
      try {
        return await waitFor(progress, done, ms, every);
      } catch (e) {
        throw new Error(`${(e as Error).message}\n--- worker output ---\n${workerOutput.slice(-8000)}`);
      }
    };

    const first = startWorker();
    const atKill = await until((r) => r.body.processedCount >= 2000, 60000, 20);
    first.kill('SIGKILL');
    await once(first, 'exit');
    expect(atKill.body.status).toBe('processing');
    const frozen = (await progress()).body.processedCount as number;
    expect(frozen).toBeLessThan(ITEMS);

    // A second worker notices the stalled job (after the 2 s lock) and resumes it; stop it politely.
    const second = startWorker();
    await until((r) => r.body.processedCount >= frozen + 2000, 60000, 50);
    const termAt = Date.now();
    second.kill('SIGTERM');
    // Nest closes everything (the job in hand goes back to the queue) and then re-raises the signal.
    const [code, signal] = (await once(second, 'exit')) as [number | null, NodeJS.Signals | null];
    expect(Date.now() - termAt).toBeLessThan(10_000);
    expect(code === 0 || signal === 'SIGTERM').toBe(true);
    expect(workerOutput).not.toMatch(/"level":50|ERROR/);
    const afterTerm = (await progress()).body;
    expect(afterTerm.processedCount).toBeLessThan(ITEMS);

    startWorker();
    const done = await until((r) => r.body.status === 'completed', 90000, 100);
    expect(done.body).toMatchObject({ itemCount: ITEMS, processedCount: ITEMS, succeededCount: ITEMS, failedCount: 0 });

    const results = await api(t, t.keys.enterprise, 'GET', `/v1/batch/${id}/results`);
    const rows = results.text
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { row: number }).row);
    expect(rows).toHaveLength(ITEMS);
    expect(rows).toEqual(Array.from({ length: ITEMS }, (_, i) => i + 2));
    // Delivery to the receiver is at least once (a chunk in flight at the kill is sent again); none is lost.
    expect(delivered.size).toBe(ITEMS);
  }, 240_000);
});
