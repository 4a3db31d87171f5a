import { request as httpRequest } from 'node:http';
import { gzipSync } from 'node:zlib';
import { api, startApp, type TestApp } from './support/app';

/**
 * POST /v1/batch against hostile bodies (issue 10): every body-parser failure answers with the
 * envelope and the contract's code, never a 500; a deep item is a row error, with or without an
 * Idempotency-Key; a large direct-items body does not stall other requests.
 */
let t: TestApp;
beforeAll(async () => {
  t = await startApp();
});
afterAll(() => t.close());

/** A POST with exactly these headers and bytes (fetch would refuse or rewrite some of them). */
function rawPost(
  path: string,
  headers: Record<string, string>,
  body: Buffer,
): Promise<{ status: number; body: any; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const { hostname, port } = new URL(t.url);
    const req = httpRequest(
      { hostname, port, path, method: 'POST', headers: { ...headers, 'Content-Length': String(body.length) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown;
          try {
            parsed = JSON.parse(text);
          } catch {
            parsed = text;
          }
          resolve({ status: res.statusCode ?? 0, body: parsed, headers: res.headers });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const items = Buffer.from(JSON.stringify({ items: [{ content: 'a' }] }));
const auth = () => ({ Authorization: `Bearer ${t.keys.pro}` });

function expectEnvelope(res: { body: any; headers: Record<string, unknown> }, code: string) {
  expect(res.body).toMatchObject({ error: { code, message: expect.any(String) }, requestId: expect.any(String) });
  expect(res.headers['x-request-id']).toBe(res.body.requestId);
}

describe('POST /v1/batch body errors', () => {
  it.each(['latin1', 'iso-8859-1', 'foo', 'windows-1252'])('answers 415 for charset=%s', async (charset) => {
    const res = await rawPost(
      '/v1/batch',
      { ...auth(), 'Content-Type': `application/json; charset=${charset}` },
      items,
    );
    expect(res.status).toBe(415);
    expectEnvelope(res, 'unsupported_format');
    expect(res.body.error.message).toContain('UTF-8');
  });

  it.each(['br', 'compress', 'x-nope'])('answers 415 for Content-Encoding: %s', async (encoding) => {
    const res = await rawPost(
      '/v1/batch',
      { ...auth(), 'Content-Type': 'application/json', 'Content-Encoding': encoding },
      items,
    );
    expect(res.status).toBe(415);
    expectEnvelope(res, 'unsupported_format');
  });

  it.each(['gzip', 'deflate'])('answers 400 for a corrupt %s body', async (encoding) => {
    const corrupt = Buffer.concat([gzipSync(items).subarray(0, 12), Buffer.from('not compressed at all')]);
    const res = await rawPost(
      '/v1/batch',
      { ...auth(), 'Content-Type': 'application/json', 'Content-Encoding': encoding },
      corrupt,
    );
    expect(res.status).toBe(400);
    expectEnvelope(res, 'validation_error');
  });

  it('still reads a good gzip body', async () => {
    const res = await rawPost(
      '/v1/batch',
      { ...auth(), 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' },
      gzipSync(items),
    );
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ status: 'queued', itemCount: 1 });
  });
});

describe('a large direct-items body', () => {
  it('does not stall other requests while it is validated', async () => {
    const many = JSON.stringify({ items: Array.from({ length: 200_000 }, (_, i) => ({ content: `item ${i}` })) });
    const big = api(t, t.keys.enterprise, 'POST', '/v1/batch', many);
    // /health answers while the big body is parsed and validated in slices.
    const started = Date.now();
    let worst = 0;
    while (Date.now() - started < 1500) {
      const t0 = Date.now();
      expect((await fetch(`${t.url}/health`)).status).toBe(200);
      worst = Math.max(worst, Date.now() - t0);
    }
    const res = await big;
    expect(res.status).toBe(202);
    expect(res.body.itemCount).toBe(200_000);
    console.log(`worst /health latency during a 200,000-item create: ${worst} ms`);
  });
});
