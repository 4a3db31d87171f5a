import { gzipSync } from 'node:zlib';
import { request as httpRequest } from 'node:http';
import { readdir, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { api, startApp, upload, type TestApp } from './support/app';

let t: TestApp;

beforeAll(async () => {
  t = await startApp();
});
afterAll(async () => {
  await t.close();
});

const CSV = 'content,externalId\r\nhello,1\r\n,2\r\n"multi\r\nline",3\r\n' + `${'x'.repeat(50001)},4\r\n`;

/** A hand-made multipart body, for shapes FormData will not produce. */
function rawPost(path: string, headers: Record<string, string>, body: Buffer): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      `${t.url}${path}`,
      { method: 'POST', headers: { ...headers, 'Content-Length': body.length } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString() || 'null') }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('POST /v1/batch/upload', () => {
  it('answers 200 with row-level warnings, spreadsheet row numbers and a fileId', async () => {
    const res = await upload(t, t.keys.pro, CSV, { name: 'claims.csv' });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBeTruthy();
    expect(res.body).toMatchObject({
      originalFileName: 'claims.csv',
      format: 'csv',
      schema: 'default',
      itemCount: 2,
      validationErrorCount: 2,
      validationErrorsTruncated: false,
      validationErrors: [
        { row: 3, line: 3, field: 'content', code: 'required', error: 'Content is empty, row skipped' },
        {
          row: 5,
          line: 6,
          field: 'content',
          code: 'maxLength',
          error: 'Content exceeds maximum length (50000 chars), row skipped',
        },
      ],
      errorSummary: [
        { field: 'content', code: 'required', count: 1 },
        { field: 'content', code: 'maxLength', count: 1 },
      ],
      parsing: { encoding: 'utf-8', bom: false, delimiter: ',', lineEnding: 'crlf', header: ['content', 'externalId'] },
      sizeBytes: Buffer.byteLength(CSV),
      message: 'File uploaded with 2 validation warning(s). Items with errors were skipped.',
    });
    expect(res.body.fileId).toMatch(/^f_[A-Za-z0-9_-]{22,}$/);
    expect(Date.parse(res.body.expiresAt) - Date.now()).toBeGreaterThan(3500 * 1000);
  });

  it('takes the form fields in any order around the file', async () => {
    const res = await upload(t, t.keys.pro, '[{"content":"a"}]', {
      name: 'upload.bin',
      fields: { format: 'json' },
      fieldsAfter: true,
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ format: 'json', itemCount: 1, message: 'File uploaded successfully' });
  });

  it('reads gzip and reports size and sha256 of the bytes as uploaded', async () => {
    const gz = gzipSync('{"content":"a"}\n{"content":"b"}\n');
    const res = await upload(t, t.keys.pro, gz, { name: 'rows.ndjson.gz' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ format: 'ndjson', itemCount: 2, sizeBytes: gz.length });
    const { createHash } = await import('node:crypto');
    expect(res.body.sha256).toBe(createHash('sha256').update(gz).digest('hex'));
  });

  it.each([
    ['no key', undefined, 401, 'unauthorized'],
    ['an unknown key', 'nope-nope-nope', 401, 'unauthorized'],
    ['the free plan', 'free', 402, 'quota_exceeded'],
  ])('refuses %s', async (_label, key, status, code) => {
    const k = key === 'free' ? t.keys.free : key;
    const res = await api(t, k, 'POST', '/v1/batch/upload', undefined, {
      'Content-Type': 'multipart/form-data; boundary=x',
    });
    expect(res.status).toBe(status);
    expect(res.body.error.code).toBe(code);
    expect(res.body.requestId).toBe(res.headers.get('x-request-id'));
    if (status === 402) expect(res.body.error.message).toBe('Batch processing is not available on the free plan.');
  });

  it('asks for the file field by name', async () => {
    const form = new FormData();
    form.append('upload', new Blob(['content\na\n']), 'a.csv');
    const res = await fetch(`${t.url}/v1/batch/upload`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${t.keys.pro}` },
      body: form,
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({
      error: { code: 'validation_error', message: 'File is required. Use form field name "file".' },
    });
  });

  it('answers 413 for a file over the plan limit, declared or streamed, and keeps nothing', async () => {
    const big = Buffer.alloc(10 * 1024 * 1024 + 10, 'a');
    const res = await upload(t, t.keys.pro, big, { name: 'big.csv' });
    expect(res.status).toBe(413);
    expect(res.body.error).toMatchObject({ code: 'payload_too_large', message: 'File size exceeds maximum of 10 MB' });
    // Streamed (no Content-Length): cut off at the limit while reading.
    const form = new FormData();
    form.append('file', new Blob([big]), 'big.csv');
    const r = new Request('http://x/', { method: 'POST', body: form });
    const streamed = await fetch(`${t.url}/v1/batch/upload`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${t.keys.pro}`, 'Content-Type': r.headers.get('content-type')! },
      body: r.body,
      duplex: 'half',
    });
    expect(streamed.status).toBe(413);
    expect(await readdir(join(t.storageDir, '.spool'))).toEqual([]);
  });

  it.each([
    ['an empty file', '', 'data.csv', 400, 'file_parsing_failed'],
    ['a header only', 'content\n', 'data.csv', 400, 'file_parsing_failed'],
    ['an unclosed quote', 'content\n"abc\n', 'data.csv', 400, 'file_parsing_failed'],
    ['malformed JSON', '[{"content":"a"},{"content":}]', 'data.json', 400, 'file_parsing_failed'],
    ['JSON that is not an array of objects', '{"content":"a"}', 'data.json', 400, 'file_parsing_failed'],
    ['an Excel file', Buffer.from([0x50, 0x4b, 3, 4, 0, 0, 0, 0]), 'data.xlsx', 415, 'unsupported_format'],
    ['binary bytes', Buffer.from([0, 1, 2, 3, 0, 0, 255, 0, 0, 1]), 'data.csv', 415, 'unsupported_format'],
    [
      'truncated gzip',
      gzipSync('content\n' + 'abc\n'.repeat(500)).subarray(0, 40),
      'data.csv.gz',
      400,
      'file_parsing_failed',
    ],
  ])('answers %s with a clear 4xx', async (_label, content, name, status, code) => {
    const res = await upload(t, t.keys.pro, content, { name });
    expect(res.status).toBe(status);
    expect(res.body.error.code).toBe(code);
    expect(res.body.error.message).toBeTruthy();
  });

  it('names the missing required column', async () => {
    const res = await upload(t, t.keys.pro, 'text\nabc\n');
    expect(res.status).toBe(400);
    expect(res.body.validationErrors).toEqual([
      { row: 1, line: 1, field: 'content', code: 'required', error: 'Missing required column: content' },
    ]);
  });

  it('answers a gzip bomb with 413 on the decompressed size', async () => {
    const bomb = gzipSync(Buffer.alloc(20 * 1024 * 1024));
    const res = await upload(t, t.keys.pro, bomb, { name: 'bomb.csv.gz' });
    expect(res.status).toBe(413);
  });

  it('refuses 2,000 tiny parts and a huge part header with 400', async () => {
    const boundary = 'bgtest';
    let body = '';
    for (let i = 0; i < 2000; i++) body += `--${boundary}\r\nContent-Disposition: form-data; name="f${i}"\r\n\r\nx\r\n`;
    body += `--${boundary}--\r\n`;
    const headers = {
      Authorization: `Bearer ${t.keys.pro}`,
      'Content-Type': `multipart/form-data; boundary=${boundary}`,
    };
    const many = await rawPost('/v1/batch/upload', headers, Buffer.from(body));
    expect(many.status).toBe(400);
    expect(many.body.error.code).toBe('validation_error');
    const huge = `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\nX-Big: ${'a'.repeat(200_000)}\r\n\r\ncontent\na\r\n--${boundary}--\r\n`;
    const big = await rawPost('/v1/batch/upload', headers, Buffer.from(huge));
    expect(big.status).toBe(400);
  });

  it('takes a relative path in the file name as the path, and refuses one that climbs out', async () => {
    const good = await upload(t, t.keys.pro, 'content\na\n', { name: 'reports/2026/jan.csv' });
    expect(good.status).toBe(200);
    expect(good.body).toMatchObject({ originalFileName: 'jan.csv', path: 'reports/2026/jan.csv', duplicateOf: null });
    const bad = await upload(t, t.keys.pro, 'content\na\n', { name: '../../etc/passwd.csv' });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ code: 'validation_error', details: { field: 'path' } });
    expect(bad.body.error.message).toMatch(/"path"/);
  });
});

describe('reading an upload', () => {
  let fileId: string;
  beforeAll(async () => {
    fileId = (await upload(t, t.keys.pro, CSV, { name: 'claims.csv' })).body.fileId;
  });

  it('GET answers the metadata without the error list, and another org gets 404', async () => {
    const res = await api(t, t.keys.pro, 'GET', `/v1/batch/upload/${fileId}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      fileId,
      status: 'available',
      itemCount: 2,
      validationErrorCount: 2,
      message: 'File uploaded with 2 validation warning(s). Items with errors were skipped.',
    });
    expect(res.body.validationErrors).toBeUndefined();
    const other = await api(t, t.keys.other, 'GET', `/v1/batch/upload/${fileId}`);
    expect(other.status).toBe(404);
    expect(other.body.error.code).toBe('file_not_found');
  });

  it('pages the full error list', async () => {
    const page = await api(t, t.keys.pro, 'GET', `/v1/batch/upload/${fileId}/errors?offset=1&limit=1`);
    expect(page.body).toEqual({
      data: [
        {
          row: 5,
          line: 6,
          field: 'content',
          code: 'maxLength',
          error: 'Content exceeds maximum length (50000 chars), row skipped',
        },
      ],
      meta: { offset: 1, limit: 1, count: 1, total: 2 },
    });
    expect((await api(t, t.keys.pro, 'GET', `/v1/batch/upload/${fileId}/errors?limit=abc`)).status).toBe(400);
  });

  it('downloads the rejected rows as a fixable CSV with formula cells neutralised', async () => {
    const id = (await upload(t, t.keys.pro, 'content,externalId\n,=HYPERLINK("x")\nok,1\n')).body.fileId;
    const res = await api(t, t.keys.pro, 'GET', `/v1/batch/upload/${id}/errors`, undefined, { Accept: 'text/csv' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(res.text).toBe(
      `content,externalId,_row,_field,_code,_error\r\n,"'=HYPERLINK(""x"")",2,content,required,"Content is empty, row skipped"\r\n`,
    );
  });

  it('previews the first valid items after coercion', async () => {
    const res = await api(t, t.keys.pro, 'GET', `/v1/batch/upload/${fileId}/preview?limit=1`);
    expect(res.body.items).toEqual([{ row: 2, item: { content: 'hello', externalId: '1' } }]);
    expect((await api(t, t.keys.pro, 'GET', `/v1/batch/upload/${fileId}/preview?limit=101`)).status).toBe(400);
  });

  it('DELETE discards it: 204, then 404', async () => {
    const id = (await upload(t, t.keys.pro, 'content\na\n')).body.fileId;
    expect((await api(t, t.keys.other, 'DELETE', `/v1/batch/upload/${id}`)).status).toBe(404);
    expect((await api(t, t.keys.pro, 'DELETE', `/v1/batch/upload/${id}`)).status).toBe(204);
    const after = await api(t, t.keys.pro, 'GET', `/v1/batch/upload/${id}`);
    expect(after.status).toBe(404);
    expect(after.body.error.code).toBe('file_not_found');
  });
});

describe('expiry', () => {
  it('answers 410 once the fileId expired, and 404 for one never issued', async () => {
    const short = await startApp({ FILE_TTL_SECONDS: '1' });
    try {
      const id = (await upload(short, short.keys.pro, 'content\na\n')).body.fileId;
      await new Promise((r) => setTimeout(r, 1500));
      const res = await api(short, short.keys.pro, 'GET', `/v1/batch/upload/${id}`);
      expect(res.status).toBe(410);
      expect(res.body.error.code).toBe('file_expired');
      expect((await api(short, short.keys.pro, 'GET', '/v1/batch/upload/f_AAAAAAAAAAAAAAAAAAAAAA')).status).toBe(404);
    } finally {
      await short.close();
    }
  });
});

describe('storage that vanishes', () => {
  it('answers 503 (never 500) and /ready names storage, until the volume is back', async () => {
    const app = await startApp();
    const moved = `${app.storageDir}.moved`;
    try {
      const id = (await upload(app, app.keys.pro, 'content\n,x\na\n')).body.fileId;
      await rename(app.storageDir, moved);
      for (const path of [
        `/v1/batch/upload/${id}/errors`,
        `/v1/batch/upload/${id}/preview`,
        `/v1/batch/upload/${id}/errors?format=csv`,
      ]) {
        const res = await api(app, app.keys.pro, 'GET', path);
        expect(res.status).toBe(503);
        expect(res.body.error.code).toBe('FILE_STORAGE_UNAVAILABLE');
      }
      const up = await upload(app, app.keys.pro, 'content\na\n');
      expect(up.status).toBe(503);
      expect(up.headers.get('retry-after')).toBeTruthy();
      const ready = await api(app, undefined, 'GET', '/ready');
      expect(ready.status).toBe(503);
      expect(ready.body.error.details.checks).toMatchObject({ storage: 'down', redis: 'up' });
      await rename(moved, app.storageDir);
      expect((await api(app, undefined, 'GET', '/ready')).status).toBe(200);
      expect((await upload(app, app.keys.pro, 'content\na\n')).status).toBe(200);
    } finally {
      await rename(moved, app.storageDir).catch(() => undefined);
      await app.close();
    }
  });
});

describe('storage switched off', () => {
  it('answers 503 FILE_STORAGE_UNAVAILABLE with the contract message', async () => {
    const none = await startApp({ STORAGE_DRIVER: 'none' });
    try {
      const res = await upload(none, none.keys.pro, 'content\na\n');
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBeTruthy();
      expect(res.body.error).toEqual({
        code: 'FILE_STORAGE_UNAVAILABLE',
        message: 'File upload is not configured. Please use direct JSON items array instead.',
      });
    } finally {
      await none.close();
    }
  });
});

describe('rejected rows that are not objects', () => {
  it('keeps their values in the CSV download', async () => {
    const t2 = await startApp();
    try {
      const id = (await upload(t2, t2.keys.pro, '[1, "two", {"content":"ok"}, [3]]', { name: 'x.json' })).body.fileId;
      const res = await api(t2, t2.keys.pro, 'GET', `/v1/batch/upload/${id}/errors?format=csv`);
      expect(res.text.split('\r\n')).toEqual([
        'value,_row,_field,_code,_error',
        '1,1,,type,"Row is not an object, row skipped"',
        'two,2,,type,"Row is not an object, row skipped"',
        '[3],4,,type,"Row is not an object, row skipped"',
        '',
      ]);
    } finally {
      await t2.close();
    }
  });
});
