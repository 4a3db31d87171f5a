import { once } from 'node:events';
import { type IncomingMessage, request as httpRequest } from 'node:http';
import { type TestApp, api, startApp, testRedisUrl, upload } from './support/app';
import { Fleet } from './support/fleet';
import {
  completeSession,
  csvOf,
  partBytes,
  putPart,
  sendParts,
  sha256,
  startSession,
  storedFiles,
} from './support/sessions';
import { listStore, s3Env, testS3 } from './support/s3';
import { waitFor } from './support/wait';

jest.setTimeout(120_000);

const MiB = 1024 * 1024;

/** What differs between two uploads of the same bytes: their ids, times and the duplicate note. */
const comparable = (body: Record<string, unknown>) => {
  const { fileId: _f, expiresAt: _e, duplicateOf: _d, ...rest } = body;
  return rest;
};

describe('upload sessions, local driver (API.md "Upload sessions")', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startApp({ WORKER_IN_PROCESS: 'true', SWEEP_INTERVAL_SECONDS: '1' });
  });
  afterAll(() => t.close());

  it('one PUT: created with an absolute signed URL, received, completed, and the result is the direct upload body', async () => {
    const bytes = csvOf(500, 50);
    const s = await startSession(t, t.keys.pro, bytes, { path: 'claims/jan.csv' });
    expect(s).toMatchObject({
      status: 'pending',
      method: 'put',
      partCount: 1,
      partSize: bytes.length,
      path: 'claims/jan.csv',
    });
    expect(s.uploadId).toMatch(/^u_[A-Za-z0-9_-]{22}$/);
    expect(s.parts[0]).toMatchObject({ partNumber: 1, method: 'PUT', sizeBytes: bytes.length });
    expect(s.parts[0].headers).toEqual({ 'Content-Length': String(bytes.length) });
    expect(s.parts[0].url.startsWith(`${t.url}/v1/uploads/${s.uploadId}/parts/1?`)).toBe(true);
    expect(Date.parse(s.urlsExpireAt)).toBeLessThanOrEqual(Date.parse(s.expiresAt as string));

    const before = await api(t, t.keys.pro, 'GET', `/v1/uploads/${s.uploadId}`);
    expect(before.body).toMatchObject({
      status: 'pending',
      receivedParts: [],
      progress: null,
      fileId: null,
      result: null,
    });

    const put = await putPart(s.parts[0], bytes);
    expect(put.status).toBe(200);
    expect(put.headers.get('etag')).toMatch(/^"[0-9a-f]{32}"$/);
    const mid = await api(t, t.keys.pro, 'GET', `/v1/uploads/${s.uploadId}`);
    expect(mid.body.receivedParts).toEqual([{ partNumber: 1, sizeBytes: bytes.length }]);

    const done = await completeSession(t, t.keys.pro, s.uploadId);
    expect(done.status).toBe(200);
    expect(done.headers.get('preference-applied')).toBe('wait=30');
    expect(done.body).toMatchObject({ status: 'ready', error: null });
    expect(done.body.fileId).toMatch(/^f_/);
    expect(done.body.progress).toEqual({
      bytesRead: bytes.length,
      rowsRead: 500,
      itemCount: 490,
      validationErrorCount: 10,
    });

    const direct = await upload(t, t.keys.pro, bytes, { fields: { path: 'claims/jan.csv' } });
    expect(direct.status).toBe(200);
    expect(comparable(done.body.result)).toEqual(comparable(direct.body));
    expect(done.body.result.fileId).toBe(done.body.fileId);
    // The direct upload of the same bytes afterwards names the session's upload as its earlier copy.
    expect(direct.body.duplicateOf).toMatchObject({ fileId: done.body.fileId, status: 'available' });

    // The fileId works like any other: a batch consumes it.
    const batch = await api(t, t.keys.pro, 'POST', '/v1/batch', { fileId: done.body.fileId });
    expect(batch.status).toBe(202);
    // Raw parts are gone once validated: only what batchgate wrote is left.
    expect((await storedFiles(t.storageDir)).filter((f) => f.includes('/sessions/'))).toEqual([]);
  });

  it('multipart: 16 MiB parts sent in parallel, one sent twice (the second replaces the first), then complete', async () => {
    const bytes = csvOf(40_000, 0, 480); // ~20 MiB
    expect(bytes.length).toBeGreaterThan(16 * MiB);
    const s = await startSession(t, t.keys.enterprise, bytes, { sha256: sha256(bytes) });
    expect(s).toMatchObject({ method: 'multipart', partSize: 16 * MiB, partCount: 2 });
    expect(s.parts.map((p) => p.sizeBytes)).toEqual([16 * MiB, bytes.length - 16 * MiB]);
    // Part 2 first with the wrong bytes of the right size, then again with the right ones.
    const wrong = Buffer.alloc(s.parts[1].sizeBytes, 0x41);
    expect((await putPart(s.parts[1], wrong)).status).toBe(200);
    await sendParts(s, bytes, 2);
    const done = await completeSession(t, t.keys.enterprise, s.uploadId, 60);
    expect(done.status).toBe(200);
    expect(done.body.status).toBe('ready');
    expect(done.body.result).toMatchObject({
      itemCount: 40_000,
      validationErrorCount: 0,
      sha256: sha256(bytes),
      sizeBytes: bytes.length,
    });
    expect(done.body.progress.bytesRead).toBe(bytes.length);
    expect(done.body.receivedParts).toEqual(s.parts.map((p) => ({ partNumber: p.partNumber, sizeBytes: p.sizeBytes })));
  });

  it('complete with a part missing: 409 upload_incomplete naming it, and the session stays pending', async () => {
    const bytes = csvOf(40_000, 0, 480);
    const s = await startSession(t, t.keys.enterprise, bytes);
    await sendParts(s, bytes, 1, [1]);
    const res = await completeSession(t, t.keys.enterprise, s.uploadId, 0);
    expect(res.status).toBe(409);
    expect(res.body.error).toMatchObject({ code: 'upload_incomplete', details: { missingParts: [2] } });
    const get = await api(t, t.keys.enterprise, 'GET', `/v1/uploads/${s.uploadId}`);
    expect(get.body.status).toBe('pending');
    expect(get.body.receivedParts).toEqual([{ partNumber: 1, sizeBytes: 16 * MiB }]);
    // Fresh URLs for what is missing, then the rest, then complete works.
    const fresh = await api(t, t.keys.enterprise, 'POST', `/v1/uploads/${s.uploadId}/parts`, {});
    expect(fresh.status).toBe(200);
    expect(fresh.body.parts.map((p: { partNumber: number }) => p.partNumber)).toEqual([2]);
    expect((await putPart(fresh.body.parts[0], partBytes(s, bytes, 2))).status).toBe(200);
    const done = await completeSession(t, t.keys.enterprise, s.uploadId, 60);
    expect(done.body.status).toBe('ready');
  });

  it('a part body of another size is refused (400 size_mismatch) and nothing is kept', async () => {
    const bytes = csvOf(100);
    const s = await startSession(t, t.keys.pro, bytes);
    const short = await putPart(s.parts[0], bytes.subarray(0, bytes.length - 1));
    expect(short.status).toBe(400);
    expect(short.body.error).toMatchObject({
      code: 'size_mismatch',
      details: { declared: bytes.length, actual: bytes.length - 1 },
    });
    const long = await putPart(s.parts[0], Buffer.concat([bytes, Buffer.from('x')]));
    expect(long.status).toBe(400);
    expect(long.body.error.code).toBe('size_mismatch');
    // A chunked body (no Content-Length) that runs past the size is cut off at the size.
    const chunked = await fetch(s.parts[0].url, {
      method: 'PUT',
      body: new Blob([bytes, Buffer.from('more')]).stream(),
      duplex: 'half',
    });
    expect(chunked.status).toBe(400);
    expect(((await chunked.json()) as any).error.code).toBe('size_mismatch');
    const get = await api(t, t.keys.pro, 'GET', `/v1/uploads/${s.uploadId}`);
    expect(get.body.receivedParts).toEqual([]);
    expect((await storedFiles(t.storageDir)).filter((f) => f.includes(s.uploadId))).toEqual([]);
  });

  it('tampered, expired and another part’s signatures: 403 signature_invalid, with no API key needed for a good one', async () => {
    const bytes = csvOf(40_000, 0, 480);
    const s = await startSession(t, t.keys.enterprise, bytes);
    const url = new URL(s.parts[0].url);
    const sig = url.searchParams.get('signature')!;
    const tampered = new URL(url);
    tampered.searchParams.set('signature', (sig[0] === 'A' ? 'B' : 'A') + sig.slice(1));
    const later = new URL(url);
    later.searchParams.set('expires', String(Number(url.searchParams.get('expires')) + 3600));
    const otherPart = new URL(s.parts[1].url);
    otherPart.searchParams.set('signature', sig);
    const otherOrg = new URL(url);
    otherOrg.searchParams.set('org', t.orgs.pro);
    for (const u of [tampered, later, otherPart, otherOrg]) {
      const res = await putPart({ ...s.parts[0], url: u.toString() }, partBytes(s, bytes, 1));
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe('signature_invalid');
    }
  });

  it("part URLs: the request's scheme (X-Forwarded-Proto behind a balancer) and Host, or PUBLIC_URL", async () => {
    const files = [{ filename: 'a.csv', sizeBytes: 10 }];
    const proxied = await api(t, t.keys.pro, 'POST', '/v1/uploads', { files }, { 'X-Forwarded-Proto': 'https' });
    expect(proxied.body.data[0].parts[0].url).toMatch(new RegExp(`^https://${new URL(t.url).host}/v1/uploads/u_`));
    const spoof = await api(t, t.keys.pro, 'POST', '/v1/uploads', { files }, { 'X-Forwarded-Proto': 'gopher' });
    expect(spoof.body.data[0].parts[0].url.startsWith(`${t.url}/v1/uploads/`)).toBe(true);
    const pub = await startApp({ PUBLIC_URL: 'https://uploads.example.com/batchgate/' });
    try {
      const res = await api(pub, pub.keys.pro, 'POST', '/v1/uploads', { files }, { 'X-Forwarded-Proto': 'http' });
      expect(res.body.data[0].parts[0].url).toMatch(/^https:\/\/uploads\.example\.com\/batchgate\/v1\/uploads\/u_/);
    } finally {
      await pub.close();
    }
  });

  it('a PUT still arriving when the session is completed or deleted is told so (409, 404), not 503', async () => {
    /** A PUT of the part that sends half its bytes, then the rest once `meanwhile` is done. */
    const slowPut = async (url: string, bytes: Buffer, meanwhile: () => Promise<unknown>) => {
      const half = Math.floor(bytes.length / 2);
      const req = httpRequest(url, { method: 'PUT', headers: { 'Content-Length': String(bytes.length) } });
      const answered = once(req, 'response') as Promise<[IncomingMessage]>;
      req.write(bytes.subarray(0, half));
      await new Promise((r) => setTimeout(r, 200));
      await meanwhile();
      req.end(bytes.subarray(half));
      const [res] = await answered;
      let text = '';
      for await (const c of res) text += (c as Buffer).toString();
      return { status: res.statusCode, body: JSON.parse(text) };
    };
    const bytes = csvOf(2000);
    for (const [then, status, code] of [
      [(id: string) => completeSession(t, t.keys.pro, id), 409, 'upload_state'],
      [(id: string) => api(t, t.keys.pro, 'DELETE', `/v1/uploads/${id}`), 404, 'upload_not_found'],
    ] as const) {
      const s = await startSession(t, t.keys.pro, bytes);
      expect((await putPart(s.parts[0], bytes)).status).toBe(200);
      const late = await slowPut(s.parts[0].url, bytes, () => then(s.uploadId));
      // Stored after all (the session had not deleted its parts yet): a 200 is true too; a 503 never is.
      expect([[409, 404, 200].includes(late.status!), late.status === 200 || late.body.error.code === code]).toEqual([
        true,
        true,
      ]);
      if (late.status !== 200) expect(late.status).toBe(status);
    }
  });

  it('an expired part URL is refused (403) and new ones can be asked for', async () => {
    // 3 s: a URL holds 2-3 s (whole seconds), room for one POST and one PUT on a loaded CI machine.
    const short = await startApp({ WORKER_IN_PROCESS: 'true', UPLOAD_URL_TTL_SECONDS: '3' });
    try {
      const bytes = csvOf(10);
      const s = await startSession(short, short.keys.pro, bytes);
      // The URL stops working at urlsExpireAt, not before.
      expect(Number(new URL(s.parts[0].url).searchParams.get('expires')) * 1000).toBe(Date.parse(s.urlsExpireAt));
      await new Promise((r) => setTimeout(r, 3100));
      const res = await putPart(s.parts[0], bytes);
      expect(res.status).toBe(403);
      expect(res.body.error).toMatchObject({ code: 'signature_invalid' });
      expect(res.body.error.message).toMatch(/expired/);
      const fresh = await api(short, short.keys.pro, 'POST', `/v1/uploads/${s.uploadId}/parts`, { partNumbers: [1] });
      expect(fresh.status).toBe(200);
      expect((await putPart(fresh.body.parts[0], bytes)).status).toBe(200);
    } finally {
      await short.close();
    }
  });

  it('checks before signing: free plan 402, declared size over the plan 413, bad fields 400, per-file errors', async () => {
    const free = await api(t, t.keys.free, 'POST', '/v1/uploads', { files: [{ filename: 'a.csv', sizeBytes: 10 }] });
    expect(free.status).toBe(402);
    expect(free.body.error.code).toBe('quota_exceeded');

    const big = await api(t, t.keys.pro, 'POST', '/v1/uploads', {
      files: [{ filename: 'a.csv', sizeBytes: 10 * MiB + 1 }],
    });
    expect(big.status).toBe(413);
    expect(big.body.error).toMatchObject({ code: 'payload_too_large', message: 'File size exceeds maximum of 10 MB' });
    expect(big.body.error.details.files).toHaveLength(1);

    const mixed = await api(t, t.keys.pro, 'POST', '/v1/uploads', {
      files: [
        { filename: 'ok.csv', sizeBytes: 100 },
        { filename: 'big.csv', sizeBytes: 11 * MiB },
        { filename: 'bad.csv', sizeBytes: 100, path: '../x' },
        { filename: 'bad.csv', sizeBytes: 100, schema: 'nope' },
      ],
    });
    expect(mixed.status).toBe(201);
    expect(mixed.body.data).toHaveLength(1);
    expect(mixed.body.data[0].index).toBe(0);
    expect(mixed.body.errors.map((e: any) => [e.index, e.status, e.error.code])).toEqual([
      [1, 413, 'payload_too_large'],
      [2, 400, 'validation_error'],
      [3, 400, 'validation_error'],
    ]);
    expect(mixed.body.errors[0].filename).toBe('big.csv');

    for (const body of [
      {},
      { files: [] },
      { files: 'x' },
      { files: [{ filename: 'a.csv' }] },
      { files: [{ filename: '', sizeBytes: 1 }] },
      { files: [{ filename: 'a.csv', sizeBytes: 1.5 }] },
      { files: [{ filename: 'a.csv', sizeBytes: 1, sha256: 'abc' }] },
      { files: [{ filename: 'a.csv', sizeBytes: 1, format: 'xml' }] },
      { files: Array.from({ length: 21 }, () => ({ filename: 'a.csv', sizeBytes: 1 })) },
    ]) {
      const res = await api(t, t.keys.pro, 'POST', '/v1/uploads', body);
      expect([res.status, res.body.error.code]).toEqual([400, 'validation_error']);
    }
    const notJson = await api(t, t.keys.pro, 'POST', '/v1/uploads', '{"files": [', {});
    expect(notJson.status).toBe(400);
  });

  it("another organization's session answers 404 on every route, and unknown ids too", async () => {
    const bytes = csvOf(10);
    const s = await startSession(t, t.keys.pro, bytes);
    for (const [method, path, body] of [
      ['GET', `/v1/uploads/${s.uploadId}`, undefined],
      ['POST', `/v1/uploads/${s.uploadId}/parts`, {}],
      ['POST', `/v1/uploads/${s.uploadId}/complete`, undefined],
      ['DELETE', `/v1/uploads/${s.uploadId}`, undefined],
      ['GET', '/v1/uploads/u_doesnotexistdoesnotexist', undefined],
      ['GET', '/v1/uploads/nonsense', undefined],
    ] as const) {
      const res = await api(t, t.keys.other, method, path, body);
      expect([method, path, res.status, res.body.error.code]).toEqual([method, path, 404, 'upload_not_found']);
    }
    expect((await api(t, t.keys.pro, 'GET', `/v1/uploads/${s.uploadId}`)).status).toBe(200);
  });

  it('a declared sha256 that does not match: failed with checksum_mismatch, its bytes deleted', async () => {
    const bytes = csvOf(100);
    const s = await startSession(t, t.keys.pro, bytes, { sha256: 'a'.repeat(64) });
    await sendParts(s, bytes);
    const done = await completeSession(t, t.keys.pro, s.uploadId);
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({
      status: 'failed',
      fileId: null,
      result: null,
      error: {
        status: 400,
        error: { code: 'checksum_mismatch', details: { declared: 'a'.repeat(64), actual: sha256(bytes) } },
      },
    });
    expect((await storedFiles(t.storageDir)).filter((f) => f.includes(s.uploadId))).toEqual([]);
  });

  it('a file with no valid row fails as the direct upload would (400 file_parsing_failed with its row errors)', async () => {
    const bytes = Buffer.from('externalId,content\n1,\n2,\n');
    const s = await startSession(t, t.keys.pro, bytes);
    await sendParts(s, bytes);
    const done = await completeSession(t, t.keys.pro, s.uploadId);
    const direct = await upload(t, t.keys.pro, bytes);
    expect(direct.status).toBe(400);
    expect(done.body.status).toBe('failed');
    expect(done.body.error).toEqual({
      status: 400,
      error: { code: direct.body.error.code, message: direct.body.error.message },
      validationErrors: direct.body.validationErrors,
    });
  });

  it('complete without waiting answers 202 validating, and again: the current state', async () => {
    const bytes = csvOf(200_000, 0, 20); // ~6 MB: validation takes a moment
    const s = await startSession(t, t.keys.pro, bytes);
    await sendParts(s, bytes);
    const first = await completeSession(t, t.keys.pro, s.uploadId, 0);
    expect(first.status).toBe(202);
    expect(first.body.status).toBe('validating');
    expect(first.body.progress).toEqual(expect.objectContaining({ bytesRead: expect.any(Number) }));
    const again = await completeSession(t, t.keys.pro, s.uploadId, 0);
    expect([202, 200]).toContain(again.status);
    const end = await waitFor(
      () => api(t, t.keys.pro, 'GET', `/v1/uploads/${s.uploadId}`),
      (r) => r.body.status !== 'validating',
      60_000,
      200,
    );
    expect(end.body.status).toBe('ready');
    expect(end.body.result.itemCount).toBe(200_000);
    expect((await completeSession(t, t.keys.pro, s.uploadId, 0)).status).toBe(200);
    expect((await api(t, t.keys.pro, 'POST', `/v1/uploads/${s.uploadId}/parts`, {})).body.error).toMatchObject({
      code: 'upload_state',
      details: { status: 'ready' },
    });
  });

  it('DELETE in each state: pending, validating, failed, ready, ready and consumed', async () => {
    const bytes = csvOf(100);
    // pending, with a part received: 204, then 404, and the part is gone.
    const pending = await startSession(t, t.keys.pro, bytes);
    await sendParts(pending, bytes);
    expect((await api(t, t.keys.pro, 'DELETE', `/v1/uploads/${pending.uploadId}`)).status).toBe(204);
    expect((await api(t, t.keys.pro, 'GET', `/v1/uploads/${pending.uploadId}`)).status).toBe(404);
    expect((await api(t, t.keys.pro, 'DELETE', `/v1/uploads/${pending.uploadId}`)).status).toBe(404);
    expect((await putPart(pending.parts[0], bytes)).status).toBe(404);

    // validating: stops, and nothing it wrote is left.
    const large = csvOf(300_000, 0, 20);
    const ent = t.keys.enterprise;
    const validating = await startSession(t, ent, large);
    await sendParts(validating, large);
    expect((await completeSession(t, ent, validating.uploadId, 0)).status).toBe(202);
    await waitFor(
      () => api(t, ent, 'GET', `/v1/uploads/${validating.uploadId}`),
      (r) => (r.body.progress?.rowsRead ?? 0) > 0,
      30_000,
      20,
    );
    expect((await api(t, ent, 'DELETE', `/v1/uploads/${validating.uploadId}`)).status).toBe(204);
    expect((await api(t, ent, 'GET', `/v1/uploads/${validating.uploadId}`)).status).toBe(404);

    // failed.
    const failed = await startSession(t, t.keys.pro, bytes, { sha256: 'b'.repeat(64) });
    await sendParts(failed, bytes);
    expect((await completeSession(t, t.keys.pro, failed.uploadId)).body.status).toBe('failed');
    expect((await api(t, t.keys.pro, 'DELETE', `/v1/uploads/${failed.uploadId}`)).status).toBe(204);

    // ready: as a discard of its fileId.
    const ready = await startSession(t, t.keys.pro, bytes);
    await sendParts(ready, bytes);
    const fileId = (await completeSession(t, t.keys.pro, ready.uploadId)).body.fileId;
    expect((await api(t, t.keys.pro, 'DELETE', `/v1/uploads/${ready.uploadId}`)).status).toBe(204);
    expect((await api(t, t.keys.pro, 'GET', `/v1/batch/upload/${fileId}`)).status).toBe(404);

    // ready and consumed: 409, and the session stays ready.
    const used = await startSession(t, t.keys.pro, bytes);
    await sendParts(used, bytes);
    const usedId = (await completeSession(t, t.keys.pro, used.uploadId)).body.fileId;
    const batch = await api(t, t.keys.pro, 'POST', '/v1/batch', { fileId: usedId });
    const refused = await api(t, t.keys.pro, 'DELETE', `/v1/uploads/${used.uploadId}`);
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({ code: 'file_already_consumed', details: { batchId: batch.body.id } });
    expect((await api(t, t.keys.pro, 'GET', `/v1/uploads/${used.uploadId}`)).body.status).toBe('ready');

    // Nothing of the cancelled or failed sessions is left in storage (the validating one's run may
    // still be winding down: the sweep, every second here, takes what it leaves).
    const gone = [pending.uploadId, validating.uploadId, failed.uploadId, ready.uploadId];
    await waitFor(
      () => storedFiles(t.storageDir),
      (files) => files.every((f) => !gone.some((id) => f.includes(id))) && !files.some((f) => f.includes(fileId)),
      15_000,
      200,
    );
  });

  it('several files in one request: one session each, in order', async () => {
    const a = csvOf(10);
    const b = csvOf(20);
    const res = await api(t, t.keys.pro, 'POST', '/v1/uploads', {
      files: [
        { filename: 'jan/a.csv', sizeBytes: a.length },
        { filename: 'b.ndjson', sizeBytes: b.length, format: 'csv', path: 'feb/b' },
      ],
    });
    expect(res.status).toBe(201);
    expect(res.body.errors).toEqual([]);
    expect(res.body.data.map((d: any) => [d.index, d.filename, d.path])).toEqual([
      [0, 'jan/a.csv', 'jan/a.csv'],
      [1, 'b.ndjson', 'feb/b'],
    ]);
    await sendParts(res.body.data[0], a);
    await sendParts(res.body.data[1], b);
    const ra = await completeSession(t, t.keys.pro, res.body.data[0].uploadId);
    const rb = await completeSession(t, t.keys.pro, res.body.data[1].uploadId);
    expect(ra.body.result).toMatchObject({ itemCount: 10, originalFileName: 'a.csv', path: 'jan/a.csv' });
    expect(rb.body.result).toMatchObject({ itemCount: 20, format: 'csv', path: 'feb/b' });
  });
});

describe('upload sessions: expiry and the none driver', () => {
  it('a session not completed in time answers 410 and its parts are deleted', async () => {
    const t = await startApp({
      WORKER_IN_PROCESS: 'true',
      UPLOAD_SESSION_TTL_SECONDS: '2',
      SWEEP_INTERVAL_SECONDS: '1',
    });
    try {
      const bytes = csvOf(10);
      const s = await startSession(t, t.keys.pro, bytes);
      await sendParts(s, bytes);
      expect((await storedFiles(t.storageDir)).some((f) => f.includes(s.uploadId))).toBe(true);
      await new Promise((r) => setTimeout(r, 2100));
      for (const [method, path] of [
        ['GET', `/v1/uploads/${s.uploadId}`],
        ['POST', `/v1/uploads/${s.uploadId}/complete`],
        ['DELETE', `/v1/uploads/${s.uploadId}`],
      ] as const) {
        const res = await api(t, t.keys.pro, method, path);
        expect([res.status, res.body.error.code]).toEqual([410, 'upload_expired']);
      }
      await waitFor(
        () => storedFiles(t.storageDir),
        (files) => !files.some((f) => f.includes(s.uploadId)),
        10_000,
        200,
      );
    } finally {
      await t.close();
    }
  });

  it('STORAGE_DRIVER=none: 503 as uploads answer', async () => {
    const t = await startApp({ STORAGE_DRIVER: 'none' });
    try {
      const res = await api(t, t.keys.pro, 'POST', '/v1/uploads', { files: [{ filename: 'a.csv', sizeBytes: 1 }] });
      expect(res.status).toBe(503);
      expect(res.body.error).toMatchObject({ code: 'FILE_STORAGE_UNAVAILABLE' });
      const put = await fetch(`${t.url}/v1/uploads/u_aaaaaaaaaaaaaaaaaaaaaa/parts/1?org=x&expires=1&signature=x`, {
        method: 'PUT',
        body: 'x',
      });
      expect(put.status).toBe(503);
    } finally {
      await t.close();
    }
  });
});

describe('upload sessions, s3 driver against s3rver (presigned PUT URLs)', () => {
  let t: TestApp;
  let prefix: string;

  beforeAll(async () => {
    const env = s3Env();
    prefix = env.S3_PREFIX;
    t = await startApp({ WORKER_IN_PROCESS: 'true', SWEEP_INTERVAL_SECONDS: '1', ...env });
  });
  afterAll(() => t.close());

  const sessionKeys = async (uploadId: string) => (await listStore(prefix)).filter((k) => k.includes(uploadId));

  it("single and multipart: the store's own presigned URLs, with Content-Length signed, and the same result", async () => {
    const small = csvOf(300, 30);
    const one = await startSession(t, t.keys.pro, small);
    const url = new URL(one.parts[0].url);
    expect(url.origin).toBe(new URL(testS3().endpoint).origin);
    expect(url.pathname).toBe(`/${testS3().bucket}/${prefix}${t.orgs.pro}/sessions/${one.uploadId}/part-00001`);
    expect(url.searchParams.get('X-Amz-SignedHeaders')?.split(';')).toContain('content-length');
    expect(Number(url.searchParams.get('X-Amz-Expires'))).toBeLessThanOrEqual(900);
    // Signed at X-Amz-Date, valid X-Amz-Expires seconds from it: not a second short of urlsExpireAt.
    const signedAt = Date.parse(
      url.searchParams.get('X-Amz-Date')!.replace(/^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/, '$1-$2-$3T$4:$5:$6Z'),
    );
    expect(signedAt + Number(url.searchParams.get('X-Amz-Expires')) * 1000).toBeGreaterThanOrEqual(
      Date.parse(one.urlsExpireAt),
    );
    await sendParts(one, small);
    const got = await api(t, t.keys.pro, 'GET', `/v1/uploads/${one.uploadId}`);
    expect(got.body.receivedParts).toEqual([{ partNumber: 1, sizeBytes: small.length }]);
    const done = await completeSession(t, t.keys.pro, one.uploadId);
    expect(done.body.status).toBe('ready');
    const direct = await upload(t, t.keys.pro, small);
    expect(comparable(done.body.result)).toEqual(comparable(direct.body));

    const big = csvOf(40_000, 0, 480);
    const multi = await startSession(t, t.keys.enterprise, big, { sha256: sha256(big) });
    expect(multi).toMatchObject({ method: 'multipart', partCount: 2 });
    await sendParts(multi, big, 2);
    const end = await completeSession(t, t.keys.enterprise, multi.uploadId, 60);
    expect(end.body).toMatchObject({ status: 'ready', result: { itemCount: 40_000, sha256: sha256(big) } });
    // Raw parts deleted once validated: the store holds only what batchgate wrote.
    expect(await sessionKeys(one.uploadId)).toEqual([]);
    expect(await sessionKeys(multi.uploadId)).toEqual([]);
  });

  it('stored bytes of another size than declared (a store that did not hold the signed size): failed, size_mismatch', async () => {
    const bytes = csvOf(50);
    const s = await startSession(t, t.keys.pro, bytes);
    const longer = Buffer.concat([bytes, Buffer.from('id-x,one more row\n')]);
    // s3rver checks no signature: the longer body is stored, as a lax S3-compatible store might.
    expect((await putPart(s.parts[0], longer)).status).toBe(200);
    const done = await completeSession(t, t.keys.pro, s.uploadId);
    expect(done.body).toMatchObject({
      status: 'failed',
      error: {
        status: 400,
        error: { code: 'size_mismatch', details: { declared: bytes.length, actual: longer.length } },
      },
    });
    expect(await sessionKeys(s.uploadId)).toEqual([]);
  });

  it('DELETE of a pending session removes its parts from the store', async () => {
    const bytes = csvOf(40_000, 0, 480);
    const s = await startSession(t, t.keys.enterprise, bytes);
    await sendParts(s, bytes, 2, [1]);
    expect(await sessionKeys(s.uploadId)).toHaveLength(1);
    expect((await api(t, t.keys.enterprise, 'DELETE', `/v1/uploads/${s.uploadId}`)).status).toBe(204);
    expect(await sessionKeys(s.uploadId)).toEqual([]);
    // A PUT after it (or still on its way) cannot be refused by a presigned URL: what it leaves is
    // gone at the next sweep (each second here), not when the URL expires (900 s).
    expect((await putPart(s.parts[1], partBytes(s, bytes, 2))).status).toBe(200);
    expect(await sessionKeys(s.uploadId)).toHaveLength(1);
    await waitFor(
      () => sessionKeys(s.uploadId),
      (left) => left.length === 0,
      10_000,
    );
  });

  it('S3_PUBLIC_ENDPOINT: the URLs name the endpoint clients reach', async () => {
    const pub = await startApp({ ...s3Env(prefix), S3_PUBLIC_ENDPOINT: 'https://files.example.test:9443' });
    try {
      const s = await startSession(pub, pub.keys.pro, csvOf(5));
      expect(s.parts[0].url.startsWith(`https://files.example.test:9443/${testS3().bucket}/${prefix}`)).toBe(true);
    } finally {
      await pub.close();
    }
  });
});

describe('upload sessions: a worker SIGKILLed mid-validation', () => {
  let t: TestApp;
  let fleet: Fleet;

  beforeAll(async () => {
    t = await startApp();
    fleet = new Fleet({
      REDIS_URL: testRedisUrl(),
      STORAGE_DIR: t.storageDir,
      QUEUE_PREFIX: t.config.queuePrefix,
      WORKER_LOCK_MS: '2000',
      API_KEYS: 'unused-key-123:unused:pro',
      LOG_LEVEL: 'info',
    });
  });
  afterAll(async () => {
    await fleet.stop();
    await t.close();
  });

  it('the job is picked up again and the session ends ready once, with every row and nothing left over', async () => {
    const rows = 600_000;
    const bytes = csvOf(rows, 1000, 60); // ~50 MB: several seconds of validation
    const key = t.keys.enterprise;
    const s = await startSession(t, key, bytes, { sha256: sha256(bytes) });
    await sendParts(s, bytes, 4);
    const first = await fleet.worker('w1');
    expect((await completeSession(t, key, s.uploadId, 0)).status).toBe(202);
    await waitFor(
      () => api(t, key, 'GET', `/v1/uploads/${s.uploadId}`),
      (r) => (r.body.progress?.bytesRead ?? 0) > 0 && r.body.status === 'validating',
      30_000,
      20,
    );
    await first.kill('SIGKILL');
    const stalled = await api(t, key, 'GET', `/v1/uploads/${s.uploadId}`);
    expect(stalled.body.status).toBe('validating');
    await fleet.worker('w2');
    const end = await waitFor(
      () => api(t, key, 'GET', `/v1/uploads/${s.uploadId}`),
      (r) => r.body.status !== 'validating',
      90_000,
      200,
    ).catch((e: Error) => {
      throw new Error(`${e.message}\n${fleet.output.slice(-3000)}`);
    });
    expect(end.body).toMatchObject({
      status: 'ready',
      result: { itemCount: rows - rows / 1000, validationErrorCount: rows / 1000, sha256: sha256(bytes) },
    });
    // One upload's objects: the abandoned run's were removed when the second run took over.
    const files = await storedFiles(t.storageDir);
    expect(files).toEqual([
      `${t.orgs.enterprise}/${end.body.fileId}.errors.ndjson`,
      `${t.orgs.enterprise}/${end.body.fileId}.items.ndjson`,
    ]);
  });
});
