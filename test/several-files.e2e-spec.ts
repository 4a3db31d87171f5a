import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { api, startApp, testRedisUrl, type TestApp, upload } from './support/app';
import { plansFile } from './support/plans';
import { waitFor } from './support/wait';

/**
 * API.md "Several files" and "duplicateOf" (issue 12): several file parts in one request, each
 * answered on its own; fileIds consumed together, all or none; results traced to their file; the
 * same bytes noticed, within one organization only.
 */
jest.setTimeout(120_000);

let t: TestApp & { keys: TestApp['keys'] & { small: string } };
beforeAll(async () => {
  const tag = randomBytes(4).toString('hex');
  const keys = ['pro', 'free', 'enterprise', 'other'].map((p) => `key-${p === 'enterprise' ? 'ent' : p}-${tag}`);
  const orgs = [`pro-${tag}`, `free-${tag}`, `ent-${tag}`, `other-${tag}`];
  const plans = ['pro', 'free', 'enterprise', 'pro'];
  const small = `key-small-${tag}`;
  const app = await startApp(
    {
      WORKER_IN_PROCESS: 'true',
      PLANS_FILE: await plansFile({ small: { maxFilesPerRequest: 5, maxItemsPerBatch: 10, maxFileBytes: 2048 } }),
      API_KEYS: [...keys.map((k, i) => `${k}:${orgs[i]}:${plans[i]}`), `${small}:small-${tag}:small`].join(','),
    },
    { tag },
  );
  t = Object.assign(app, { keys: { ...app.keys, small } });
});
afterAll(() => t.close());

type Part = { name: string; body: string | Buffer; field?: string; type?: string };

async function post(key: string, parts: Part[], fields: Record<string, string> = {}, fieldsAfter = false) {
  const form = new FormData();
  if (!fieldsAfter) for (const [k, v] of Object.entries(fields)) form.append(k, v);
  for (const p of parts) form.append(p.field ?? 'file', new Blob([p.body], p.type ? { type: p.type } : {}), p.name);
  if (fieldsAfter) for (const [k, v] of Object.entries(fields)) form.append(k, v);
  const res = await fetch(`${t.url}/v1/batch/upload`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${key}` },
    body: form,
  });
  return { status: res.status, body: (await res.json()) as any };
}

const csv = (...rows: string[]) => `content,externalId\n${rows.join('\n')}\n`;
const PDF = Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n', 'latin1');

describe('several files in one request', () => {
  it('answers each of 3 files (good, bad CSV, PDF) on its own, in part order', async () => {
    const res = await post(t.keys.pro, [
      { name: 'jan/claims.csv', body: csv('a,1', ',2', 'c,3') },
      { name: 'feb.csv', body: 'content\n\n"unterminated\n', field: 'files' },
      { name: 'feb.pdf', body: PDF, field: 'file[]' },
    ]);
    expect(res.status).toBe(200);
    expect(res.body.message).toBe('3 files: 1 uploaded, 2 refused.');
    expect(res.body.files).toHaveLength(1);
    const [good] = res.body.files;
    expect(Object.keys(good).slice(0, 3)).toEqual(['index', 'path', 'fileId']);
    expect(good).toMatchObject({ index: 0, path: 'jan/claims.csv', originalFileName: 'claims.csv', itemCount: 2 });
    expect(good.validationErrors[0]).toMatchObject({ row: 3, field: 'content', code: 'required' });
    expect(res.body.errors.map((e: any) => [e.index, e.status, e.error.code])).toEqual([
      [1, 400, 'file_parsing_failed'],
      [2, 415, 'unsupported_format'],
    ]);
    expect(res.body.errors[1]).toMatchObject({ originalFileName: 'feb.pdf', path: null, validationErrors: [] });
    const seen = await api(t, t.keys.pro, 'GET', `/v1/batch/upload/${good.fileId}`);
    expect(seen.body).toMatchObject({ path: 'jan/claims.csv', status: 'available', duplicateOf: null });
  });

  it('answers the single-file body, unchanged, for one part', async () => {
    const res = await post(t.keys.pro, [{ name: 'one.csv', body: csv('x,1') }], { path: 'inbox/one.csv' });
    expect(res.status).toBe(200);
    expect(res.body.files).toBeUndefined();
    expect(res.body).toMatchObject({ originalFileName: 'one.csv', path: 'inbox/one.csv', itemCount: 1 });
    // Its path is carried to the batch (API.md, `path`), null when it had none.
    const batch = await api(t, t.keys.pro, 'POST', '/v1/batch', { fileId: res.body.fileId });
    const seen = await api(t, t.keys.pro, 'GET', `/v1/batch/${batch.body.id}`);
    expect(seen.body.source).toEqual({
      type: 'file',
      fileId: res.body.fileId,
      originalFileName: 'one.csv',
      path: 'inbox/one.csv',
    });
    const plain = await post(t.keys.pro, [{ name: 'two.csv', body: csv('y,1') }]);
    const other = await api(t, t.keys.pro, 'POST', '/v1/batch', { fileId: plain.body.fileId });
    expect((await api(t, t.keys.pro, 'GET', `/v1/batch/${other.body.id}`)).body.source.path).toBeNull();
  });

  it('applies schema, format and encoding to every file, wherever the fields stand', async () => {
    const res = await post(
      t.keys.pro,
      [
        { name: 'a.txt', body: '{"content":"a"}\n{"content":"b"}\n' },
        { name: 'b.txt', body: '{"content":"c"}\n' },
      ],
      { format: 'ndjson', schema: 'default' },
      true,
    );
    expect(res.status).toBe(200);
    expect(res.body.files.map((f: any) => [f.format, f.itemCount])).toEqual([
      ['ndjson', 2],
      ['ndjson', 1],
    ]);
  });

  it('answers 413 in errors for a part over the size, and still reads the next part', async () => {
    const small = await post(t.keys.small, [
      { name: 'big.csv', body: csv(...Array.from({ length: 400 }, (_, i) => `row ${i},${i}`)) },
      { name: 'ok.csv', body: csv('fine,1') },
    ]);
    expect(small.status).toBe(200);
    expect(small.body.errors).toEqual([
      expect.objectContaining({ index: 0, status: 413, error: expect.objectContaining({ code: 'payload_too_large' }) }),
    ]);
    expect(small.body.files[0]).toMatchObject({ index: 1, originalFileName: 'ok.csv' });
  });

  it('answers every refusal with the first one’s status and envelope, details.files listing them', async () => {
    const res = await post(t.keys.pro, [
      { name: 'x.pdf', body: PDF },
      { name: 'y.csv', body: 'content\n\n' },
    ]);
    expect(res.status).toBe(415);
    expect(res.body.error.code).toBe('unsupported_format');
    expect(res.body.error.details.files.map((f: any) => f.status)).toEqual([415, 400]);
  });

  it('refuses more files than maxFilesPerRequest with 400', async () => {
    const parts = Array.from({ length: 20 }, (_, i) => ({ name: `f${i}.csv`, body: csv(`r${i},1`) }));
    const res = await post(t.keys.small, parts);
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({
      code: 'validation_error',
      details: { limit: 'maxFilesPerRequest', max: 5 },
    });
  });

  it.each([
    ['../up.csv'],
    ['/abs.csv'],
    ['a\\b.csv'],
    ['a//b.csv'],
    ['a/./b.csv'],
    ['a/\u0001/b.csv'],
    [`${'d/'.repeat(300)}x.csv`],
  ])('refuses the bad path %j with 400 naming path', async (name) => {
    const one = await post(t.keys.pro, [{ name: 'ok.csv', body: csv('a,1') }], { path: name });
    expect(one.status).toBe(400);
    expect(one.body.error).toMatchObject({ code: 'validation_error', details: { field: 'path' } });
    const several = await post(t.keys.pro, [
      { name, body: csv('a,1') },
      { name: 'ok.csv', body: csv('b,1') },
    ]);
    if ([...name].some((c) => c.charCodeAt(0) < 0x20)) {
      // A control character in a part header breaks the multipart body itself: the whole request is 400.
      expect(several.status).toBe(400);
      return;
    }
    expect(several.status).toBe(200);
    expect(several.body.errors[0]).toMatchObject({ index: 0, status: 400, error: { code: 'validation_error' } });
  });
});

describe('several files in one batch', () => {
  const up = async (key: string, body: string, name = 'f.csv') => (await upload(t, key, body, { name })).body;

  it('consumes every listed upload, processes them file by file, and traces each result to its file', async () => {
    const a = await up(t.keys.pro, csv('a1,1', 'a2,2'), 'jan/a.csv');
    const b = await up(t.keys.pro, csv('b1,1'), 'b.csv');
    const created = await api(t, t.keys.pro, 'POST', '/v1/batch', { fileIds: [b.fileId, a.fileId], name: 'two' });
    expect(created.status).toBe(202);
    expect(created.body).toMatchObject({ itemCount: 3, fileIds: [b.fileId, a.fileId] });
    expect(created.body.fileId).toBeUndefined();
    const done = await waitFor(
      () => api(t, t.keys.pro, 'GET', `/v1/batch/${created.body.id}`).then((r) => r.body),
      (x) => x.status === 'completed',
    );
    expect(done.source).toEqual({
      type: 'files',
      files: [
        { fileId: b.fileId, originalFileName: 'b.csv', path: null, itemCount: 1 },
        { fileId: a.fileId, originalFileName: 'a.csv', path: 'jan/a.csv', itemCount: 2 },
      ],
    });
    const lines = (await api(t, t.keys.pro, 'GET', `/v1/batch/${created.body.id}/results`)).text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.fileId, l.path, l.row])).toEqual([
      [b.fileId, undefined, 2],
      [a.fileId, 'jan/a.csv', 2],
      [a.fileId, 'jan/a.csv', 3],
    ]);
    expect(Object.keys(lines[1])).toEqual(['fileId', 'path', 'row', 'status', 'output']);
  });

  it('refuses with the first listed failure and consumes nothing', async () => {
    const a = await up(t.keys.pro, csv('a,1'));
    const b = await up(t.keys.pro, csv('b,1'));
    const used = await api(t, t.keys.pro, 'POST', '/v1/batch', { fileId: b.fileId });
    const conflict = await api(t, t.keys.pro, 'POST', '/v1/batch', { fileIds: [a.fileId, b.fileId] });
    expect(conflict.status).toBe(409);
    expect(conflict.body.error).toMatchObject({
      code: 'file_already_consumed',
      details: { fileId: b.fileId, batchId: used.body.id },
    });
    const unknown = await api(t, t.keys.pro, 'POST', '/v1/batch', { fileIds: [a.fileId, 'f_AAAAAAAAAAAAAAAAAAAAAA'] });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.details.fileId).toBe('f_AAAAAAAAAAAAAAAAAAAAAA');
    // An id that cannot be one fails too, but only where it is listed.
    for (const [fileIds, status, failing] of [
      [[b.fileId, 'f_nope'], 409, b.fileId],
      [['f_AAAAAAAAAAAAAAAAAAAAAA', 'f_nope'], 404, 'f_AAAAAAAAAAAAAAAAAAAAAA'],
      [[a.fileId, 'f_nope', b.fileId], 404, 'f_nope'],
    ] as const) {
      for (const dryRun of [false, true]) {
        const res = await api(t, t.keys.pro, 'POST', '/v1/batch', { fileIds, dryRun });
        expect([dryRun ? res.body.status : res.status, res.body.error.details.fileId]).toEqual([status, failing]);
      }
    }
    expect((await api(t, t.keys.pro, 'GET', `/v1/batch/upload/${a.fileId}`)).body.status).toBe('available');
    for (const body of [
      { fileIds: [] },
      { fileIds: [a.fileId, a.fileId] },
      { fileIds: 'x' },
      { fileId: a.fileId, fileIds: [a.fileId] },
    ]) {
      expect((await api(t, t.keys.pro, 'POST', '/v1/batch', body)).status).toBe(400);
    }
  });

  it('applies the plan limits to the sum, leaving every file available on a refusal; dry run says so', async () => {
    const files = [
      await up(t.keys.small, csv('1,1', '2,2', '3,3', '4,4', '5,5', '6,6')),
      await up(t.keys.small, csv('7,7', '8,8', '9,9', '10,10', '11,11')),
    ];
    const fileIds = files.map((f) => f.fileId);
    const dry = await api(t, t.keys.small, 'POST', '/v1/batch', { fileIds, dryRun: true });
    expect(dry.body).toMatchObject({ verdict: 'refused', status: 402, itemCount: 11, fileIds });
    const refused = await api(t, t.keys.small, 'POST', '/v1/batch', { fileIds });
    expect(refused.status).toBe(402);
    expect(refused.body.error.details).toMatchObject({ limit: 'maxItemsPerBatch', max: 10, requested: 11 });
    for (const f of fileIds)
      expect((await api(t, t.keys.small, 'GET', `/v1/batch/upload/${f}`)).body.status).toBe('available');
  });

  it('ends each file of overlapping sets in exactly one batch under a 50-way race', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push((await up(t.keys.enterprise, csv(`r${i},1`))).fileId);
    const sets = Array.from({ length: 50 }, (_, i) => [ids[i % 6], ids[(i + 1) % 6], ids[(i + 3) % 6]]);
    const answers = await Promise.all(
      sets.map((fileIds) => api(t, t.keys.enterprise, 'POST', '/v1/batch', { fileIds })),
    );
    const won = answers.flatMap((r, i) => (r.status === 202 ? sets[i] : []));
    expect(answers.every((r) => r.status === 202 || r.status === 409)).toBe(true);
    expect(new Set(won).size).toBe(won.length);
    for (const id of ids) {
      const seen = (await api(t, t.keys.enterprise, 'GET', `/v1/batch/upload/${id}`)).body;
      if (won.includes(id)) expect(seen.status).toBe('consumed');
    }
  });

  it('replays an Idempotency-Key with fileIds', async () => {
    const a = await up(t.keys.pro, csv('i,1'));
    const headers = { 'Idempotency-Key': `files-${a.fileId}` };
    const first = await api(t, t.keys.pro, 'POST', '/v1/batch', { fileIds: [a.fileId] }, headers);
    const again = await api(t, t.keys.pro, 'POST', '/v1/batch', { fileIds: [a.fileId] }, headers);
    expect([first.status, again.status]).toEqual([202, 202]);
    expect(again.body.id).toBe(first.body.id);
  });
});

describe('duplicateOf', () => {
  it('names the earlier upload of the same bytes and schema, within one organization only', async () => {
    const body = csv(`same ${Date.now()},1`);
    const first = (await upload(t, t.keys.pro, body)).body;
    expect(first.duplicateOf).toBeNull();
    const second = (await upload(t, t.keys.pro, body)).body;
    expect(second.duplicateOf).toEqual({ fileId: first.fileId, status: 'available', createdAt: expect.any(String) });
    expect(second.message).toBe('File uploaded successfully');
    const elsewhere = (await upload(t, t.keys.other, body)).body;
    expect(elsewhere.duplicateOf).toBeNull();
    const batch = await api(t, t.keys.pro, 'POST', '/v1/batch', { fileId: second.fileId });
    const third = (await upload(t, t.keys.pro, body)).body;
    expect(third.duplicateOf).toMatchObject({ fileId: second.fileId, status: 'consumed', batchId: batch.body.id });
    expect((await api(t, t.keys.pro, 'GET', `/v1/batch/upload/${third.fileId}`)).body.duplicateOf.fileId).toBe(
      second.fileId,
    );
    const otherSchema = (await upload(t, t.keys.pro, body, { fields: { format: 'csv' } })).body;
    expect(otherSchema.duplicateOf.fileId).toBe(third.fileId); // same schema: the latest one
  });

  it('GET tells where the earlier upload stands now: consumed since, or discarded (then the one before)', async () => {
    const body = csv(`since ${Date.now()},1`);
    const first = (await upload(t, t.keys.pro, body)).body;
    const second = (await upload(t, t.keys.pro, body)).body;
    const third = (await upload(t, t.keys.pro, body)).body;
    const view = async (fileId: string) => (await api(t, t.keys.pro, 'GET', `/v1/batch/upload/${fileId}`)).body;
    expect((await view(third.fileId)).duplicateOf).toMatchObject({ fileId: second.fileId, status: 'available' });
    const batch = await api(t, t.keys.pro, 'POST', '/v1/batch', { fileId: second.fileId });
    expect((await view(third.fileId)).duplicateOf).toEqual({
      fileId: second.fileId,
      status: 'consumed',
      batchId: batch.body.id,
      createdAt: expect.any(String),
    });
    // The consumed upload itself: its earlier one, never itself or a later one.
    expect((await view(second.fileId)).duplicateOf).toMatchObject({ fileId: first.fileId, status: 'available' });
    expect((await view(first.fileId)).duplicateOf).toBeNull();
    expect((await api(t, t.keys.pro, 'DELETE', `/v1/batch/upload/${first.fileId}`)).status).toBe(204);
    expect((await view(second.fileId)).duplicateOf).toBeNull();
  });
});

describe('a worker SIGKILLed mid-way through the second file', () => {
  let receiver: Server;
  let worker: ChildProcess | undefined;
  let app: TestApp;
  const delivered = new Map<string, number>();

  beforeAll(async () => {
    app = await startApp();
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString()) as { items: { row: number; fileId: string }[] };
        for (const { row, fileId } of body.items)
          delivered.set(`${fileId}:${row}`, (delivered.get(`${fileId}:${row}`) ?? 0) + 1);
        setTimeout(() => res.writeHead(204).end(), 15);
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  });
  afterAll(async () => {
    worker?.kill('SIGKILL');
    await new Promise((r) => receiver.close(r));
    await app.close();
  });

  const startWorker = () =>
    spawn(process.execPath, [join(__dirname, '..', 'dist', 'worker.js')], {
      env: {
        PATH: process.env.PATH,
        REDIS_URL: testRedisUrl(),
        STORAGE_DIR: app.storageDir,
        PROCESSOR: 'webhook',
        WEBHOOK_URL: `http://127.0.0.1:${(receiver.address() as { port: number }).port}/`,
        WORKER_LOCK_MS: '2000',
        API_KEYS: 'unused-key-123:unused:pro',
        QUEUE_PREFIX: app.config.queuePrefix,
      },
      stdio: 'ignore',
    });

  it('resumes in the second file, and every row of both files is in the results once', async () => {
    const rows = (n: number, tag: string) => csv(...Array.from({ length: n }, (_, i) => `${tag}${i},${i}`));
    const a = (await upload(app, app.keys.enterprise, rows(3000, 'a'), { name: 'a.csv' })).body;
    const b = (await upload(app, app.keys.enterprise, rows(6000, 'b'), { name: 'b.csv' })).body;
    const created = await api(app, app.keys.enterprise, 'POST', '/v1/batch', { fileIds: [a.fileId, b.fileId] });
    const progress = () => api(app, app.keys.enterprise, 'GET', `/v1/batch/${created.body.id}`).then((r) => r.body);
    worker = startWorker();
    await waitFor(progress, (p) => p.processedCount >= 4000, 60_000, 20);
    worker.kill('SIGKILL');
    await once(worker, 'exit');
    expect((await progress()).processedCount).toBeLessThan(9000);
    worker = startWorker();
    const done = await waitFor(progress, (p) => p.status === 'completed', 90_000, 100);
    expect(done).toMatchObject({ processedCount: 9000, succeededCount: 9000 });
    const lines = (await api(app, app.keys.enterprise, 'GET', `/v1/batch/${created.body.id}/results`)).text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { fileId: string; row: number });
    const expected = [
      ...Array.from({ length: 3000 }, (_, i) => `${a.fileId}:${i + 2}`),
      ...Array.from({ length: 6000 }, (_, i) => `${b.fileId}:${i + 2}`),
    ];
    expect(lines.map((l) => `${l.fileId}:${l.row}`)).toEqual(expected);
    expect(delivered.size).toBe(9000);
  });
});
