import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { plansFile } from './support/plans';
import { api, startApp, testRedisUrl, upload, type TestApp } from './support/app';
import { waitFor } from './support/wait';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { findFreePort } = require('../scripts/private-redis.js') as { findFreePort(): Promise<number> };

function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name + '{') && !line.startsWith(name + ' ')) continue;
    if (want.every((w) => line.includes(w))) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

describe('rate limits', () => {
  it('limits a burst per API key at the plan rate, as one across two api instances on one Redis', async () => {
    const file = await plansFile({ pro: { requestsPerMinute: 5 } });
    const tag = `rl${Date.now().toString(36)}`;
    const a = await startApp({ PLANS_FILE: file }, { tag });
    const b = await startApp({ PLANS_FILE: file }, { tag });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) {
        const t = i % 2 ? b : a;
        statuses.push((await api(t, t.keys.pro, 'GET', '/v1/batches')).status);
      }
      expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
      const limited = await api(a, a.keys.pro, 'GET', '/v1/batches');
      expect(limited.status).toBe(429);
      expect(limited.body.error.code).toBe('rate_limited');
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
      // Another key (another plan entry) is not affected.
      expect((await api(a, a.keys.enterprise, 'GET', '/v1/batches')).status).toBe(200);
    } finally {
      await a.close();
      await b.close();
    }
  });
});

describe('metrics and admin', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp({ WORKER_IN_PROCESS: 'true', ADMIN_TOKEN: 'admin-token-for-tests' });
  });
  afterAll(async () => {
    await t.close();
  });

  it('exposes Prometheus metrics whose values move when an upload and a batch run', async () => {
    const before = (await api(t, undefined, 'GET', '/metrics')).text;
    const up = await upload(t, t.keys.pro, 'content\na\n\nb\n"  "\n', { name: 'm.csv' });
    const created = await api(t, t.keys.pro, 'POST', '/v1/batch', { fileId: up.body.fileId });
    await waitFor(
      () => api(t, t.keys.pro, 'GET', `/v1/batch/${created.body.id}`),
      (r) => r.body.status === 'completed',
    );
    await api(t, t.keys.pro, 'POST', '/v1/batch', { fileId: up.body.fileId });
    const res = await api(t, undefined, 'GET', '/metrics');
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const after = res.text;
    const moved = (name: string, labels: Record<string, string> = {}) =>
      metricValue(after, name, labels) - metricValue(before, name, labels);
    expect(moved('batchgate_uploads_total', { format: 'csv', outcome: 'accepted' })).toBe(1);
    expect(moved('batchgate_upload_bytes_total', { format: 'csv' })).toBe(up.body.sizeBytes);
    expect(moved('batchgate_rows_validated_total', { result: 'valid' })).toBe(2);
    expect(moved('batchgate_rows_rejected_total', { code: 'required' })).toBe(1);
    expect(moved('batchgate_batches_total', { status: 'queued' })).toBe(1);
    expect(moved('batchgate_batches_total', { status: 'completed' })).toBe(1);
    expect(moved('batchgate_items_processed_total', { status: 'succeeded' })).toBe(2);
    expect(moved('batchgate_token_consumptions_total', { outcome: 'consumed' })).toBe(1);
    expect(moved('batchgate_token_consumptions_total', { outcome: 'file_already_consumed' })).toBe(1);
    expect(moved('batchgate_http_requests_total', { route: '/v1/batch/upload', status: '200' })).toBe(1);
    expect(after).toMatch(/batchgate_http_request_duration_seconds_bucket\{/);
    expect(after).toMatch(/batchgate_queue_jobs\{state="waiting"\} \d+/);
    expect(after).toMatch(/batchgate_redis_errors_total|# HELP batchgate_redis_errors_total/);
  });

  it('serves Bull Board only with the admin token', async () => {
    const none = await api(t, undefined, 'GET', '/admin/queues');
    expect(none.status).toBe(401);
    expect(none.body.error.code).toBe('unauthorized');
    const wrong = await api(t, undefined, 'GET', '/admin/queues', undefined, {
      Authorization: 'Bearer nope-nope-nope',
    });
    expect(wrong.status).toBe(401);
    const ok = await api(t, undefined, 'GET', '/admin/queues', undefined, {
      Authorization: 'Bearer admin-token-for-tests',
    });
    expect(ok.status).toBe(200);
    expect(ok.text).toMatch(/<html/i);
    const basic = Buffer.from('ops:admin-token-for-tests').toString('base64');
    const api2 = await api(t, undefined, 'GET', '/admin/queues/api/queues', undefined, {
      Authorization: `Basic ${basic}`,
    });
    expect(api2.status).toBe(200);
    expect(JSON.stringify(api2.body)).toContain('batches');
  });

  it('has no admin route when ADMIN_TOKEN is unset', async () => {
    const plain = await startApp();
    try {
      expect((await api(plain, undefined, 'GET', '/admin/queues')).status).toBe(404);
    } finally {
      await plain.close();
    }
  });
});

describe('the api process: logs and SIGTERM', () => {
  const KEY = 'log-test-key-7f3a9c';
  let child: ChildProcess;
  let port: number;
  let out = '';
  let storageDir: string;

  beforeAll(async () => {
    port = await findFreePort();
    storageDir = await mkdtemp(join(tmpdir(), 'batchgate-proc-'));
    child = spawn(process.execPath, [join(__dirname, '..', 'dist', 'main.js')], {
      env: {
        PATH: process.env.PATH,
        PORT: String(port),
        REDIS_URL: testRedisUrl(),
        STORAGE_DIR: storageDir,
        API_KEYS: `${KEY}:logorg:pro`,
        LOG_LEVEL: 'info',
        SHUTDOWN_DELAY_MS: '1500',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
    await waitFor(
      () =>
        fetch(`http://127.0.0.1:${port}/ready`).then(
          (r) => r.status,
          () => 0,
        ),
      (s) => s === 200,
      15000,
    );
  });

  afterAll(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await rm(storageDir, { recursive: true, force: true });
  });

  it('writes one JSON line per request with its requestId, org, route, status and duration, never the key', async () => {
    const res = await fetch(`http://127.0.0.1:${port}/v1/batches?limit=1`, {
      headers: { Authorization: `Bearer ${KEY}`, 'X-Request-Id': 'log-check-123' },
    });
    expect(res.status).toBe(200);
    // Idle keep-alive connections outlive a load balancer's 60 s idle timeout (KEEP_ALIVE_TIMEOUT_SECONDS).
    expect(res.headers.get('keep-alive')).toBe('timeout=65');
    const line = await waitFor(
      () => Promise.resolve(out.split('\n').find((l) => l.includes('"requestId":"log-check-123"'))),
      (l) => l !== undefined,
      5000,
    );
    const entry = JSON.parse(line!);
    expect(entry).toMatchObject({ requestId: 'log-check-123', orgId: 'logorg', route: '/v1/batches', status: 200 });
    expect(typeof entry.durationMs).toBe('number');
    expect(out).not.toContain(KEY);
  });

  it('lets an upload in flight finish on SIGTERM, answers /ready 503 while draining, then exits', async () => {
    const boundary = 'sigterm-boundary';
    const head = `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="slow.csv"\r\nContent-Type: text/csv\r\n\r\ncontent\n`;
    const tail = `\r\n--${boundary}--\r\n`;
    const rows = Array.from({ length: 20 }, (_, i) => `row ${i}\n`);
    const body = Buffer.from(head + rows.join('') + tail);
    const result = new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port,
          path: '/v1/batch/upload',
          method: 'POST',
          headers: {
            Authorization: `Bearer ${KEY}`,
            'Content-Type': `multipart/form-data; boundary=${boundary}`,
            'Content-Length': body.length,
          },
        },
        (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        },
      );
      req.on('error', reject);
      // Send the body slowly: head now, then a row every 100 ms.
      req.write(head);
      let i = 0;
      const timer = setInterval(() => {
        if (i < rows.length) req.write(rows[i++]);
        else {
          clearInterval(timer);
          req.end(tail);
        }
      }, 100);
    });
    await new Promise((r) => setTimeout(r, 300));
    child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    const ready = await fetch(`http://127.0.0.1:${port}/ready`);
    expect(ready.status).toBe(503);
    // Draining: a keep-alive client is told to go elsewhere for its next request.
    expect(ready.headers.get('connection')).toBe('close');
    const done = await result;
    expect(done.status).toBe(200);
    expect(JSON.parse(done.text).itemCount).toBe(20);
    const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
    expect(code === 0 || signal === 'SIGTERM').toBe(true);
  });
});
