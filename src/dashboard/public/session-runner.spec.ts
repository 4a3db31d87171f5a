import { ApiError } from './api.js';
import { createPool, isAbort, runSession, sleep } from './session-runner.js';

const KiB = 1024;
/** A small session of `count` parts of 10 KiB (the last one `last` bytes): the runner only does arithmetic on sizes. */
function sessionOf(count: number, last = 10 * KiB) {
  const partSize = 10 * KiB;
  const sizeBytes = partSize * (count - 1) + last;
  cut = { sizeBytes, partSize, partCount: count };
  return {
    uploadId: 'u_1',
    sizeBytes,
    partSize,
    partCount: count,
    parts: Array.from({ length: count }, (_, i) => ({
      partNumber: i + 1,
      url: `http://h/v1/uploads/u_1/parts/${i + 1}?sig=first`,
      method: 'PUT',
      sizeBytes: i + 1 < count ? partSize : last,
      headers: { 'Content-Length': String(i + 1 < count ? partSize : last) },
    })),
  };
}

/** How the views below say the file is cut (each test's session uses these sizes when it resumes). */
let cut: { sizeBytes: number; partSize: number; partCount: number } = { sizeBytes: 0, partSize: 0, partCount: 0 };
const fileOf = (size: number) => new Blob([new Uint8Array(size)]);
const partNumberOf = (url: string) => Number(/parts\/(\d+)/.exec(url)![1]);

interface Put {
  url: string;
  size: number;
  headers: Record<string, string>;
}

/**
 * A batchgate in memory for the runner: `answers` decides each PUT's status (by part number and try),
 * each PUT takes 100 ms (with upload progress half-way), and the JSON routes answer from `routes`.
 */
function fakeBatchgate(opts: {
  putStatus?: (partNumber: number, attempt: number) => number;
  routes?: (method: string, path: string, body: unknown) => unknown;
}) {
  const puts: Put[] = [];
  const calls: string[] = [];
  const tries = new Map<number, number>();
  let active = 0;
  let mostActive = 0;
  const put = (
    url: string,
    blob: Blob,
    headers: Record<string, string>,
    onProgress: (n: number) => void,
    signal: AbortSignal,
  ) =>
    new Promise((resolve, reject) => {
      const n = partNumberOf(url);
      const attempt = (tries.get(n) ?? 0) + 1;
      tries.set(n, attempt);
      puts.push({ url, size: blob.size, headers });
      active++;
      mostActive = Math.max(mostActive, active);
      const half = setTimeout(() => onProgress(blob.size / 2), 50);
      const end = setTimeout(() => {
        active--;
        signal.removeEventListener('abort', onAbort);
        resolve({ status: opts.putStatus ? opts.putStatus(n, attempt) : 200, body: null });
      }, 100);
      const onAbort = () => {
        clearTimeout(half);
        clearTimeout(end);
        active--;
        reject(new DOMException('aborted', 'AbortError'));
      };
      signal.addEventListener('abort', onAbort, { once: true });
    });
  const api = {
    send: (method: string, path: string, body?: unknown) => {
      calls.push(`${method} ${path}${body === undefined ? '' : ` ${JSON.stringify(body)}`}`);
      try {
        return Promise.resolve(opts.routes ? opts.routes(method, path, body) : undefined);
      } catch (e) {
        return Promise.reject(e instanceof Error ? e : new Error(String(e)));
      }
    },
  };
  return {
    put,
    api,
    puts,
    calls,
    putsOf: (n: number) => puts.filter((p) => partNumberOf(p.url) === n).length,
    mostActive: () => mostActive,
  };
}

const view = (status: string, over: Record<string, unknown> = {}) => ({
  uploadId: 'u_1',
  status,
  ...cut,
  receivedParts: null,
  progress: status === 'pending' ? null : { bytesRead: 0, rowsRead: 0, itemCount: 0, validationErrorCount: 0 },
  result: null,
  error: null,
  ...over,
});

/** Moves the fake clock on until the promise settles (at most `limitMs`). */
async function settle<T>(p: Promise<T>, limitMs = 120_000): Promise<T> {
  let done = false;
  p.then(
    () => (done = true),
    () => (done = true),
  );
  for (let t = 0; !done && t < limitMs; t += 50) await jest.advanceTimersByTimeAsync(50);
  return p;
}

/** A GET that says validating `times` times, then ready with `result`. */
function validatingThenReady(times: number, result: unknown) {
  let asked = 0;
  return () =>
    ++asked <= times
      ? view('validating', {
          progress: { bytesRead: asked * 1000, rowsRead: asked * 10, itemCount: asked * 10, validationErrorCount: 0 },
        })
      : view('ready', { result });
}

describe('dashboard session runner', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('sends every part 4 at a time, completes, follows validation and ends with the upload body', async () => {
    const s = sessionOf(6, 3 * KiB);
    const result = { fileId: 'f_1', itemCount: 5 };
    const ready = validatingThenReady(2, result);
    const b = fakeBatchgate({
      routes: (method, path) => {
        if (method === 'POST' && path === '/v1/uploads/u_1/complete') return view('validating');
        if (method === 'GET' && path === '/v1/uploads/u_1') return ready();
        throw new Error(`unexpected ${method} ${path}`);
      },
    });
    const reports: any[] = [];
    const end = await settle(
      runSession({ api: b.api, put: b.put, pool: createPool(4) }, { file: fileOf(s.sizeBytes), session: s }, (r: any) =>
        reports.push(r),
      ),
    );
    expect(end).toEqual({ status: 'ready', result });
    expect(b.puts.map((p) => [partNumberOf(p.url), p.size])).toEqual([
      [1, 10 * KiB],
      [2, 10 * KiB],
      [3, 10 * KiB],
      [4, 10 * KiB],
      [5, 10 * KiB],
      [6, 3 * KiB],
    ]);
    expect(b.mostActive()).toBe(4);
    // The browser sets Content-Length from the slice itself.
    expect(b.puts[0].headers).toEqual({});
    expect(b.calls).toEqual([
      'POST /v1/uploads/u_1/complete',
      'GET /v1/uploads/u_1',
      'GET /v1/uploads/u_1',
      'GET /v1/uploads/u_1',
    ]);
    const sent = reports.filter((r) => r.phase === 'sending').map((r) => r.sent);
    expect(sent[0]).toBe(0);
    expect(sent[sent.length - 1]).toBe(s.sizeBytes);
    // Upload progress counts bytes within a part: some report falls between two parts' ends.
    expect(sent.some((n) => n % (10 * KiB) !== 0 && n !== s.sizeBytes)).toBe(true);
    expect(reports.filter((r) => r.phase === 'validating').map((r) => r.progress.bytesRead)).toEqual([0, 1000, 2000]);
  });

  it('tries a failed part again after 0.5 s, without sending the others twice', async () => {
    const s = sessionOf(3);
    const b = fakeBatchgate({
      putStatus: (n, attempt) => (n === 2 && attempt === 1 ? 500 : 200),
      routes: (method) => (method === 'POST' ? view('ready', { result: { fileId: 'f_1' } }) : null),
    });
    const reports: any[] = [];
    const end = await settle(
      runSession({ api: b.api, put: b.put, pool: createPool(4) }, { file: fileOf(s.sizeBytes), session: s }, (r: any) =>
        reports.push(r),
      ),
    );
    expect(end.status).toBe('ready');
    expect([1, 2, 3].map(b.putsOf)).toEqual([1, 2, 1]);
    expect(reports.find((r) => r.retry)?.retry).toEqual({ partNumber: 2, attempt: 1, inMs: 500 });
  });

  it('backs off 0.5, 1, 2, 4 s and gives up after 5 tries; nothing is sent after that', async () => {
    const s = sessionOf(6);
    const b = fakeBatchgate({ putStatus: (n) => (n === 1 ? 503 : 200) });
    const waits: number[] = [];
    const p = runSession(
      { api: b.api, put: b.put, pool: createPool(2) },
      { file: fileOf(s.sizeBytes), session: s },
      (r: any) => {
        if (r.retry) waits.push(r.retry.inMs);
      },
    );
    await expect(settle(p)).rejects.toMatchObject({ status: 503 });
    expect(waits).toEqual([500, 1000, 2000, 4000]);
    expect(b.putsOf(1)).toBe(5);
    // Part 2 went with part 1's first try and the next ones while it waited; none was sent after the end.
    const count = b.puts.length;
    await jest.advanceTimersByTimeAsync(10_000);
    expect(b.puts.length).toBe(count);
    expect(b.calls).toEqual([]);
  });

  it('asks for a fresh URL when a part is refused with 403 (expired signature), then sends it there', async () => {
    const s = sessionOf(2);
    const b = fakeBatchgate({
      putStatus: (n, attempt) => (n === 2 && attempt === 1 ? 403 : 200),
      routes: (method, path, body) => {
        if (path.endsWith('/parts')) {
          expect(body).toEqual({ partNumbers: [2] });
          return { parts: [{ ...s.parts[1], url: 'http://h/v1/uploads/u_1/parts/2?sig=fresh' }] };
        }
        return view('ready', { result: { fileId: 'f_1' } });
      },
    });
    await settle(
      runSession({ api: b.api, put: b.put, pool: createPool(4) }, { file: fileOf(s.sizeBytes), session: s }),
    );
    expect(b.puts.filter((p) => partNumberOf(p.url) === 2).map((p) => p.url)).toEqual([
      'http://h/v1/uploads/u_1/parts/2?sig=first',
      'http://h/v1/uploads/u_1/parts/2?sig=fresh',
    ]);
  });

  it('stops at once on a refusal that trying again cannot change', async () => {
    const s = sessionOf(1);
    const b = fakeBatchgate({ putStatus: () => 404 });
    await expect(
      settle(runSession({ api: b.api, put: b.put, pool: createPool(4) }, { file: fileOf(s.sizeBytes), session: s })),
    ).rejects.toMatchObject({ status: 404 });
    expect(b.puts).toHaveLength(1);
  });

  it('resumes: asks which parts arrived and sends only the others, counting the received ones as sent', async () => {
    const s = sessionOf(3, 4 * KiB);
    const b = fakeBatchgate({
      routes: (method, path, body) => {
        if (method === 'GET') {
          // Part 2 arrived short: it is sent again.
          return view('pending', {
            receivedParts: [
              { partNumber: 1, sizeBytes: 10 * KiB },
              { partNumber: 2, sizeBytes: 5 },
            ],
          });
        }
        if (path.endsWith('/parts')) {
          expect(body).toEqual({ partNumbers: [2, 3] });
          return { parts: s.parts.slice(1) };
        }
        return view('ready', { result: { fileId: 'f_1' } });
      },
    });
    const reports: any[] = [];
    const { parts: _parts, ...known } = s;
    const end = await settle(
      runSession(
        { api: b.api, put: b.put, pool: createPool(4) },
        { file: fileOf(s.sizeBytes), session: known, resume: true },
        (r: any) => reports.push(r),
      ),
    );
    expect(end.status).toBe('ready');
    expect([1, 2, 3].map(b.putsOf)).toEqual([0, 1, 1]);
    expect(reports[0]).toMatchObject({ phase: 'sending', sent: 10 * KiB, total: s.sizeBytes });
    expect(b.calls).toEqual([
      'GET /v1/uploads/u_1',
      'POST /v1/uploads/u_1/parts {"partNumbers":[2,3]}',
      'POST /v1/uploads/u_1/complete',
    ]);
  });

  it('resumes a session whose parts all arrived, or that is already validating, without sending anything', async () => {
    const s = sessionOf(2);
    const all = fakeBatchgate({
      routes: (method) =>
        method === 'GET'
          ? view('pending', {
              receivedParts: s.parts.map((p) => ({ partNumber: p.partNumber, sizeBytes: p.sizeBytes })),
            })
          : view('ready', { result: { fileId: 'f_1' } }),
    });
    await settle(
      runSession(
        { api: all.api, put: all.put, pool: createPool(4) },
        { file: fileOf(s.sizeBytes), session: s, resume: true },
      ),
    );
    expect(all.puts).toEqual([]);
    expect(all.calls).toEqual(['GET /v1/uploads/u_1', 'POST /v1/uploads/u_1/complete']);

    const ready = validatingThenReady(1, { fileId: 'f_2' });
    const validating = fakeBatchgate({ routes: () => ready() });
    const end = await settle(
      runSession(
        { api: validating.api, put: validating.put, pool: createPool(4) },
        { file: fileOf(s.sizeBytes), session: s, resume: true },
      ),
    );
    expect(end).toEqual({ status: 'ready', result: { fileId: 'f_2' } });
    expect(validating.puts).toEqual([]);
    expect(validating.calls).toEqual(['GET /v1/uploads/u_1', 'GET /v1/uploads/u_1']);
  });

  it('refuses to resume with a file of another size than the session', async () => {
    const s = sessionOf(2);
    const b = fakeBatchgate({ routes: () => view('pending', { receivedParts: [] }) });
    await expect(
      settle(
        runSession(
          { api: b.api, put: b.put, pool: createPool(4) },
          { file: fileOf(s.sizeBytes + 1), session: { uploadId: 'u_1' }, resume: true },
        ),
      ),
    ).rejects.toMatchObject({ code: 'size_mismatch' });
    expect(b.puts).toEqual([]);
    expect(b.calls).toEqual(['GET /v1/uploads/u_1']);
  });

  it('lets batchgate pick the parts to send when the store cannot list them (receivedParts null)', async () => {
    const s = sessionOf(2);
    const b = fakeBatchgate({
      routes: (method, path) => {
        if (method === 'GET') return view('pending', { receivedParts: null });
        if (path.endsWith('/parts')) return { parts: s.parts };
        return view('ready', { result: { fileId: 'f_1' } });
      },
    });
    await settle(
      runSession(
        { api: b.api, put: b.put, pool: createPool(4) },
        { file: fileOf(s.sizeBytes), session: s, resume: true },
      ),
    );
    expect(b.calls[1]).toBe('POST /v1/uploads/u_1/parts {}');
    expect([1, 2].map(b.putsOf)).toEqual([1, 1]);
  });

  it('sends again what complete says is missing (409 upload_incomplete), then completes', async () => {
    const s = sessionOf(3);
    let completes = 0;
    const b = fakeBatchgate({
      routes: (method, path) => {
        if (path.endsWith('/complete')) {
          if (++completes === 1) {
            throw new ApiError(409, {
              error: { code: 'upload_incomplete', message: 'missing', details: { missingParts: [2] } },
            });
          }
          return view('ready', { result: { fileId: 'f_1' } });
        }
        return { parts: [s.parts[1]] };
      },
    });
    await settle(
      runSession({ api: b.api, put: b.put, pool: createPool(4) }, { file: fileOf(s.sizeBytes), session: s }),
    );
    expect([1, 2, 3].map(b.putsOf)).toEqual([1, 2, 1]);
    expect(b.calls).toEqual([
      'POST /v1/uploads/u_1/complete',
      'POST /v1/uploads/u_1/parts {"partNumbers":[2]}',
      'POST /v1/uploads/u_1/complete',
    ]);
  });

  it('ends failed with the refusal a direct upload would have had', async () => {
    const s = sessionOf(1);
    const b = fakeBatchgate({
      routes: () =>
        view('failed', {
          error: {
            status: 400,
            error: { code: 'file_parsing_failed', message: 'No valid rows' },
            validationErrors: [{ row: 2 }],
          },
        }),
    });
    const end = await settle(
      runSession({ api: b.api, put: b.put, pool: createPool(4) }, { file: fileOf(s.sizeBytes), session: s }),
    );
    expect(end.status).toBe('failed');
    expect(end.error).toMatchObject({ status: 400, code: 'file_parsing_failed', validationErrors: [{ row: 2 }] });
  });

  it('keeps following validation through lost answers', async () => {
    const s = sessionOf(1);
    let gets = 0;
    const b = fakeBatchgate({
      routes: (method) => {
        if (method === 'POST') return view('validating');
        if (++gets <= 2) throw ApiError.network('down');
        return view('ready', { result: { fileId: 'f_1' } });
      },
    });
    const end = await settle(
      runSession({ api: b.api, put: b.put, pool: createPool(4) }, { file: fileOf(s.sizeBytes), session: s }),
    );
    expect(end.status).toBe('ready');
    expect(gets).toBe(3);
  });

  it('stops sending and following at Cancel, with an AbortError', async () => {
    const s = sessionOf(6);
    const b = fakeBatchgate({});
    const cancel = new AbortController();
    const p = runSession(
      { api: b.api, put: b.put, pool: createPool(4), signal: cancel.signal },
      { file: fileOf(s.sizeBytes), session: s },
    );
    await jest.advanceTimersByTimeAsync(60);
    cancel.abort();
    await expect(settle(p)).rejects.toHaveProperty('name', 'AbortError');
    await jest.advanceTimersByTimeAsync(10_000);
    expect(b.puts).toHaveLength(4);
    expect(b.calls).toEqual([]);
  });

  it('shares one pool between sessions: 4 parts in flight over every file', async () => {
    const pool = createPool(4);
    const a = fakeBatchgate({ routes: () => view('ready', { result: { fileId: 'f_a' } }) });
    const runs = [0, 1].map(() => {
      const s = sessionOf(4);
      return runSession({ api: a.api, put: a.put, pool }, { file: fileOf(s.sizeBytes), session: s });
    });
    await settle(Promise.all(runs));
    expect(a.puts).toHaveLength(8);
    expect(a.mostActive()).toBe(4);
  });
});

describe('dashboard session runner: sleep', () => {
  it('rejects with an AbortError at once when aborted', async () => {
    const c = new AbortController();
    const p = sleep(60_000, c.signal);
    c.abort();
    await expect(p).rejects.toHaveProperty('name', 'AbortError');
    await expect(sleep(1, c.signal)).rejects.toHaveProperty('name', 'AbortError');
    await expect(sleep(1)).resolves.toBeUndefined();
    expect(isAbort(new DOMException('x', 'AbortError'))).toBe(true);
    expect(isAbort(new Error('x'))).toBe(false);
  });
});
