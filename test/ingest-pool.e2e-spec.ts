/**
 * Issue 14: a large upload is read by the ingest pool's threads. A thread that dies while it holds
 * a chunk fails that upload cleanly (503 FILE_STORAGE_UNAVAILABLE with Retry-After, nothing
 * stored), the pool replaces the thread, and the next upload is read by the pool again.
 */
import type { Worker } from 'node:worker_threads';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { IngestPool } from '../src/ingest/pool';
import { api, startApp, upload, type TestApp } from './support/app';

jest.setTimeout(30_000);

let t: TestApp;
let pool: IngestPool;

beforeAll(async () => {
  // Files from 64 KB on go to the pool, in chunks of 32 KB.
  t = await startApp({ INGEST_THREADS: '2', INGEST_PARALLEL_MIN_BYTES: '65536', INGEST_CHUNK_BYTES: '32768' });
  pool = t.app.get(IngestPool);
});
afterAll(async () => {
  await t.close();
});

function csv(rows: number): string {
  let text = 'content,externalId\n';
  for (let i = 0; i < rows; i++) text += `"row ${i}, with a comma\nand a line break",ext-${i}\n`;
  return text;
}

/** Every file under a directory (the local storage driver's objects). */
async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) out.push(join(entry.parentPath, entry.name));
  }
  return out;
}

it('reads a large upload in the pool, with the same answer as in-thread', async () => {
  const dispatched: number[] = [];
  const onDispatch = (_w: Worker, index: number) => dispatched.push(index);
  pool.on('dispatch', onDispatch);
  const res = await upload(t, t.keys.pro, csv(8000));
  pool.off('dispatch', onDispatch);
  expect(res.status).toBe(200);
  expect(res.body.itemCount).toBe(8000);
  expect(res.body.parsing.lineEnding).toBe('lf');
  expect(dispatched.length).toBeGreaterThan(5);
});

it('a thread that dies mid-upload: 503 with Retry-After, nothing stored, the thread replaced', async () => {
  const before = await filesUnder(t.storageDir);
  const threadIds = pool.workers.map((w) => w.threadId);
  const replaced = new Promise<number>((resolve) => pool.once('replaced', resolve));
  // The first chunk handed to a thread: that thread is stopped while it holds it.
  pool.once('dispatch', (worker: Worker) => void worker.terminate());
  const res = await upload(t, t.keys.pro, csv(8000));
  expect(res.status).toBe(503);
  expect(res.headers.get('retry-after')).toBe('5');
  expect(res.body.error).toEqual({
    code: 'FILE_STORAGE_UNAVAILABLE',
    message: 'File storage is temporarily unavailable.',
  });
  expect(res.body.fileId).toBeUndefined();
  expect(await filesUnder(t.storageDir)).toEqual(before);

  await replaced;
  expect(pool.workers).toHaveLength(2);
  expect(pool.workers.map((w) => w.threadId)).not.toEqual(threadIds);
  const again = await upload(t, t.keys.pro, csv(8000));
  expect(again.status).toBe(200);
  expect(again.body.itemCount).toBe(8000);
  const stored = await api(t, t.keys.pro, 'GET', `/v1/batch/upload/${again.body.fileId}`);
  expect(stored.status).toBe(200);
});
