import {
  ApiError,
  batchRequest,
  createApi,
  filenameFrom,
  isTransient,
  needsNewIdempotencyKey,
  parseJson,
  randomKey,
  requestInit,
  routes,
  sentenceFor,
  toApiError,
} from './api.js';

/** A fetch that answers from a list and records what it was asked. */
function fakeFetch(...answers: Response[]) {
  const calls: { path: string; init: RequestInit }[] = [];
  const fn = (path: string, init: RequestInit) => {
    calls.push({ path, init });
    const next = answers.shift();
    return next ? Promise.resolve(next) : Promise.reject(new TypeError('Failed to fetch'));
  };
  return { fn, calls };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json', ...headers } });

describe('dashboard api: errors', () => {
  it('reads the error envelope of API.md', () => {
    const e = new ApiError(
      400,
      {
        error: { code: 'file_parsing_failed', message: 'No valid rows', details: { a: 1 } },
        requestId: 'req-1',
        validationErrors: [{ row: 2, code: 'required', error: 'Content is empty, row skipped' }],
      },
      null,
    );
    expect(e).toBeInstanceOf(Error);
    expect(e).toMatchObject({
      status: 400,
      code: 'file_parsing_failed',
      message: 'No valid rows',
      details: { a: 1 },
      requestId: 'req-1',
      retryAfter: null,
    });
    expect(e.validationErrors).toHaveLength(1);
  });

  it('names what has no envelope after its status, and no answer at all "network"', () => {
    expect(new ApiError(502, null, null)).toMatchObject({
      code: 'http_502',
      message: '',
      details: {},
      requestId: null,
    });
    expect(new ApiError(0, null, null).code).toBe('network');
    expect(new ApiError(429, { error: { code: 'rate_limited' } }, '7').retryAfter).toBe(7);
    expect(ApiError.network('offline')).toMatchObject({ status: 0, code: 'network', message: 'offline' });
    const thrown = toApiError(new TypeError('Failed to fetch'));
    expect(thrown).toBeInstanceOf(ApiError);
    expect(thrown).toMatchObject({ code: 'network', message: 'Failed to fetch' });
    const same = new ApiError(404, { error: { code: 'file_not_found' } }, null);
    expect(toApiError(same)).toBe(same);
  });

  it('turns a refused dry run into the error the real request would get', () => {
    const e = ApiError.fromVerdict({
      dryRun: true,
      verdict: 'refused',
      status: 402,
      error: { code: 'quota_exceeded', message: 'Too many items', details: { limit: 'maxItemsPerBatch' } },
    });
    expect(e).toMatchObject({ status: 402, code: 'quota_exceeded', message: 'Too many items' });
    expect(sentenceFor(e)).toBe('Your plan does not allow this batch (limit on items per batch).');
  });

  it('parses JSON, and gives null for an empty or broken body', () => {
    expect(parseJson('{"a":1}')).toEqual({ a: 1 });
    expect(parseJson('')).toBeNull();
    expect(parseJson('<html>')).toBeNull();
  });

  const sentence = (status: number, code: string, details: object = {}, retryAfter: string | null = null) =>
    sentenceFor(new ApiError(status, { error: { code, details } }, retryAfter));

  it('has a sentence for every error code the dashboard can meet', () => {
    expect(sentence(401, 'unauthorized')).toBe('This API key was not accepted. Check it and enter it again.');
    expect(sentence(402, 'quota_exceeded', { limit: 'batchEnabled' })).toBe(
      'Your plan does not include batch processing.',
    );
    expect(sentence(402, 'quota_exceeded', { limit: 'maxItemsPerMonth' })).toBe(
      'Your plan does not allow this batch (limit on items per month).',
    );
    expect(sentence(402, 'quota_exceeded', { limit: 'maxConcurrentBatches' })).toBe(
      'Your plan does not allow this batch (limit on batches in progress at once).',
    );
    expect(sentence(402, 'quota_exceeded', { limit: 'somethingNew' })).toBe('Your plan does not allow this batch.');
    expect(sentence(409, 'file_already_consumed', { batchId: 'b_9' })).toBe(
      'This upload was already used to create a batch (b_9). An upload creates one batch only: upload the file again to create another.',
    );
    expect(sentence(409, 'file_already_consumed')).toMatch(/^This upload was already used to create a batch\. /);
    expect(sentence(410, 'file_expired')).toBe(
      'This upload has expired and can no longer be used. Upload the file again.',
    );
    expect(sentence(415, 'unsupported_format')).toMatch(/^This kind of file cannot be read/);
    expect(sentence(429, 'rate_limited', {}, '30')).toBe(
      'Too many requests for your plan right now. Wait 30 seconds and try again.',
    );
    expect(sentence(429, 'rate_limited')).toBe(
      'Too many requests for your plan right now. Wait a moment and try again.',
    );
    expect(sentence(0, 'network')).toBe('batchgate could not be reached. Check your connection and try again.');
    expect(sentence(503, 'something_new')).toBe(
      'batchgate had a problem on its side (HTTP 503). Try again in a moment.',
    );
    expect(sentence(503, 'auth_unavailable')).toMatch(/^The identity provider cannot be reached/);
    expect(sentence(403, 'forbidden')).toMatch(/^This key's scopes do not allow this step/);
    expect(sentence(418, 'teapot')).toBe('The request failed (HTTP 418).');
    for (const code of [
      'file_not_found',
      'batch_not_found',
      'payload_too_large',
      'file_parsing_failed',
      'validation_error',
      'batch_finished',
      'idempotency_conflict',
      'idempotency_key_reused',
      'FILE_STORAGE_UNAVAILABLE',
    ]) {
      expect(sentence(400, code)).not.toMatch(/HTTP/);
    }
  });

  it('knows which failures are worth retrying and which need a new Idempotency-Key', () => {
    const e = (status: number, code: string) => new ApiError(status, { error: { code } }, null);
    expect(isTransient(e(0, 'network'))).toBe(true);
    expect(isTransient(e(429, 'rate_limited'))).toBe(true);
    expect(isTransient(e(503, 'FILE_STORAGE_UNAVAILABLE'))).toBe(true);
    expect(isTransient(e(402, 'quota_exceeded'))).toBe(false);
    // A definite refusal would be replayed for 24 hours under the same key (API.md, POST /v1/batch).
    expect(needsNewIdempotencyKey(e(402, 'quota_exceeded'))).toBe(true);
    expect(needsNewIdempotencyKey(e(429, 'rate_limited'))).toBe(true);
    // A lost answer or one still in flight: the same key replays the first answer.
    expect(needsNewIdempotencyKey(e(409, 'idempotency_conflict'))).toBe(false);
    expect(needsNewIdempotencyKey(e(0, 'network'))).toBe(false);
    expect(needsNewIdempotencyKey(e(500, 'internal_error'))).toBe(false);
  });
});

describe('dashboard api: requests', () => {
  it('builds the body of POST /v1/batch, leaving out a blank name', () => {
    expect(batchRequest({ fileId: 'f_1', name: '  January  ', dryRun: true })).toEqual({
      fileId: 'f_1',
      name: 'January',
      dryRun: true,
    });
    expect(batchRequest({ fileId: 'f_1', name: '   ' })).toEqual({ fileId: 'f_1' });
    expect(batchRequest({ fileId: 'f_1', name: undefined, dryRun: false })).toEqual({ fileId: 'f_1' });
  });

  it('builds the body of POST /v1/batch for several uploads with fileIds', () => {
    expect(batchRequest({ fileIds: ['f_1', 'f_2'], dryRun: true })).toEqual({ fileIds: ['f_1', 'f_2'], dryRun: true });
    expect(batchRequest({ fileIds: ['f_1', 'f_2'], name: ' Q1 ' })).toEqual({ fileIds: ['f_1', 'f_2'], name: 'Q1' });
  });

  it('names the routes of API.md, with ids escaped', () => {
    expect(routes.errors('f_a/b', 1000, 1000)).toBe('/v1/batch/upload/f_a%2Fb/errors?offset=1000&limit=1000');
    expect(routes.errorsCsv('f_1')).toBe('/v1/batch/upload/f_1/errors?format=csv');
    expect(routes.preview('f_1', 20)).toBe('/v1/batch/upload/f_1/preview?limit=20');
    expect(routes.batch('b_1')).toBe('/v1/batch/b_1');
    expect(routes.cancel('b_1')).toBe('/v1/batch/b_1/cancel');
    expect(routes.results('b_1')).toBe('/v1/batch/b_1/results');
    expect(routes.batches(10)).toBe('/v1/batches?limit=10');
  });

  it('sends the key, and a JSON Content-Type only with a body', () => {
    expect(requestInit('k1', 'GET', undefined, undefined)).toEqual({
      method: 'GET',
      headers: { Authorization: 'Bearer k1', Accept: 'application/json' },
      body: undefined,
      cache: 'no-store',
    });
    expect(requestInit('k1', 'POST', { fileId: 'f_1' }, { 'Idempotency-Key': 'x' })).toEqual({
      method: 'POST',
      headers: {
        Authorization: 'Bearer k1',
        Accept: 'application/json',
        'Content-Type': 'application/json',
        'Idempotency-Key': 'x',
      },
      body: '{"fileId":"f_1"}',
      cache: 'no-store',
    });
  });

  it('makes random Idempotency-Keys', () => {
    const a = randomKey();
    expect(a).toMatch(/^dashboard-[0-9a-f]{32}$/);
    expect(randomKey()).not.toBe(a);
  });

  it('sends with the key of the moment and resolves to the body', async () => {
    let key = 'first';
    const f = fakeFetch(json(200, { data: [] }), json(202, { id: 'b_1' }), new Response(null, { status: 204 }));
    const api = createApi(() => key, f.fn);
    await expect(api.send('GET', '/v1/batches?limit=10')).resolves.toEqual({ data: [] });
    key = 'second';
    await expect(api.send('POST', '/v1/batch', { fileId: 'f_1' })).resolves.toEqual({ id: 'b_1' });
    await expect(api.send('DELETE', '/v1/batch/upload/f_1')).resolves.toBeNull();
    expect(f.calls.map((c) => [c.path, (c.init.headers as Record<string, string>).Authorization])).toEqual([
      ['/v1/batches?limit=10', 'Bearer first'],
      ['/v1/batch', 'Bearer second'],
      ['/v1/batch/upload/f_1', 'Bearer second'],
    ]);
  });

  it('rejects with the envelope as an ApiError, Retry-After included', async () => {
    const f = fakeFetch(
      json(429, { error: { code: 'rate_limited', message: 'Slow down' }, requestId: 'r1' }, { 'Retry-After': '12' }),
      new Response('<html>bad gateway</html>', { status: 502 }),
    );
    const api = createApi(() => 'k', f.fn);
    await expect(api.send('GET', '/v1/batches')).rejects.toMatchObject({
      status: 429,
      code: 'rate_limited',
      message: 'Slow down',
      requestId: 'r1',
      retryAfter: 12,
    });
    await expect(api.send('GET', '/v1/batches')).rejects.toMatchObject({ status: 502, code: 'http_502' });
    // No answer at all (the fake's list is empty: it throws as fetch does offline).
    await expect(api.send('GET', '/v1/batches')).rejects.toMatchObject({ status: 0, code: 'network' });
  });

  it('fetches a download with the name the server gives it, else the fallback', async () => {
    const f = fakeFetch(
      new Response('a,b\n', {
        status: 200,
        headers: { 'Content-Disposition': 'attachment; filename="claims-rejected-rows.csv"' },
      }),
      new Response('{}\n', { status: 200 }),
    );
    const api = createApi(() => 'k', f.fn);
    const csv = await api.fetchFile('/v1/batch/upload/f_1/errors?format=csv', 'text/csv', 'rejected-rows.csv');
    expect(csv.filename).toBe('claims-rejected-rows.csv');
    await expect(csv.blob.text()).resolves.toBe('a,b\n');
    expect(f.calls[0].init.headers).toEqual({ Authorization: 'Bearer k', Accept: 'text/csv' });
    const ndjson = await api.fetchFile('/v1/batch/b_1/results', 'application/x-ndjson', 'batch-b_1-results.ndjson');
    expect(ndjson.filename).toBe('batch-b_1-results.ndjson');
    expect(filenameFrom('attachment; filename=plain.csv', 'x')).toBe('plain.csv');
    expect(filenameFrom(null, 'x')).toBe('x');
  });
});
