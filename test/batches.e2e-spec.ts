import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHmac } from 'node:crypto';
import { plansFile } from './support/plans';
import { api, startApp, upload, type TestApp } from './support/app';
import { waitFor } from './support/wait';

function csv(n: number, bad: number[] = []): string {
  let out = 'content,externalId\n';
  for (let i = 1; i <= n; i++) out += `${bad.includes(i) ? '' : `item ${i}`},${i}\n`;
  return out;
}

async function uploaded(t: TestApp, key: string, n: number): Promise<string> {
  const res = await upload(t, key, csv(n));
  expect(res.status).toBe(200);
  return res.body.fileId;
}

/** A webhook receiver on a free port: `answer` gets each request with its whole body as text. */
async function webhookReceiver(
  answer: (body: string, req: IncomingMessage, res: ServerResponse) => void,
): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => answer(Buffer.concat(chunks).toString(), req, res));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise<void>((r) => server.close(() => r())) };
}

describe('batches with a worker', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp({ WORKER_IN_PROCESS: 'true' });
  });
  afterAll(async () => {
    await t.close();
  });

  it('upload, create, complete: processedCount reaches itemCount and the results match the rows', async () => {
    const fileId = (await upload(t, t.keys.pro, csv(2500, [7]))).body.fileId;
    const created = await api(t, t.keys.pro, 'POST', '/v1/batch', {
      fileId,
      name: 'claims',
      metadata: { team: 'ops' },
    });
    expect(created.status).toBe(202);
    expect(created.body).toMatchObject({ status: 'queued', itemCount: 2499, fileId });
    expect(created.body.id).toMatch(/^b_[A-Za-z0-9_-]{22,}$/);
    const done = await waitFor(
      () => api(t, t.keys.pro, 'GET', `/v1/batch/${created.body.id}`),
      (r) => r.body.status === 'completed',
    );
    expect(done.body).toMatchObject({
      name: 'claims',
      itemCount: 2499,
      processedCount: 2499,
      succeededCount: 2499,
      failedCount: 0,
      source: { type: 'file', fileId, originalFileName: 'data.csv' },
      error: null,
    });
    expect(done.body.startedAt).toBeTruthy();
    expect(done.body.completedAt).toBeTruthy();
    const results = await api(t, t.keys.pro, 'GET', `/v1/batch/${created.body.id}/results`);
    expect(results.headers.get('content-type')).toMatch(/ndjson/);
    const lines = results.text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(2499);
    expect(lines[0]).toEqual({
      fileId: created.body.fileId,
      row: 2,
      status: 'succeeded',
      output: { content: 'item 1', externalId: '1' },
    });
    const rows = lines.map((l) => l.row);
    expect(rows).toEqual([...rows].sort((a, b) => a - b));
    expect(rows).not.toContain(8); // the bad row (item 7 is row 8) was skipped at upload
    const upload2 = await api(t, t.keys.pro, 'GET', `/v1/batch/upload/${fileId}`);
    expect(upload2.body).toMatchObject({ status: 'consumed', batchId: created.body.id, validationErrorCount: 1 });
    expect(Array.isArray(upload2.body.errorSummary)).toBe(true);
  });

  it('gives exactly one 202 to 50 concurrent creates on one fileId, and 409 with the winner to the rest', async () => {
    for (let round = 0; round < 3; round++) {
      const fileId = await uploaded(t, t.keys.pro, 3);
      const answers = await Promise.all(
        Array.from({ length: 50 }, () => api(t, t.keys.pro, 'POST', '/v1/batch', { fileId })),
      );
      const won = answers.filter((a) => a.status === 202);
      const lost = answers.filter((a) => a.status === 409);
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(49);
      for (const l of lost) {
        expect(l.body.error.code).toBe('file_already_consumed');
        expect(l.body.error.details.batchId).toBe(won[0].body.id);
      }
    }
  });

  it('keeps another organization out: its batch ids answer 404', async () => {
    const fileId = await uploaded(t, t.keys.pro, 1);
    const created = await api(t, t.keys.pro, 'POST', '/v1/batch', { fileId });
    const other = await api(t, t.keys.other, 'GET', `/v1/batch/${created.body.id}`);
    expect(other.status).toBe(404);
    expect(other.body.error.code).toBe('batch_not_found');
    expect((await api(t, t.keys.other, 'POST', '/v1/batch', { fileId })).status).toBe(404);
  });

  it('creates from direct items, reporting the invalid ones, row 1 being the first element', async () => {
    const res = await api(t, t.keys.pro, 'POST', '/v1/batch', {
      items: [{ content: 'a' }, { content: '  ' }, 7, { content: 'b' }],
    });
    expect(res.status).toBe(202);
    expect(res.body.itemCount).toBe(2);
    expect(res.body.validationErrors).toEqual([
      { row: 2, field: 'content', code: 'required', error: 'Content is empty, row skipped' },
      { row: 3, code: 'type', error: 'Row is not an object, row skipped' },
    ]);
    const none = await api(t, t.keys.pro, 'POST', '/v1/batch', { items: [{ content: '' }] });
    expect(none.status).toBe(400);
    expect(none.body.error.code).toBe('file_parsing_failed');
    expect(none.body.validationErrors).toHaveLength(1);
  });

  it('refuses malformed requests with 400 and the free plan with 402', async () => {
    for (const body of [
      {},
      { fileId: 'f_x', items: [] },
      { fileId: 5 },
      { items: {} },
      { items: [{ content: 'a' }], name: 'x'.repeat(201) },
    ]) {
      const res = await api(t, t.keys.pro, 'POST', '/v1/batch', body);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('validation_error');
    }
    expect((await api(t, t.keys.pro, 'POST', '/v1/batch', '{not json')).status).toBe(400);
    const free = await api(t, t.keys.free, 'POST', '/v1/batch', { items: [{ content: 'a' }] });
    expect(free.status).toBe(402);
    expect(free.body.error.message).toBe('Batch processing is not available on the free plan.');
  });

  it('replays an idempotent create, refuses the same key with another body, and creates one batch under concurrency', async () => {
    const fileId = await uploaded(t, t.keys.pro, 2);
    const key = `idem-${fileId}`;
    const first = await api(t, t.keys.pro, 'POST', '/v1/batch', { fileId }, { 'Idempotency-Key': key });
    const again = await api(t, t.keys.pro, 'POST', '/v1/batch', { fileId }, { 'Idempotency-Key': key });
    expect(first.status).toBe(202);
    expect(again.status).toBe(202);
    expect(again.body).toEqual(first.body);
    const other = await api(t, t.keys.pro, 'POST', '/v1/batch', { fileId, name: 'x' }, { 'Idempotency-Key': key });
    expect(other.status).toBe(422);
    expect(other.body.error.code).toBe('idempotency_key_reused');

    const fileId2 = await uploaded(t, t.keys.pro, 2);
    const answers = await Promise.all(
      Array.from({ length: 10 }, () =>
        api(t, t.keys.pro, 'POST', '/v1/batch', { fileId: fileId2 }, { 'Idempotency-Key': `k-${fileId2}` }),
      ),
    );
    const ids = new Set(answers.filter((a) => a.status === 202).map((a) => a.body.id));
    expect(ids.size).toBe(1);
    for (const a of answers.filter((x) => x.status !== 202)) {
      expect(a.status).toBe(409);
      expect(a.body.error.code).toBe('idempotency_conflict');
    }
  });

  it('answers 410 for an expired fileId and 404 for an unknown one', async () => {
    const short = await startApp({ FILE_TTL_SECONDS: '1' });
    try {
      const fileId = await uploaded(short, short.keys.pro, 1);
      await new Promise((r) => setTimeout(r, 1500));
      const res = await api(short, short.keys.pro, 'POST', '/v1/batch', { fileId });
      expect(res.status).toBe(410);
      expect(res.body.error.code).toBe('file_expired');
      const unknown = await api(short, short.keys.pro, 'POST', '/v1/batch', { fileId: 'f_AAAAAAAAAAAAAAAAAAAAAA' });
      expect(unknown.status).toBe(404);
      expect(unknown.body.error.code).toBe('file_not_found');
    } finally {
      await short.close();
    }
  });
});

describe('quotas, dry runs and cancel (no worker: batches stay queued)', () => {
  let t: TestApp;
  beforeAll(async () => {
    const file = await plansFile({ pro: { maxItemsPerBatch: 5, maxItemsPerMonth: 8, maxConcurrentBatches: 2 } });
    t = await startApp({ PLANS_FILE: file });
  });
  afterAll(async () => {
    await t.close();
  });

  it('refuses a batch over maxItemsPerBatch with 402 and the limit, leaving the fileId usable', async () => {
    const fileId = await uploaded(t, t.keys.pro, 6);
    const res = await api(t, t.keys.pro, 'POST', '/v1/batch', { fileId });
    expect(res.status).toBe(402);
    expect(res.body.error).toMatchObject({
      code: 'quota_exceeded',
      details: { limit: 'maxItemsPerBatch', max: 5, used: 0, requested: 6 },
    });
    expect((await api(t, t.keys.pro, 'GET', `/v1/batch/upload/${fileId}`)).body.status).toBe('available');
  });

  it('dry-runs without consuming, then enforces the monthly quota and gives cancelled items back', async () => {
    const a = await uploaded(t, t.keys.pro, 5);
    const dry = await api(t, t.keys.pro, 'POST', '/v1/batch', { fileId: a, dryRun: true });
    expect(dry.status).toBe(200);
    expect(dry.body).toMatchObject({
      dryRun: true,
      verdict: 'accepted',
      itemCount: 5,
      quota: { usedThisMonth: 0, wouldUse: 5 },
    });
    expect((await api(t, t.keys.pro, 'GET', `/v1/batch/upload/${a}`)).body.status).toBe('available');

    const first = await api(t, t.keys.pro, 'POST', '/v1/batch', { fileId: a });
    expect(first.status).toBe(202);
    const b = await uploaded(t, t.keys.pro, 4);
    const over = await api(t, t.keys.pro, 'POST', '/v1/batch', { fileId: b });
    expect(over.status).toBe(402);
    expect(over.body.error.details).toEqual({ limit: 'maxItemsPerMonth', max: 8, used: 5, requested: 4 });
    const dryOver = await api(t, t.keys.pro, 'POST', '/v1/batch', { fileId: b, dryRun: true });
    expect(dryOver.body).toMatchObject({ verdict: 'refused', status: 402, error: { code: 'quota_exceeded' } });

    const cancelled = await api(t, t.keys.pro, 'POST', `/v1/batch/${first.body.id}/cancel`);
    expect(cancelled.status).toBe(202);
    expect(cancelled.body).toMatchObject({ id: first.body.id, status: 'cancelled', processedCount: 0 });
    const again = await api(t, t.keys.pro, 'POST', `/v1/batch/${first.body.id}/cancel`);
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('batch_finished');

    const now = await api(t, t.keys.pro, 'POST', '/v1/batch', { fileId: b });
    expect(now.status).toBe(202);
  });

  it('limits concurrent batches and lists batches newest first with a status filter', async () => {
    const ids: string[] = [];
    let refused: any;
    for (let i = 0; i < 3; i++) {
      const res = await api(t, t.keys.other, 'POST', '/v1/batch', { items: [{ content: `x${i}` }] });
      if (res.status === 202) ids.push(res.body.id);
      else refused = res;
    }
    expect(ids).toHaveLength(2);
    expect(refused.status).toBe(402);
    expect(refused.body.error.details).toMatchObject({ limit: 'maxConcurrentBatches', max: 2, used: 2, requested: 1 });
    const list = await api(t, t.keys.other, 'GET', '/v1/batches?status=queued&limit=1');
    expect(list.body.meta).toEqual({ offset: 0, limit: 1, count: 1, total: 2 });
    expect(list.body.data[0].id).toBe(ids[1]);
    expect((await api(t, t.keys.other, 'GET', '/v1/batches?status=bogus')).status).toBe(400);
  });
});

describe('direct items without file storage', () => {
  it('processes items when STORAGE_DRIVER=none', async () => {
    const t = await startApp({ STORAGE_DRIVER: 'none', WORKER_IN_PROCESS: 'true' });
    try {
      const res = await api(t, t.keys.pro, 'POST', '/v1/batch', { items: [{ content: 'a' }, { content: 'b' }] });
      expect(res.status).toBe(202);
      await waitFor(
        () => api(t, t.keys.pro, 'GET', `/v1/batch/${res.body.id}`),
        (r) => r.body.status === 'completed',
      );
      const results = await api(t, t.keys.pro, 'GET', `/v1/batch/${res.body.id}/results`);
      expect(
        results.text
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l).row),
      ).toEqual([1, 2]);
    } finally {
      await t.close();
    }
  });
});

describe('webhook processor', () => {
  let receiver: Awaited<ReturnType<typeof webhookReceiver>>;
  const seen: { signatureOk: boolean; rows: number[] }[] = [];
  let calls = 0;
  const secret = 'whsec-test';

  beforeAll(async () => {
    receiver = await webhookReceiver((body, req, res) => {
      calls++;
      // Every third call fails, to be retried.
      if (calls % 3 === 0) {
        res.writeHead(500).end();
        return;
      }
      const parsed = JSON.parse(body) as { items: { row: number; item: { content: string } }[] };
      seen.push({
        // As API.md puts it, computed here: the hex HMAC-SHA256 of the body.
        signatureOk: req.headers['x-batchgate-signature'] === createHmac('sha256', secret).update(body).digest('hex'),
        rows: parsed.items.map((i) => i.row),
      });
      const results = parsed.items.map((i) =>
        i.item.content.endsWith('3')
          ? { status: 'failed', error: 'ends in 3' }
          : { status: 'succeeded', output: { ok: i.row } },
      );
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ results }));
    });
  });
  afterAll(() => receiver.close());

  it('posts signed chunks, retries failures, and honours per-item results', async () => {
    const t = await startApp({
      WORKER_IN_PROCESS: 'true',
      PROCESSOR: 'webhook',
      WEBHOOK_URL: `${receiver.url}/hook`,
      WEBHOOK_SECRET: secret,
      WEBHOOK_RETRY_DELAY_MS: '5',
    });
    try {
      const fileId = await uploaded(t, t.keys.pro, 250);
      const created = await api(t, t.keys.pro, 'POST', '/v1/batch', { fileId });
      const done = await waitFor(
        () => api(t, t.keys.pro, 'GET', `/v1/batch/${created.body.id}`),
        (r) => r.body.status === 'completed',
      );
      const failing = Array.from({ length: 250 }, (_, i) => i + 1).filter((i) => String(i).endsWith('3')).length;
      expect(done.body).toMatchObject({ processedCount: 250, failedCount: failing, succeededCount: 250 - failing });
      expect(seen.every((s) => s.signatureOk)).toBe(true);
      expect(seen.flatMap((s) => s.rows)).toHaveLength(250);
      const results = (await api(t, t.keys.pro, 'GET', `/v1/batch/${created.body.id}/results`)).text
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(results.find((r) => r.row === 4)).toMatchObject({ row: 4, status: 'failed', error: 'ends in 3' });
      expect(results.find((r) => r.row === 2)).toMatchObject({ row: 2, status: 'succeeded', output: { ok: 2 } });
      expect(results.every((r) => typeof r.fileId === 'string')).toBe(true);
    } finally {
      await t.close();
    }
  });
});

describe('cancel while processing', () => {
  let receiver: Awaited<ReturnType<typeof webhookReceiver>>;
  let delivered = 0;
  beforeAll(async () => {
    // A slow webhook: 100 items per call, 30 ms each, so the batch is still processing when cancelled.
    receiver = await webhookReceiver((body, _req, res) => {
      delivered += (JSON.parse(body) as { items: unknown[] }).items.length;
      setTimeout(() => res.writeHead(204).end(), 30);
    });
  });
  afterAll(() => receiver.close());

  it('answers where the batch stopped: the chunk in hand is done, nothing after it, the rest given back', async () => {
    const t = await startApp({
      WORKER_IN_PROCESS: 'true',
      PROCESSOR: 'webhook',
      WEBHOOK_URL: `${receiver.url}/`,
    });
    try {
      const created = await api(t, t.keys.pro, 'POST', '/v1/batch', { fileId: await uploaded(t, t.keys.pro, 5000) });
      const id = created.body.id as string;
      await waitFor(
        () => api(t, t.keys.pro, 'GET', `/v1/batch/${id}`),
        (r) => r.body.processedCount >= 200,
      );
      // Two at once: one 202, the other 409 (already cancelled), and both once the batch has ended.
      const both = await Promise.all([1, 2].map(() => api(t, t.keys.pro, 'POST', `/v1/batch/${id}/cancel`)));
      expect(both.map((r) => r.status).sort()).toEqual([202, 409]);
      const cancelled = both.find((r) => r.status === 202)!;
      const lost = both.find((r) => r.status === 409)!;
      expect(lost.body.error).toMatchObject({ code: 'batch_finished', details: { status: 'cancelled' } });
      expect((await api(t, t.keys.pro, 'GET', `/v1/batch/${id}`)).body.completedAt).toEqual(expect.any(String));
      const stopped = cancelled.body.processedCount as number;
      expect(cancelled.body).toMatchObject({ status: 'cancelled', completedAt: expect.any(String) });
      expect(stopped).toBeGreaterThanOrEqual(200);
      expect(stopped).toBeLessThan(5000);
      await new Promise((r) => setTimeout(r, 500));
      const later = await api(t, t.keys.pro, 'GET', `/v1/batch/${id}`);
      expect(later.body).toEqual(cancelled.body);
      expect(delivered).toBe(stopped);
      const results = (await api(t, t.keys.pro, 'GET', `/v1/batch/${id}/results`)).text.trim().split('\n');
      expect(results).toHaveLength(stopped);
      // The items never processed are given back: a dry run of the same size still fits the month.
      const usage = await api(t, t.keys.pro, 'POST', '/v1/batch', { items: [{ content: 'x' }], dryRun: true });
      expect(usage.body.quota).toMatchObject({ usedThisMonth: stopped });
    } finally {
      await t.close();
    }
  });
});

describe('dry runs answer every refusal as a verdict', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it.each([
    ['the free plan', 'free', { items: [{ content: 'x' }], dryRun: true }, 402, 'quota_exceeded'],
    ['a malformed fileId', 'pro', { fileId: 'nope', dryRun: true }, 404, 'file_not_found'],
    ['an unknown fileId', 'pro', { fileId: 'f_AAAAAAAAAAAAAAAAAAAAAA', dryRun: true }, 404, 'file_not_found'],
    ['items none of which is valid', 'pro', { items: [{ content: '' }], dryRun: true }, 400, 'file_parsing_failed'],
  ])('%s', async (_label, plan, body, status, code) => {
    const key = plan === 'free' ? t.keys.free : t.keys.pro;
    const res = await api(t, key, 'POST', '/v1/batch', body);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ dryRun: true, verdict: 'refused', status, error: { code } });
  });

  it('keeps a malformed request a 400, even as a dry run', async () => {
    const res = await api(t, t.keys.pro, 'POST', '/v1/batch', { fileId: 'f_x', items: [], dryRun: true });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('validation_error');
  });

  it('refuses a chunked JSON body over the plan size with the contract sentence, and an empty Idempotency-Key', async () => {
    const items = Array.from({ length: 11_000 }, () => ({ content: 'x'.repeat(1000) }));
    const bytes = Buffer.from(JSON.stringify({ items }));
    const stream = new ReadableStream({
      start(controller) {
        for (let i = 0; i < bytes.length; i += 1 << 20) controller.enqueue(bytes.subarray(i, i + (1 << 20)));
        controller.close();
      },
    });
    const res = await fetch(`${t.url}/v1/batch`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${t.keys.pro}`, 'Content-Type': 'application/json' },
      body: stream,
      duplex: 'half',
    });
    expect(res.status).toBe(413);
    expect(((await res.json()) as any).error.message).toBe('File size exceeds maximum of 10 MB');
    const empty = await api(
      t,
      t.keys.pro,
      'POST',
      '/v1/batch',
      { items: [{ content: 'a' }] },
      { 'Idempotency-Key': ' ' },
    );
    expect(empty.status).toBe(400);
  });

  it('reports the whole error summary of direct items', async () => {
    const items = Array.from({ length: 150 }, (_, i) => (i < 120 ? { content: '' } : { content: `ok ${i}` }));
    const res = await api(t, t.keys.pro, 'POST', '/v1/batch', { items, dryRun: true });
    expect(res.body).toMatchObject({
      verdict: 'accepted',
      itemCount: 30,
      validationErrorCount: 120,
      validationErrorsTruncated: true,
      errorSummary: [{ field: 'content', code: 'required', count: 120 }],
    });
    expect(res.body.validationErrors).toHaveLength(100);
  });
});
