import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { api, startApp, upload, type TestApp } from './support/app';
import { waitFor } from './support/wait';

interface PrivateRedis {
  url: string;
  port: number;
  stop(): Promise<void>;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { findFreePort, startPrivateRedis } = require('../scripts/private-redis.js') as {
  findFreePort(): Promise<number>;
  startPrivateRedis(o: { dir: string }): Promise<PrivateRedis>;
};

/** A redis-server of this test's own, for what must not happen to the run's shared one. */
async function ownRedis(): Promise<PrivateRedis & { dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'batchgate-own-redis-'));
  const redis = await startPrivateRedis({ dir });
  return {
    ...redis,
    dir,
    stop: async () => {
      await redis.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Sends raw bytes and reads until the server closes: for what Node's parser sees before Express. */
function raw(t: TestApp, bytes: string | Buffer): Promise<string> {
  const { port } = new URL(t.url);
  return new Promise((resolve, reject) => {
    let text = '';
    const socket = connect({ host: '127.0.0.1', port: Number(port) });
    socket.on('data', (c: Buffer) => (text += c.toString('utf8')));
    socket.on('error', reject);
    socket.on('close', () => resolve(text));
    socket.write(bytes);
  });
}

function parseRaw(text: string): { status: number; headers: Record<string, string>; body: any } {
  const [head, ...rest] = text.split('\r\n\r\n');
  const [statusLine, ...lines] = head.split('\r\n');
  const headers: Record<string, string> = {};
  for (const l of lines) {
    const i = l.indexOf(':');
    headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
  }
  return { status: Number(statusLine.split(' ')[1]), headers, body: JSON.parse(rest.join('\r\n\r\n')) };
}

function expectEnvelope(
  r: { status: number; headers: Record<string, string>; body: any },
  status: number,
  code: string,
) {
  expect(r.status).toBe(status);
  expect(r.body.error.code).toBe(code);
  expect(typeof r.body.error.message).toBe('string');
  expect(r.headers['x-request-id']).toBeTruthy();
  expect(r.body.requestId).toBe(r.headers['x-request-id']);
}

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: any;
  ms: number;
}

/** Sends `head` of a body announced as `length` bytes, then `more` one chunk every `everyMs`, then nothing. */
function trickle(
  t: TestApp,
  path: string,
  headers: Record<string, string | number>,
  head: string,
  more: string[] = [],
  everyMs = 0,
): Promise<Answer> {
  const { port } = new URL(t.url);
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, method: 'POST', headers }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers as Record<string, string>,
          body: text ? JSON.parse(text) : undefined,
          ms: Date.now() - started,
        }),
      );
    });
    req.on('error', reject);
    req.write(head);
    let i = 0;
    const timer = setInterval(() => {
      if (i < more.length) req.write(more[i++]);
      else clearInterval(timer);
    }, everyMs || 1);
    req.on('close', () => clearInterval(timer));
  });
}

describe('body idle timeout and requests Node answers before Express', () => {
  let t: TestApp;
  const boundary = 'idle-boundary';
  const multipart = { 'Content-Type': `multipart/form-data; boundary=${boundary}` };
  const fileHead = `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="slow.csv"\r\nContent-Type: text/csv\r\n\r\ncontent\n`;

  beforeAll(async () => {
    t = await startApp({ BODY_IDLE_TIMEOUT_SECONDS: '1' });
  });
  afterAll(async () => {
    await t.close();
  });

  it('answers 408 with the envelope when an upload stops mid-file, and leaves no spool file', async () => {
    const res = await trickle(
      t,
      '/v1/batch/upload',
      { ...multipart, Authorization: `Bearer ${t.keys.pro}`, 'Content-Length': 100_000 },
      fileHead + 'row 1\n',
    );
    expectEnvelope(res, 408, 'request_timeout');
    expect(res.body.error.details).toEqual({ idleTimeoutSeconds: 1 });
    expect(res.ms).toBeLessThan(4000);
    expect(res.headers.connection).toBe('close');
    expect(await readdir(join(t.storageDir, '.spool'))).toEqual([]);
  });

  it('answers 408 when the multipart body goes quiet before the file part', async () => {
    const res = await trickle(
      t,
      '/v1/batch/upload',
      { ...multipart, Authorization: `Bearer ${t.keys.pro}`, 'Content-Length': 100_000 },
      `--${boundary}\r\nContent-Disposition: form-data; name="schema"\r\n\r\ndef`,
    );
    expectEnvelope(res, 408, 'request_timeout');
  });

  it('answers 408 for a JSON body that stops arriving', async () => {
    const res = await trickle(
      t,
      '/v1/batch',
      { 'Content-Type': 'application/json', Authorization: `Bearer ${t.keys.pro}`, 'Content-Length': 500 },
      '{"items":[{"content":"a"}',
    );
    expectEnvelope(res, 408, 'request_timeout');
    expect(res.ms).toBeLessThan(4000);
  });

  it('keeps a slow body that never stops for as long as the timeout (a byte every 400 ms, timeout 1 s)', async () => {
    const rows = Array.from({ length: 8 }, (_, i) => `row ${i}\n`);
    const tail = `\r\n--${boundary}--\r\n`;
    const body = fileHead + rows.join('') + tail;
    const res = await trickle(
      t,
      '/v1/batch/upload',
      { ...multipart, Authorization: `Bearer ${t.keys.pro}`, 'Content-Length': Buffer.byteLength(body) },
      fileHead,
      [...rows, tail],
      400,
    );
    expect(res.status).toBe(200);
    expect(res.body.itemCount).toBe(8);
    expect(res.ms).toBeGreaterThan(2000);
  });

  it.each([
    ['NUL in a header', 'GET /health HTTP/1.1\r\nHost: x\r\nX-Bad: a\u0000b\r\n\r\n'],
    ['CR inside a header value', 'GET /health HTTP/1.1\r\nHost: x\r\nX-Bad: a\rb\r\n\r\n'],
    ['LF in a header name', 'GET /health HTTP/1.1\r\nHost: x\r\nX-B\nad: a\r\n\r\n'],
    ['a bad request line', 'HELLO THERE\r\n\r\n'],
  ])('answers %s with 400 validation_error in the envelope, with X-Request-Id', async (_what, bytes) => {
    const res = parseRaw(await raw(t, bytes));
    expectEnvelope(res, 400, 'validation_error');
    expect(res.body.error.details.parserError).toMatch(/^HPE_/);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
  });

  it('answers headers over the limit with 431 in the envelope', async () => {
    const res = parseRaw(await raw(t, `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`));
    expectEnvelope(res, 431, 'headers_too_large');
  });
});

describe('rejected-rows download of an upload with a 16 KB name', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('caps the name in Content-Disposition (filename* in UTF-8, ASCII filename) so clients can read it', async () => {
    const name = `${'é'.repeat(8000)}.csv`; // 16 KB of UTF-8
    const up = await upload(t, t.keys.pro, 'content,externalId\nok,1\n,2\n', { name });
    expect(up.status).toBe(200);
    expect(up.body.validationErrorCount).toBe(1);
    // Node's fetch refuses answers whose headers pass 16 KB, as the issue saw.
    const res = await api(t, t.keys.pro, 'GET', `/v1/batch/upload/${up.body.fileId}/errors?format=csv`);
    expect(res.status).toBe(200);
    const header = res.headers.get('content-disposition')!;
    expect(header.length).toBeLessThan(2048);
    const star = /filename\*=UTF-8''(\S+)/.exec(header)![1];
    expect(decodeURIComponent(star)).toBe(`${'é'.repeat(100)}-rejected-rows.csv`);
    expect(/filename="([^"]+)"/.exec(header)![1]).toMatch(/^[A-Za-z0-9._-]+$/);
  });
});

describe('Redis refusing writes: /ready checks a write, an upload mid-way answers 503', () => {
  let redis: PrivateRedis & { dir: string };
  let client: Redis;
  let t: TestApp;

  beforeAll(async () => {
    redis = await ownRedis();
    client = new Redis(redis.url);
    t = await startApp({ REDIS_URL: redis.url });
  });
  afterAll(async () => {
    await t.close();
    client.disconnect();
    await redis.stop();
  });

  it('answers 503 naming redis while Redis answers PING but refuses writes, and 200 again after', async () => {
    expect((await api(t, undefined, 'GET', '/ready')).status).toBe(200);
    // Writes refused, reads and PING still answered: what OOM (maxmemory, noeviction) or MISCONF look like.
    await client.config('SET', 'min-replicas-to-write', '1');
    try {
      expect(await client.ping()).toBe('PONG');
      const ready = await api(t, undefined, 'GET', '/ready');
      expect(ready.status).toBe(503);
      expect(ready.body.error.code).toBe('FILE_STORAGE_UNAVAILABLE');
      expect(ready.body.error.details.checks).toEqual({ redis: 'down', storage: 'up' });
      expect(ready.headers.get('retry-after')).toBe('5');
      // The /v1 routes agree: a create that must write answers 503.
      const create = await api(t, t.keys.pro, 'POST', '/v1/batch', { items: [{ content: 'a' }] });
      expect(create.status).toBe(503);
    } finally {
      await client.config('SET', 'min-replicas-to-write', '0');
    }
    expect((await api(t, undefined, 'GET', '/ready')).status).toBe(200);
  });

  it('answers 503 with Retry-After to an upload whose Redis runs out of memory mid-way, stores nothing, and uploads again once Redis has room', async () => {
    // The body is sent in two halves: the guards (and their Redis writes) pass on the first, then
    // Redis runs out of memory before the upload's own writes (the sweep index, the token).
    const boundary = 'oom-boundary';
    const head = `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\ncontent\n`;
    const tail = `first\nsecond\n\r\n--${boundary}--\r\n`;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const body = new ReadableStream<Uint8Array>({
      async start(controller) {
        controller.enqueue(new TextEncoder().encode(head));
        await gate;
        controller.enqueue(new TextEncoder().encode(tail));
        controller.close();
      },
    });
    const answer = fetch(`${t.url}/v1/batch/upload`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${t.keys.pro}`, 'Content-Type': `multipart/form-data; boundary=${boundary}` },
      body,
      duplex: 'half',
    });
    await new Promise((r) => setTimeout(r, 300));
    await client.config('SET', 'maxmemory', '1');
    try {
      release();
      const res = await answer;
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBeTruthy();
      expect(((await res.json()) as any).error.code).toBe('FILE_STORAGE_UNAVAILABLE');
      const left = (await readdir(t.storageDir, { recursive: true })).filter(
        (f) => f.endsWith('.ndjson') || f.includes('.partial'),
      );
      expect(left).toEqual([]);
      expect(await readdir(join(t.storageDir, '.spool'))).toEqual([]);
    } finally {
      await client.config('SET', 'maxmemory', '0');
    }
    expect((await upload(t, t.keys.pro, 'content\nafter\n')).status).toBe(200);
  });
});

describe('Bull Board refuses cross-site state changes', () => {
  const TOKEN = 'admin-token-cross-site';
  const basic = `Basic ${Buffer.from(`ops:${TOKEN}`).toString('base64')}`;
  const ADD = '/admin/queues/api/queues/batches/add';
  let t: TestApp;

  const jobs = async () => {
    const res = await api(t, undefined, 'GET', '/admin/queues/api/queues', undefined, { Authorization: basic });
    expect(res.status).toBe(200);
    const queue = (res.body.queues as { name: string; counts: Record<string, number> }[]).find(
      (q) => q.name === 'batches',
    )!;
    return Object.values(queue.counts).reduce((a, b) => a + b, 0);
  };
  const add = (headers: Record<string, string>) =>
    api(t, undefined, 'POST', ADD, { name: 'cross-site-probe', data: {} }, headers);

  beforeAll(async () => {
    t = await startApp({ ADMIN_TOKEN: TOKEN });
  });
  afterAll(async () => {
    await t.close();
  });

  it.each([
    ['a foreign Origin', { Origin: 'https://evil.example' }],
    ['Origin null', { Origin: 'null' }],
    ['Sec-Fetch-Site: cross-site', { 'Sec-Fetch-Site': 'cross-site' }],
    ['Sec-Fetch-Site: same-site', { 'Sec-Fetch-Site': 'same-site' }],
  ])('refuses a POST with cached Basic credentials and %s: 403, nothing added', async (_what, headers) => {
    const before = await jobs();
    const res = await add({ Authorization: basic, ...headers });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('forbidden');
    expect(res.body.requestId).toBe(res.headers.get('x-request-id'));
    expect(await jobs()).toBe(before);
  });

  it('lets the board itself (same origin) and scripts (token, no Origin) change state', async () => {
    const before = await jobs();
    const host = new URL(t.url).host;
    const own = await add({ Authorization: basic, Origin: `http://${host}`, 'Sec-Fetch-Site': 'same-origin' });
    expect(own.status).toBe(200);
    const script = await add({ Authorization: `Bearer ${TOKEN}` });
    expect(script.status).toBe(200);
    expect(await jobs()).toBe(before + 2);
  });

  it('still serves reads cross-site, and still asks for the token', async () => {
    const read = await api(t, undefined, 'GET', '/admin/queues/api/queues', undefined, {
      Authorization: basic,
      'Sec-Fetch-Site': 'cross-site',
    });
    expect(read.status).toBe(200);
    expect((await add({})).status).toBe(401);
    expect((await api(t, undefined, 'GET', '/admin/queues/api/queues')).status).toBe(401);
  });
});

describe('shutdown deadline with Redis gone', () => {
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  });

  it.each([
    ['the api with its in-process worker', 'main.js', { WORKER_IN_PROCESS: 'true' }],
    ['a worker process', 'worker.js', {}],
  ])(
    '%s exits 1 within the deadline, naming what was still pending',
    async (_what, entry, extra) => {
      const script = join(__dirname, '..', 'dist', entry);
      if (!existsSync(script)) throw new Error(`dist/${entry} is missing: \`npm test\` builds it first`);
      const redis = await ownRedis();
      const storageDir = await mkdtemp(join(tmpdir(), 'batchgate-deadline-'));
      const port = await findFreePort();
      let out = '';
      const child = spawn(process.execPath, [script], {
        env: {
          PATH: process.env.PATH,
          PORT: String(port),
          REDIS_URL: redis.url,
          STORAGE_DIR: storageDir,
          API_KEYS: 'deadline-key-1:deadline:pro',
          SHUTDOWN_TIMEOUT_SECONDS: '3',
          SHUTDOWN_GRACE_MS: '1000',
          LOG_FORMAT: 'json',
          ...extra,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      children.push(child);
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      child.stderr.on('data', (c: Buffer) => (out += c.toString()));
      try {
        await waitFor(
          () => Promise.resolve(/api listening on|worker started/.test(out)),
          (ok) => ok,
          20000,
        );
        await redis.stop();
        // Let the worker's connection notice and start retrying.
        await new Promise((r) => setTimeout(r, 500));
        const exited = once(child, 'exit') as Promise<[number | null, string | null]>;
        const started = Date.now();
        child.kill('SIGTERM');
        const [code, signal] = await exited;
        const ms = Date.now() - started;
        expect({ code, signal }).toEqual({ code: 1, signal: null });
        expect(ms).toBeGreaterThanOrEqual(2900);
        expect(ms).toBeLessThan(6000);
        const line = out.split('\n').find((l) => l.includes('shutdown did not finish'));
        expect(line).toMatch(
          /^batchgate: SIGTERM: shutdown did not finish within 3 s \(SHUTDOWN_TIMEOUT_SECONDS\); still pending: .*BatchWorkerService.*; exiting with code 1$/,
        );
      } finally {
        await redis.stop();
        await rm(storageDir, { recursive: true, force: true });
      }
    },
    30000,
  );
});
