/**
 * Edge cases of POST /v1/batch/upload over real HTTP, against the contract in API.md ("Uploads" and
 * the error table): bad inputs answer a clear 4xx, encodings, CSV dialects, detection order, custom
 * schemas, the error-list caps and their CSV download, Redis down, and X-Request-Id.
 * test/uploads.e2e-spec.ts has the happy paths; this file does not repeat them.
 */
import { parse as parseCsv } from 'csv-parse/sync';
import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { api, startApp, testRedisUrl, upload, type TestApp, type UploadOptions } from './support/app';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { findFreePort } = require('../scripts/private-redis') as { findFreePort(): Promise<number> };

// A hang is a failure too: no single test here should need more than a few seconds.
jest.setTimeout(15_000);

let t: TestApp;

/**
 * startApp() resolves as soon as the app listens, which can be before its Redis connection is ready
 * (see the 'startup' test below); as a load balancer would, wait for /ready before sending traffic.
 */
async function startReadyApp(env: Record<string, string> = {}): Promise<TestApp> {
  const app = await startApp(env);
  await waitFor('/ready', async () => (await api(app, undefined, 'GET', '/ready')).status === 200);
  return app;
}

beforeAll(async () => {
  t = await startReadyApp();
});
afterAll(async () => {
  await t.close();
});

interface Res {
  status: number;
  body: any;
  headers: Headers;
}

function up(content: string | Buffer, opts: UploadOptions = {}): Promise<Res> {
  return upload(t, t.keys.pro, content, opts);
}

/** A multipart body FormData builds, sent as is (for shapes the upload() helper will not make). */
async function postForm(app: TestApp, form: FormData, headers: Record<string, string> = {}): Promise<Res> {
  const res = await fetch(`${app.url}/v1/batch/upload`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${app.keys.pro}`, ...headers },
    body: form,
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as unknown) : undefined, headers: res.headers };
}

async function previewItems(app: TestApp, fileId: string): Promise<{ row: number; item: Record<string, unknown> }[]> {
  const res = await api(app, app.keys.pro, 'GET', `/v1/batch/upload/${fileId}/preview?limit=100`);
  expect(res.status).toBe(200);
  return res.body.items;
}

function expectError(res: Res, status: number, code: string): void {
  expect({ status: res.status, code: res.body?.error?.code }).toEqual({ status, code });
  expect(typeof res.body.error.message).toBe('string');
  expect(res.body.error.message.length).toBeGreaterThan(0);
  expect(res.body.requestId).toBe(res.headers.get('x-request-id'));
}

/** Every regular file under `dir`, as paths relative to it. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

async function waitFor(what: string, check: () => Promise<boolean>, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A TCP proxy to the test Redis that holds every new connection for `delayMs`: a slow but reachable Redis. */
async function slowRedisProxy(delayMs: number): Promise<{ url: string; close(): Promise<void> }> {
  const target = new URL(testRedisUrl());
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    sockets.add(client);
    client.pause();
    client.on('error', () => undefined);
    client.on('close', () => sockets.delete(client));
    const timer = setTimeout(() => {
      const upstream = connect(Number(target.port), target.hostname);
      sockets.add(upstream);
      upstream.on('error', () => client.destroy());
      upstream.on('close', () => {
        sockets.delete(upstream);
        client.destroy();
      });
      client.on('close', () => upstream.destroy());
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
    }, delayMs);
    client.on('close', () => clearTimeout(timer));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `redis://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

const EMPTY = 'Content is empty, row skipped';

describe('bad inputs answer a clear 4xx', () => {
  it('a file without a header row (first line is data) names the missing column', async () => {
    const res = await up('Hello there,42\r\nSecond message,43\r\n', { name: 'no-header.csv' });
    expectError(res, 400, 'file_parsing_failed');
    expect(res.body.error.message).toBe('Missing required column: content');
    expect(res.body.validationErrors).toEqual([
      { row: 1, line: 1, field: 'content', code: 'required', error: 'Missing required column: content' },
    ]);
  });

  it('skips rows with extra cells as `parse` errors and reads short rows', async () => {
    const res = await up('content,externalId\na,1,extra\nb\nc,2\n', { name: 'ragged.csv' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ itemCount: 2, validationErrorCount: 1 });
    expect(res.body.validationErrors).toHaveLength(1);
    expect(res.body.validationErrors[0]).toMatchObject({ row: 2, line: 2, code: 'parse' });
    expect(res.body.validationErrors[0].field).toBeUndefined();
    expect(res.body.errorSummary).toEqual([{ code: 'parse', count: 1 }]);
    expect(await previewItems(t, res.body.fileId)).toEqual([
      { row: 3, item: { content: 'b' } },
      { row: 4, item: { content: 'c', externalId: '2' } },
    ]);
  });

  it.each([
    ['quoted', (cell: string) => `"${cell}"`],
    ['unquoted', (cell: string) => cell],
  ])('refuses a 5 MB %s CSV cell over the 1 MiB record size with the row number', async (_label, wrap) => {
    const cell = 'x'.repeat(5 * 1024 * 1024);
    const res = await up(`content,externalId\r\nfirst,1\r\n${wrap(cell)},2\r\nlast,3\r\n`, { name: 'huge-cell.csv' });
    expectError(res, 400, 'file_parsing_failed');
    expect(res.body.validationErrors).toHaveLength(1);
    expect(res.body.validationErrors[0]).toMatchObject({ row: 3, line: 3, code: 'parse' });
    expect(res.body.error.message).toMatch(/\brow 3\b/i);
  });

  it.each([
    ['garbage at the start', 'x[{"content":"a"}]', undefined],
    ['a broken element in the middle', '[{"content":"a"},{"content" "b"},{"content":"c"}]', 2],
    ['a document cut off at the end', '[{"content":"a"},{"conte', 2],
    ['a missing closing bracket', '[{"content":"a"},{"content":"b"}', undefined],
    ['a trailing comma', '[{"content":"a"},{"content":"b"},]', undefined],
    ['an unterminated string', '[{"content":"a"},{"content":"b}]', 2],
  ])('refuses malformed JSON: %s', async (_label, json, row) => {
    const res = await up(json, { name: 'bad.json' });
    expectError(res, 400, 'file_parsing_failed');
    expect(Array.isArray(res.body.validationErrors)).toBe(true);
    if (row !== undefined) expect(res.body.validationErrors[0]).toMatchObject({ row, code: 'parse' });
  });

  it.each([
    ['numbers', '[1, 2, 3]', 'data.json', 3],
    ['strings', '["a", "b"]', 'data.json', 2],
    ['NDJSON numbers and strings', '1\n"two"\n3\n', 'data.ndjson', 3],
  ])('refuses JSON of %s: every row is not an object, none is valid', async (_label, content, name, n) => {
    const res = await up(content, { name });
    expectError(res, 400, 'file_parsing_failed');
    expect(res.body.validationErrorCount).toBe(n);
    expect(res.body.validationErrors).toMatchObject(
      Array.from({ length: n }, (_, i) => ({ row: i + 1, code: 'type', error: 'Row is not an object, row skipped' })),
    );
    for (const e of res.body.validationErrors) expect(e.field).toBeUndefined();
  });

  it('accepts NDJSON with one bad line and reports it on its line number', async () => {
    const ndjson = '{"content":"a"}\n{"content":"b"}\n{"content": oops}\n\n{"content":"e"}\n';
    const res = await up(ndjson, { name: 'rows.ndjson' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ format: 'ndjson', itemCount: 3, validationErrorCount: 1 });
    expect(res.body.validationErrors).toHaveLength(1);
    expect(res.body.validationErrors[0]).toMatchObject({ row: 3, line: 3, code: 'parse' });
    expect((await previewItems(t, res.body.fileId)).map((i) => i.row)).toEqual([1, 2, 5]);
  });

  it('asks for the file when the form has only text fields, or is not multipart at all', async () => {
    const form = new FormData();
    form.append('schema', 'default');
    form.append('format', 'csv');
    const onlyFields = await postForm(t, form);
    expectError(onlyFields, 400, 'validation_error');
    expect(onlyFields.body.error.message).toBe('File is required. Use form field name "file".');

    const json = await api(t, t.keys.pro, 'POST', '/v1/batch/upload', { file: 'content\na\n' });
    expect(json.status).toBe(400);
    expect(json.body.error).toMatchObject({
      code: 'validation_error',
      message: 'File is required. Use form field name "file".',
    });
  });

  it('asks for the file when `file` is sent as a text field, and refuses a multipart body cut short', async () => {
    const boundary = 'bgfield';
    const send = (body: string) =>
      api(t, t.keys.pro, 'POST', '/v1/batch/upload', body, {
        'Content-Type': `multipart/form-data; boundary=${boundary}`,
      });
    const asField = await send(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"\r\n\r\ncontent\na\r\n--${boundary}--\r\n`,
    );
    expect(asField.status).toBe(400);
    expect(asField.body.error).toMatchObject({
      code: 'validation_error',
      message: 'File is required. Use form field name "file".',
    });
    const cut = await send(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\ncontent\na\r\n`,
    );
    expect(cut.status).toBe(400);
    expect(cut.body.error.code).toBe('validation_error');
    // Not left behind. It may outlive the answer by a moment: multer reports the cut body before the
    // spool pipeline has removed its file.
    await waitFor('an empty spool', async () => (await readdir(join(t.storageDir, '.spool'))).length === 0);
  });

  it('refuses a form field given twice with 400 validation_error', async () => {
    const form = new FormData();
    form.append('format', 'csv');
    form.append('format', 'json');
    form.append('file', new Blob(['content\na\n']), 'a.csv');
    expectError(await postForm(t, form), 400, 'validation_error');
  });

  it('takes a second `file` part as a second file, and keeps no spool file', async () => {
    const form = new FormData();
    form.append('file', new Blob(['content\na\n']), 'one.csv');
    form.append('file', new Blob(['content\nb\n']), 'two.csv');
    const res = await postForm(t, form);
    expect(res.status).toBe(200);
    expect(res.body.files.map((f: { originalFileName: string }) => f.originalFileName)).toEqual(['one.csv', 'two.csv']);
    expect(res.body.message).toBe('2 files: 2 uploaded, 0 refused.');
    await waitFor('an empty spool', async () => (await readdir(join(t.storageDir, '.spool'))).length === 0);
  });

  it('cleans up after a client that disconnects halfway through the body, and keeps serving', async () => {
    const spool = join(t.storageDir, '.spool');
    const before = await filesUnder(t.storageDir);
    const boundary = `bg${randomBytes(8).toString('hex')}`;
    const head = Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="half.csv"\r\n` +
        'Content-Type: text/csv\r\n\r\ncontent,externalId\r\n',
    );
    const half = Buffer.from('some text,1\r\n'.repeat(40_000)); // ~520 KB of a declared 2 MB
    let answered: number | undefined;
    const req = httpRequest(`${t.url}/v1/batch/upload`, {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${t.keys.pro}`,
        'Content-Type': `multipart/form-data; boundary=${boundary}`,
        'Content-Length': 2 * 1024 * 1024,
      },
    });
    req.on('response', (res) => {
      answered = res.statusCode;
      res.resume();
    });
    req.on('error', () => undefined); // the socket is destroyed on purpose
    req.write(head);
    req.write(half);
    // Halfway for real: the app has spooled a good part of what was sent.
    await waitFor('the spool file to fill', async () => {
      const names = await readdir(spool);
      if (names.length !== 1) return false;
      const info = await stat(join(spool, names[0])).catch(() => undefined);
      return (info?.size ?? 0) >= 256 * 1024;
    });
    req.destroy();

    await waitFor('the spool to empty', async () => (await readdir(spool)).length === 0);
    await new Promise((r) => setTimeout(r, 200));
    expect(await readdir(spool)).toEqual([]);
    expect(await filesUnder(t.storageDir)).toEqual(before);
    expect(answered).toBeUndefined();

    const health = await api(t, undefined, 'GET', '/health');
    expect(health.status).toBe(200);
    const after = await up('content\nstill here\n');
    expect(after.status).toBe(200);
  });
});

describe('encodings', () => {
  it('ignores a UTF-8 BOM and reports it', async () => {
    const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('content,externalId\nhéllo,1\n')]);
    const res = await up(bytes, { name: 'bom.csv' });
    expect(res.status).toBe(200);
    expect(res.body.parsing).toMatchObject({ encoding: 'utf-8', bom: true, header: ['content', 'externalId'] });
    expect(await previewItems(t, res.body.fileId)).toEqual([{ row: 2, item: { content: 'héllo', externalId: '1' } }]);
  });

  it.each([
    ['utf-16le', [0xff, 0xfe], (text: string) => Buffer.from(text, 'utf16le')],
    ['utf-16be', [0xfe, 0xff], (text: string) => Buffer.from(text, 'utf16le').swap16()],
  ])('reads %s with a BOM', async (encoding, bom, encode) => {
    const bytes = Buffer.concat([Buffer.from(bom), encode('content,externalId\r\nnaïve ☃,1\r\n')]);
    const res = await up(bytes, { name: 'utf16.csv' });
    expect(res.status).toBe(200);
    expect(res.body.parsing).toMatchObject({
      encoding,
      bom: true,
      lineEnding: 'crlf',
      header: ['content', 'externalId'],
    });
    expect(await previewItems(t, res.body.fileId)).toEqual([{ row: 2, item: { content: 'naïve ☃', externalId: '1' } }]);
  });

  it('reads a file that is not valid UTF-8 as windows-1252 (0xE9 is é, 0x80 is €)', async () => {
    const bytes = Buffer.concat([
      Buffer.from('content,externalId\ncaf'),
      Buffer.from([0xe9]),
      Buffer.from(','),
      Buffer.from([0x80]),
      Buffer.from('1\n'),
    ]);
    const res = await up(bytes, { name: 'latin.csv' });
    expect(res.status).toBe(200);
    expect(res.body.parsing).toMatchObject({ encoding: 'windows-1252', bom: false });
    expect(await previewItems(t, res.body.fileId)).toEqual([{ row: 2, item: { content: 'café', externalId: '€1' } }]);
  });

  it('lets the `encoding` field override detection', async () => {
    // Valid UTF-8 read as windows-1252 on request: é (C3 A9) becomes Ã©.
    const mojibake = await up('content\ncafé\n', { name: 'a.csv', fields: { encoding: 'windows-1252' } });
    expect(mojibake.status).toBe(200);
    expect(mojibake.body.parsing.encoding).toBe('windows-1252');
    expect(await previewItems(t, mojibake.body.fileId)).toEqual([{ row: 2, item: { content: 'cafÃ©' } }]);

    // UTF-16LE without a BOM looks like binary until the client says what it is.
    const utf16 = Buffer.from('content\r\nnaïve\r\n', 'utf16le');
    const said = await up(utf16, { name: 'b.csv', fields: { encoding: 'utf-16le' }, fieldsAfter: true });
    expect(said.status).toBe(200);
    expect(said.body.parsing).toMatchObject({ encoding: 'utf-16le', bom: false });
    expect(await previewItems(t, said.body.fileId)).toEqual([{ row: 2, item: { content: 'naïve' } }]);
  });

  it('reads the whole file again as windows-1252 when the first bad byte comes late, counting rows once', async () => {
    const rows = ['content,externalId'];
    for (let i = 0; i < 8000; i++) rows.push(i === 3 ? ',blank' : `row number ${i},${i}`);
    const bytes = Buffer.concat([Buffer.from(`${rows.join('\n')}\ncaf`), Buffer.from([0xe9]), Buffer.from(',late\n')]);
    expect(bytes.length).toBeGreaterThan(128 * 1024); // past the first read and the format sniffing
    const res = await up(bytes, { name: 'late.csv' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ itemCount: 8000, validationErrorCount: 1, sizeBytes: bytes.length });
    expect(res.body.parsing).toMatchObject({ encoding: 'windows-1252', bom: false });
    expect(res.body.validationErrors).toEqual([{ row: 5, line: 5, field: 'content', code: 'required', error: EMPTY }]);
    const errors = await api(t, t.keys.pro, 'GET', `/v1/batch/upload/${res.body.fileId}/errors`);
    expect(errors.body.meta.total).toBe(1);
    expect(errors.body.data).toEqual(res.body.validationErrors);
    const items = await previewItems(t, res.body.fileId);
    expect(items.slice(0, 4).map((i) => i.row)).toEqual([2, 3, 4, 6]);
  });

  it('honours `encoding: utf-8` on bytes that are not UTF-8 instead of switching to windows-1252', async () => {
    const bytes = Buffer.concat([Buffer.from('content\ncaf'), Buffer.from([0xe9]), Buffer.from('\n')]);
    const res = await up(bytes, { name: 'a.csv', fields: { encoding: 'utf-8' } });
    // Read as UTF-8 (the bad byte replaced), or refused as not UTF-8: either honours the override.
    if (res.status === 200) expect(res.body.parsing.encoding).toBe('utf-8');
    else expectError(res, 400, 'file_parsing_failed');
  });

  it('refuses an unknown `encoding` with 400 validation_error', async () => {
    const res = await up('content\na\n', { fields: { encoding: 'ebcdic' } });
    expectError(res, 400, 'validation_error');
  });
});

describe('CSV dialects', () => {
  it.each([
    [';', 'content;externalId\nhello, world;1\n'],
    ['\t', 'content\texternalId\nhello, world\t1\n'],
    ['|', 'content|externalId\nhello, world|1\n'],
  ])('detects the %j delimiter from the header line', async (delimiter, csv) => {
    const res = await up(csv, { name: 'd.csv' });
    expect(res.status).toBe(200);
    expect(res.body.parsing).toMatchObject({ delimiter, header: ['content', 'externalId'] });
    expect(await previewItems(t, res.body.fileId)).toEqual([
      { row: 2, item: { content: 'hello, world', externalId: '1' } },
    ]);
  });

  it.each([
    ['lf', '\n'],
    ['crlf', '\r\n'],
  ])('reports %s line endings and numbers rows the same', async (lineEnding, eol) => {
    const res = await up(['content,externalId', 'a,1', ',2', 'c,3', ''].join(eol), { name: 'e.csv' });
    expect(res.status).toBe(200);
    expect(res.body.parsing).toMatchObject({ lineEnding, delimiter: ',' });
    expect(res.body.validationErrors).toEqual([{ row: 3, line: 3, field: 'content', code: 'required', error: EMPTY }]);
  });

  it('reads quoted delimiters, quotes and newlines: one row per record, `line` where it starts', async () => {
    const csv = [
      'content,externalId', // row 1, line 1
      '"a, ""quoted""', // row 2, lines 2-3
      'second line",1',
      ',2', // row 3, line 4
      '"  ', // row 4, lines 5-7: blank after trimming
      '',
      '  ",3',
      '"x;y|z",4', // row 5, line 8
      '',
    ].join('\n');
    const res = await up(csv, { name: 'q.csv' });
    expect(res.status).toBe(200);
    expect(res.body.itemCount).toBe(2);
    expect(res.body.validationErrors).toEqual([
      { row: 3, line: 4, field: 'content', code: 'required', error: EMPTY },
      { row: 4, line: 5, field: 'content', code: 'required', error: EMPTY },
    ]);
    expect(await previewItems(t, res.body.fileId)).toEqual([
      { row: 2, item: { content: 'a, "quoted"\nsecond line', externalId: '1' } },
      { row: 5, item: { content: 'x;y|z', externalId: '4' } },
    ]);
  });

  it('matches headers trimmed and case-insensitively, and reports them as the file has them', async () => {
    const res = await up(' CONTENT ,ExternalID\r\nhello,42\r\n', { name: 'h.csv' });
    expect(res.status).toBe(200);
    expect(res.body.parsing.header).toEqual([' CONTENT ', 'ExternalID']);
    expect(await previewItems(t, res.body.fileId)).toEqual([{ row: 2, item: { content: 'hello', externalId: '42' } }]);
  });

  it.each([
    ['the same spelling', 'content,externalId,content\na,1,b\n'],
    ['another case and spaces', 'content,externalId, ExternalID \na,1,2\n'],
  ])('refuses a duplicate header (%s) with 400 file_parsing_failed', async (_label, csv) => {
    const res = await up(csv, { name: 'dup.csv' });
    expectError(res, 400, 'file_parsing_failed');
    expect(res.body.validationErrors).toHaveLength(1);
    expect(res.body.validationErrors[0]).toMatchObject({ row: 1, line: 1 });
  });

  it('keeps `007` as the text "007" where the schema says string, and extra columns as given', async () => {
    const res = await up('content,externalId,zip\n007,007,00501\n', { name: 'z.csv' });
    expect(res.status).toBe(200);
    expect(await previewItems(t, res.body.fileId)).toEqual([
      { row: 2, item: { content: '007', externalId: '007', zip: '00501' } },
    ]);
  });
});

describe('JSON shapes and format detection', () => {
  it('reads an object with an `items` array, element 1 being row 1', async () => {
    const json = JSON.stringify({
      source: 'crm',
      nested: { items: 'not these' },
      items: [{ content: 'a' }, { content: '' }, { content: 'c', metadata: { k: [1, ']'] } }],
      count: 3,
    });
    const res = await up(json, { name: 'wrapped.json' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ format: 'json', itemCount: 2, validationErrorCount: 1 });
    expect(res.body.validationErrors).toMatchObject([{ row: 2, field: 'content', code: 'required', error: EMPTY }]);
    expect((await previewItems(t, res.body.fileId)).map((i) => i.row)).toEqual([1, 3]);
  });

  it('lets the `format` field beat the file name extension', async () => {
    const res = await up('{"content":"a"}\n{"content":"b"}\n', { name: 'data.csv', fields: { format: 'ndjson' } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ format: 'ndjson', itemCount: 2 });
  });

  it('lets the extension beat the content type', async () => {
    const res = await up('[{"content":"a"}]', { name: 'rows.json', type: 'text/csv' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ format: 'json', itemCount: 1 });
  });

  it('lets the content type beat content sniffing', async () => {
    // One object per line with an `items` array: sniffing says JSON (2 items), the content type NDJSON (1).
    const doc = '{"content":"whole","items":[{"content":"a"},{"content":"b"}]}\n';
    const typed = await up(doc, { name: 'export', type: 'application/x-ndjson' });
    expect(typed.status).toBe(200);
    expect(typed.body).toMatchObject({ format: 'ndjson', itemCount: 1 });
    const sniffed = await up(doc, { name: 'export' });
    expect(sniffed.status).toBe(200);
    expect(sniffed.body).toMatchObject({ format: 'json', itemCount: 2 });
  });

  it.each([
    ['json', '[{"content":"a"},{"content":"b"}]'],
    ['ndjson', '{"content":"a"}\n{"content":"b"}\n'],
    ['csv', 'content,externalId\na,1\nb,2\n'],
  ])('sniffs %s from the content when the name has no extension', async (format, content) => {
    const res = await up(content, { name: 'export' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ format, itemCount: 2 });
  });

  it.each([
    ['format', 'xml'],
    ['schema', 'no-such-schema'],
  ])('refuses an unknown `%s` (%s) with 400 validation_error', async (fieldName, value) => {
    const res = await up('content\na\n', { fields: { [fieldName]: value } });
    expectError(res, 400, 'validation_error');
  });
});

describe('custom schemas (SCHEMAS_DIR)', () => {
  let custom: TestApp;
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'batchgate-schemas-'));
    await writeFile(
      join(dir, 'orders.json'),
      JSON.stringify({
        type: 'object',
        required: ['sku', 'qty'],
        properties: {
          sku: { type: 'string' },
          qty: { type: 'integer', minimum: 1 },
          price: { type: 'number' },
          gift: { type: 'boolean' },
          status: { type: 'string', enum: ['new', 'paid', 'shipped'] },
          email: { type: 'string', format: 'email' },
          zip: { type: 'string' },
        },
      }),
    );
    custom = await startReadyApp({ SCHEMAS_DIR: dir });
  });
  afterAll(async () => {
    await custom?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('coerces CSV cells to integer, number and boolean only, and words each rule', async () => {
    const csv = [
      'sku,qty,price,gift,status,email,zip',
      '00123,007,-1.5e2,TRUE,new,a@example.com,007', // row 2: valid
      'A2,2.5,1,false,paid,,', // row 3: qty not whole
      'A3,0,1,false,paid,,', // row 4: qty below minimum
      'A4,1,abc,false,paid,,', // row 5: price not a number
      'A5,1,1,yes,paid,,', // row 6: gift not boolean
      'A6,1,1,false,lost,,', // row 7: status not in enum
      'A7,1,1,false,paid,not-an-email,', // row 8: bad email
      'A8,,1,false,paid,,', // row 9: qty missing
      'A9,3,0.5,False,shipped,b@example.org,', // row 10: valid
      '',
    ].join('\r\n');
    const res = await upload(custom, custom.keys.pro, csv, { name: 'orders.csv', fields: { schema: 'orders' } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ schema: 'orders', itemCount: 2, validationErrorCount: 7 });
    expect(res.body.validationErrors).toEqual([
      { row: 3, line: 3, field: 'qty', code: 'type', error: 'Qty must be a whole number, row skipped' },
      { row: 4, line: 4, field: 'qty', code: 'minimum', error: 'Qty must be at least 1, row skipped' },
      { row: 5, line: 5, field: 'price', code: 'type', error: 'Price must be a number, row skipped' },
      { row: 6, line: 6, field: 'gift', code: 'type', error: 'Gift must be true or false, row skipped' },
      {
        row: 7,
        line: 7,
        field: 'status',
        code: 'enum',
        error: 'Status must be one of: new, paid, shipped, row skipped',
      },
      { row: 8, line: 8, field: 'email', code: 'format', error: 'Email is not a valid email, row skipped' },
      { row: 9, line: 9, field: 'qty', code: 'required', error: 'Qty is empty, row skipped' },
    ]);
    expect(await previewItems(custom, res.body.fileId)).toEqual([
      {
        row: 2,
        item: { sku: '00123', qty: 7, price: -150, gift: true, status: 'new', email: 'a@example.com', zip: '007' },
      },
      { row: 10, item: { sku: 'A9', qty: 3, price: 0.5, gift: false, status: 'shipped', email: 'b@example.org' } },
    ]);
  });

  it('does not coerce JSON values: a string where the schema says integer is a `type` error', async () => {
    const res = await upload(custom, custom.keys.pro, '[{"sku":"A","qty":"3"},{"sku":"B","qty":3,"gift":true}]', {
      name: 'orders.json',
      fields: { schema: 'orders' },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ itemCount: 1, validationErrorCount: 1 });
    expect(res.body.validationErrors).toMatchObject([
      { row: 1, field: 'qty', code: 'type', error: 'Qty must be a whole number, row skipped' },
    ]);
  });

  it('still knows the default schema and refuses an unknown one', async () => {
    expect((await upload(custom, custom.keys.pro, 'content\na\n')).body.schema).toBe('default');
    const res = await upload(custom, custom.keys.pro, 'content\na\n', { fields: { schema: 'Orders2' } });
    expectError(res, 400, 'validation_error');
  });
});

describe('error list caps and the rejected-rows download', () => {
  const FORMULAS = ['=SUM(A1:A9)', '+1', '-2', '@cmd', 'plain'];
  const longId = 'i'.repeat(257);
  const expected: any[] = [];
  /** The file's own cells of each rejected row, as the download must give them back. */
  const rejectedCells: string[][] = [];
  let csv = 'content,externalId,note\n';
  let fileId: string;
  let uploaded: any;

  beforeAll(async () => {
    let row = 1;
    let bad = 0;
    for (let k = 0; bad < 250; k++) {
      row++;
      if (k % 6 === 5) {
        csv += `good ${k},g${k},fine\n`;
        continue;
      }
      const note = FORMULAS[bad % FORMULAS.length];
      if (bad % 5 === 3) {
        const cells = [`=ragged${bad}`, `r${bad}`, note, 'extra'];
        csv += `${cells.join(',')}\n`;
        rejectedCells.push(cells.slice(0, 3));
        expected.push({ row, line: row, code: 'parse', error: expect.stringMatching(/, row skipped$/) });
      } else if (bad % 5 === 4) {
        csv += `long ${bad},${longId},${note}\n`;
        rejectedCells.push([`long ${bad}`, longId, note]);
        expected.push({
          row,
          line: row,
          field: 'externalId',
          code: 'maxLength',
          error: 'ExternalId exceeds maximum length (256 chars), row skipped',
        });
      } else {
        csv += `,-id${bad},${note}\n`;
        rejectedCells.push(['', `-id${bad}`, note]);
        expected.push({ row, line: row, field: 'content', code: 'required', error: EMPTY });
      }
      bad++;
    }
    const res = await up(csv, { name: 'many-errors.csv' });
    expect(res.status).toBe(200);
    uploaded = res.body;
    fileId = res.body.fileId;
  });

  it('lists the first 100 in row order and counts all 250 exactly', async () => {
    expect(uploaded).toMatchObject({
      itemCount: 49,
      validationErrorCount: 250,
      validationErrorsTruncated: true,
      message: 'File uploaded with 250 validation warning(s). Items with errors were skipped.',
    });
    expect(uploaded.validationErrors).toEqual(expected.slice(0, 100));
    expect(uploaded.errorSummary).toHaveLength(3);
    expect(uploaded.errorSummary).toEqual(
      expect.arrayContaining([
        { field: 'content', code: 'required', count: 150 },
        { code: 'parse', count: 50 },
        { field: 'externalId', code: 'maxLength', count: 50 },
      ]),
    );
    const view = await api(t, t.keys.pro, 'GET', `/v1/batch/upload/${fileId}`);
    expect(view.status).toBe(200);
    expect(view.body).toMatchObject({ validationErrorCount: 250, validationErrorsTruncated: true });
  });

  it('pages the full list: offset 200 gives the last 50 with the total', async () => {
    const res = await api(t, t.keys.pro, 'GET', `/v1/batch/upload/${fileId}/errors?offset=200&limit=100`);
    expect(res.status).toBe(200);
    expect(res.body.meta).toEqual({ offset: 200, limit: 100, count: 50, total: 250 });
    expect(res.body.data).toEqual(expected.slice(200));
  });

  it('downloads 250 rejected rows as CSV: own columns, then _row,_field,_code,_error, formulas neutralised', async () => {
    const res = await api(t, t.keys.pro, 'GET', `/v1/batch/upload/${fileId}/errors?format=csv`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    const lines = res.text.split(/\r?\n/);
    expect(lines[lines.length - 1]).toBe('');
    expect(lines).toHaveLength(252); // header + 250 rows, each ended by a line break

    const all = await api(t, t.keys.pro, 'GET', `/v1/batch/upload/${fileId}/errors?offset=0&limit=1000`);
    const records = parseCsv(res.text);
    expect(records[0]).toEqual(['content', 'externalId', 'note', '_row', '_field', '_code', '_error']);
    const neutralise = (cell: string) => (/^[=+\-@\t\r]/.test(cell) ? `'${cell}` : cell);
    expect(records.slice(1)).toEqual(
      all.body.data.map((e: any, i: number) => [
        ...rejectedCells[i].map(neutralise),
        String(e.row),
        e.field ?? '',
        e.code,
        e.error,
      ]),
    );
    for (const r of records.slice(1)) for (const cell of r) expect(cell).not.toMatch(/^[=+\-@]/);
    expect(records.slice(1, 6).map((r) => r[2])).toEqual(["'=SUM(A1:A9)", "'+1", "'-2", "'@cmd", 'plain']);
  });
});

describe('Redis unavailable', () => {
  let down: TestApp;

  beforeAll(async () => {
    const port = await findFreePort();
    down = await startApp({ REDIS_URL: `redis://127.0.0.1:${port}` });
  });
  afterAll(async () => {
    await down?.close();
  });

  it('answers an upload with 503 FILE_STORAGE_UNAVAILABLE and Retry-After, quickly', async () => {
    const started = Date.now();
    const res = await upload(down, down.keys.pro, 'content\na\n');
    const took = Date.now() - started;
    expect(res.status).toBe(503);
    expect(res.body.error).toMatchObject({
      code: 'FILE_STORAGE_UNAVAILABLE',
      message: 'File storage is temporarily unavailable.',
    });
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(res.body.requestId).toBe(res.headers.get('x-request-id'));
    expect(took).toBeLessThan(2000);
    expect(await readdir(join(down.storageDir, '.spool'))).toEqual([]);
  });

  it('answers reading an upload with 503, never 500', async () => {
    const started = Date.now();
    const res = await api(down, down.keys.pro, 'GET', '/v1/batch/upload/f_AAAAAAAAAAAAAAAAAAAAAA');
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe('FILE_STORAGE_UNAVAILABLE');
    expect(res.headers.get('retry-after')).toBeTruthy();
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('is not ready (503, naming Redis) but alive (200)', async () => {
    const ready = await api(down, undefined, 'GET', '/ready');
    expect(ready.status).toBe(503);
    expect(ready.text).toMatch(/redis/i);
    expect(ready.headers.get('retry-after')).toBeTruthy();
    const health = await api(down, undefined, 'GET', '/health');
    expect(health.status).toBe(200);
  });
});

describe('X-Request-Id', () => {
  it('echoes a sane client id in the header and in an error body', async () => {
    const id = 'client-42_req.7:a';
    const ok = await up('content\na\n', { headers: { 'X-Request-Id': id } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('x-request-id')).toBe(id);
    const bad = await up('content\na\n', { fields: { schema: 'nope' }, headers: { 'X-Request-Id': id } });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('x-request-id')).toBe(id);
    expect(bad.body.requestId).toBe(id);
  });

  it.each([
    ['300 characters long', 'a'.repeat(300)],
    ['containing spaces', 'my request id'],
    ['containing a quote and angle brackets', '<script>"x"</script>'],
  ])('replaces one %s with a new id', async (_label, id) => {
    const res = await up('content\na\n', { fields: { schema: 'nope' }, headers: { 'X-Request-Id': id } });
    expect(res.status).toBe(400);
    const given = res.headers.get('x-request-id');
    expect(given).toBeTruthy();
    expect(given).not.toBe(id);
    expect(given).toMatch(/^[A-Za-z0-9._:-]{8,128}$/);
    expect(res.body.requestId).toBe(given);
  });
});

describe('startup', () => {
  // Shows the proxy is a working (if slow) Redis, so the failing test below fails for the right reason.
  it('with a Redis that is slow to connect, becomes ready and then takes uploads', async () => {
    const proxy = await slowRedisProxy(500);
    let slow: TestApp | undefined;
    try {
      slow = await startApp({ REDIS_URL: proxy.url });
      const app = slow;
      await waitFor('/ready', async () => (await api(app, undefined, 'GET', '/ready')).status === 200);
      const res = await upload(app, app.keys.pro, 'content\na\n');
      expect(res.status).toBe(200);
      expect(res.body.itemCount).toBe(1);
    } finally {
      await slow?.close();
      await proxy.close();
    }
  });

  // Start-up waits (bounded) for Redis to be ready, so the first request after listen is served.
  it('accepts an upload as soon as it listens when Redis is reachable but slow to connect', async () => {
    const proxy = await slowRedisProxy(500);
    let slow: TestApp | undefined;
    try {
      slow = await startApp({ REDIS_URL: proxy.url });
      const first = await upload(slow, slow.keys.pro, 'content\na\n');
      expect({ status: first.status, error: first.body?.error }).toEqual({ status: 200, error: undefined });
      expect(first.body.itemCount).toBe(1);
    } finally {
      await slow?.close();
      await proxy.close();
    }
  });
});
