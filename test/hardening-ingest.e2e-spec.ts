/**
 * Issue 10 (hardening) of the ingest core, over real HTTP: inputs that used to freeze the event loop
 * or answer 500 (a megabyte of digits in a number cell, rows nested 100,000 levels deep, names such
 * as `constructor` or `__proto__`), numbers that cannot be kept exactly, NUL bytes when a `format` is
 * given, valid JSON that holds no rows, and the line ending of a header longer than the sniff window.
 * Timings are logged and asserted loosely (a shared 2-core machine): the point is seconds, not minutes.
 */
import { parse as parseCsv } from 'csv-parse/sync';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { api, startApp, upload, type TestApp, type UploadOptions } from './support/app';

jest.setTimeout(30_000);

let t: TestApp;
let schemasDir: string;

beforeAll(async () => {
  schemasDir = await mkdtemp(join(tmpdir(), 'batchgate-hardening-'));
  await writeFile(
    join(schemasDir, 'priced.json'),
    JSON.stringify({
      type: 'object',
      required: ['content'],
      properties: {
        content: { type: 'string' },
        price: { type: 'number' },
        qty: { type: 'integer' },
        // Quadratic in JavaScript's backtracking engine on a long run of digits without the x.
        code: { type: 'string', pattern: '^\\d*\\d*x$' },
      },
    }),
  );
  t = await startApp({ SCHEMAS_DIR: schemasDir });
  const deadline = Date.now() + 5000;
  while ((await api(t, undefined, 'GET', '/ready')).status !== 200) {
    if (Date.now() > deadline) throw new Error('the app never became ready');
    await new Promise((r) => setTimeout(r, 25));
  }
});
afterAll(async () => {
  await t?.close();
  await rm(schemasDir, { recursive: true, force: true });
});

interface Res {
  status: number;
  body: any;
  headers: Headers;
}

function up(content: string | Buffer, opts: UploadOptions = {}): Promise<Res> {
  return upload(t, t.keys.pro, content, opts);
}

function expectError(res: Res, status: number, code: string): void {
  expect({ status: res.status, code: res.body?.error?.code }).toEqual({ status, code });
  expect(typeof res.body.error.message).toBe('string');
  expect(res.body.requestId).toBe(res.headers.get('x-request-id'));
}

async function preview(fileId: string): Promise<{ row: number; item: Record<string, unknown> }[]> {
  const res = await api(t, t.keys.pro, 'GET', `/v1/batch/upload/${fileId}/preview?limit=100`);
  expect(res.status).toBe(200);
  return res.body.items;
}

async function rejectedCsv(fileId: string): Promise<string[][]> {
  const res = await api(t, t.keys.pro, 'GET', `/v1/batch/upload/${fileId}/errors?format=csv`);
  expect(res.status).toBe(200);
  return parseCsv(res.text);
}

/** Runs `work` while asking GET /health one request after another; the slowest answer tells if the loop froze. */
async function whileProbingHealth<T>(work: () => Promise<T>): Promise<{ result: T; ms: number; healthMaxMs: number }> {
  let done = false;
  let healthMaxMs = 0;
  const probe = (async () => {
    while (!done) {
      const started = Date.now();
      const res = await fetch(`${t.url}/health`);
      await res.text();
      expect(res.status).toBe(200);
      healthMaxMs = Math.max(healthMaxMs, Date.now() - started);
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  const started = Date.now();
  try {
    const result = await work();
    return { result, ms: Date.now() - started, healthMaxMs };
  } finally {
    done = true;
    await probe;
  }
}

const deep = (levels: number) => '['.repeat(levels) + ']'.repeat(levels);
const TOO_DEEP = 'Row is nested deeper than 256 levels, row skipped';
const NUL = 'Row contains a NUL byte, row skipped';
const EMPTY = 'Content is empty, row skipped';

describe('1. numbers are coerced in linear time; a schema pattern sees at most 1000 characters', () => {
  it('answers megabyte digit cells in a number column within seconds, /health answering meanwhile', async () => {
    // Each record stays under the 1 MiB record limit. The old regex was quadratic on the first cell
    // (4 s at 30,000 digits: about an hour here).
    const digits = '1'.repeat(1024 * 1024 - 64);
    const csv = `content,price\na,1\nb,${digits}x\nc,${digits}\n`;
    const {
      result: res,
      ms,
      healthMaxMs,
    } = await whileProbingHealth(() => up(csv, { name: 'prices.csv', fields: { schema: 'priced' } }));
    console.log(`1 MiB digit cells: answered in ${ms} ms, slowest /health meanwhile ${healthMaxMs} ms`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ itemCount: 1, validationErrorCount: 2 });
    expect(res.body.validationErrors).toEqual([
      { row: 3, line: 3, field: 'price', code: 'type', error: 'Price must be a number, row skipped' },
      {
        row: 4,
        line: 4,
        field: 'price',
        code: 'type',
        error: `Value ${'1'.repeat(40)}… of price cannot be kept exactly, row skipped`,
      },
    ]);
    expect(ms).toBeLessThan(5000);
    expect(healthMaxMs).toBeLessThan(5000);
  });

  it('refuses a megabyte cell for a pattern without running the pattern on it', async () => {
    const csv = `content,code\na,${'1'.repeat(1024 * 1024 - 64)}y\nb,12x\n`;
    const {
      result: res,
      ms,
      healthMaxMs,
    } = await whileProbingHealth(() => up(csv, { name: 'codes.csv', fields: { schema: 'priced' } }));
    console.log(`1 MiB cell for a quadratic pattern: answered in ${ms} ms, slowest /health ${healthMaxMs} ms`);
    expect(res.status).toBe(200);
    expect(res.body.validationErrors).toEqual([
      {
        row: 2,
        line: 2,
        field: 'code',
        code: 'pattern',
        error: 'Code is too long to be checked against its pattern (over 1000 chars), row skipped',
      },
    ]);
    expect(ms).toBeLessThan(5000);
  });
});

describe('2. rows nested deeper than 256 levels are row errors, never a 500', () => {
  const deepRow = `{"content":"b","m":${deep(100000)}}`;

  it.each([
    ['a JSON file', `[{"content":"a"},\n${deepRow}]`, 'deep.json', 2],
    ['an NDJSON file', `{"content":"a"}\n${deepRow}\n`, 'deep.ndjson', 2],
  ])('in %s: 200 with the deep row skipped, and its errors downloadable', async (_what, text, name, line) => {
    const started = Date.now();
    const res = await up(text, { name });
    console.log(`depth 100,000 in ${name}: answered ${res.status} in ${Date.now() - started} ms`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ itemCount: 1, validationErrorCount: 1 });
    expect(res.body.validationErrors).toEqual([{ row: 2, line, code: 'parse', error: TOO_DEEP }]);
    const errors = await api(t, t.keys.pro, 'GET', `/v1/batch/upload/${res.body.fileId}/errors`);
    expect(errors.status).toBe(200);
    expect(errors.body.data).toEqual(res.body.validationErrors);
    // Nothing of the row is kept (as for a row over the size limit): its value column says null.
    expect((await rejectedCsv(res.body.fileId)).slice(1)).toEqual([['null', '2', '', 'parse', TOO_DEEP]]);
  });

  it("in a CSV cell read as JSON (the default schema's metadata): 200 with that row skipped", async () => {
    const cell = `"{""m"":${deep(100000)}}"`;
    const res = await up(`content,metadata\na,{}\nb,${cell}\n`, { name: 'deep.csv' });
    expect(res.status).toBe(200);
    expect(res.body.validationErrors).toEqual([{ row: 3, line: 3, code: 'parse', error: TOO_DEEP }]);
  });

  it('a file whose only row is too deep is 400 file_parsing_failed', async () => {
    const res = await up(`[${deepRow}]`, { name: 'deep.json' });
    expectError(res, 400, 'file_parsing_failed');
    expect(res.body.validationErrors).toEqual([{ row: 1, line: 1, code: 'parse', error: TOO_DEEP }]);
  });

  /** A mixed body answers 202 with the deep item skipped; a body of the deep item alone, 400. */
  async function directItems(key?: string): Promise<void> {
    const label = key ? 'with key' : 'without key';
    // Sent as text: JSON.stringify itself cannot write such a value.
    let started = Date.now();
    const mixed = await api(
      t,
      t.keys.pro,
      'POST',
      '/v1/batch',
      `{"items":[{"content":"a"},${deepRow}]}`,
      key ? { 'Idempotency-Key': key } : {},
    );
    console.log(`depth 100,000 in items (${label}): answered ${mixed.status} in ${Date.now() - started} ms`);
    expect(mixed.status).toBe(202);
    expect(mixed.body.itemCount).toBe(1);
    expect(mixed.body.validationErrors).toEqual([{ row: 2, code: 'parse', error: TOO_DEEP }]);
    started = Date.now();
    const only = await api(t, t.keys.pro, 'POST', '/v1/batch', `{"items":[${deepRow}]}`, {
      ...(key && { 'Idempotency-Key': `${key}-only` }),
    });
    console.log(`depth 100,000 as the only item (${label}): ${only.status} in ${Date.now() - started} ms`);
    expectError(only, 400, 'file_parsing_failed');
    expect(only.body.validationErrors).toEqual([{ row: 1, code: 'parse', error: TOO_DEEP }]);
  }

  it('in POST /v1/batch items without an Idempotency-Key: 202 with the row skipped, or 400', async () => {
    await directItems();
  });

  // With an Idempotency-Key the body is hashed first (canonicalJson, iterative: no stack overflow).
  it('in POST /v1/batch items with an Idempotency-Key: 202 with the row skipped, or 400', async () => {
    await directItems(`deep-${Date.now()}`);
  });
});

describe('3. names a client sends are never looked up on Object.prototype', () => {
  it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty'])(
    'encoding=%s is 400 validation_error',
    async (encoding) => {
      const res = await up('content\na\n', { fields: { encoding } });
      expectError(res, 400, 'validation_error');
      expect(res.body.error.message).toBe(
        `Unknown encoding "${encoding}": use utf-8, utf-16le, utf-16be or windows-1252.`,
      );
    },
  );

  it.each(['constructor', '__proto__', 'toString'])(
    'a schema or format field named %s is 400 validation_error',
    async (name) => {
      expectError(await up('content\na\n', { fields: { schema: name } }), 400, 'validation_error');
      expectError(await up('content\na\n', { fields: { format: name } }), 400, 'validation_error');
    },
  );

  it.each(['constructor', '__proto__', 'toString'])(
    'a file named upload.%s, with that name as its content type, is read by its content',
    async (name) => {
      const res = await up('content\na\n', { name: `upload.${name}`, type: `${name}/x` });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ format: 'csv', itemCount: 1 });
    },
  );
});

describe('4. a `__proto__` column or key is kept', () => {
  it('CSV: the items keep the `__proto__` cells and the rejected-rows CSV has them', async () => {
    const res = await up('content,__proto__\na,x\n,y\nb,\n', { name: 'proto.csv' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ itemCount: 2, parsing: { header: ['content', '__proto__'] } });
    const items = await preview(res.body.fileId);
    expect(items.map((i) => Object.entries(i.item))).toEqual([
      [
        ['content', 'a'],
        ['__proto__', 'x'],
      ],
      [['content', 'b']],
    ]);
    expect(await rejectedCsv(res.body.fileId)).toEqual([
      ['content', '__proto__', '_row', '_field', '_code', '_error'],
      ['', 'y', '3', 'content', 'required', EMPTY],
    ]);
  });

  it('JSON: rows keep `__proto__`, and rows without it have an empty cell in the download, not {}', async () => {
    const json =
      '[{"content":"","__proto__":"p"},{"content":"","constructor":"c"},{"content":"ok","__proto__":{"a":1}}]';
    const res = await up(json, { name: 'proto.json' });
    expect(res.status).toBe(200);
    expect((await preview(res.body.fileId)).map((i) => Object.entries(i.item))).toEqual([
      [
        ['content', 'ok'],
        ['__proto__', { a: 1 }],
      ],
    ]);
    expect(await rejectedCsv(res.body.fileId)).toEqual([
      ['content', '__proto__', 'constructor', '_row', '_field', '_code', '_error'],
      ['', 'p', '', '1', 'content', 'required', EMPTY],
      ['', '', 'c', '2', 'content', 'required', EMPTY],
    ]);
  });
});

describe('5. numbers are kept exactly or refused', () => {
  const refused = (row: number, field: string, shown: string) => ({
    row,
    field,
    code: 'type',
    error: `Value ${shown} of ${field} cannot be kept exactly, row skipped`,
  });

  it.each([
    ['JSON', 'numbers.json', (rows: string[]) => `[${rows.join(',\n')}]`],
    ['NDJSON', 'numbers.ndjson', (rows: string[]) => rows.join('\n')],
  ])(
    '%s: a number beyond 2^53 − 1 or the double range is a row error quoting it as written',
    async (_f, name, file) => {
      const rows = [
        '{"content":"a","externalId":12345678901234567890}',
        '{"content":"b","metadata":{"n":1.5e+9999}}',
        '{"content":"c","n":9007199254740991}',
      ];
      const res = await up(file(rows), { name });
      expect(res.status).toBe(200);
      expect(res.body.validationErrors).toEqual([
        { ...refused(1, 'externalId', '12345678901234567890'), line: 1 },
        { ...refused(2, 'metadata.n', '1.5e+9999'), line: 2 },
      ]);
      const items = await preview(res.body.fileId);
      expect(items).toEqual([{ row: 3, item: { content: 'c', n: 9007199254740991 } }]);
      // The download holds the row as written, not a rounded number.
      expect((await rejectedCsv(res.body.fileId))[1][0]).toBe(rows[0]);
    },
  );

  it('CSV: a cell coerced to such a number is a row error', async () => {
    const csv = 'content,qty,price\na,12345678901234567890,1\nb,1,1e999\nc,9007199254740991,-1.5\n';
    const res = await up(csv, { name: 'numbers.csv', fields: { schema: 'priced' } });
    expect(res.status).toBe(200);
    expect(res.body.validationErrors).toEqual([
      { ...refused(2, 'qty', '12345678901234567890'), line: 2 },
      { ...refused(3, 'price', '1e999'), line: 3 },
    ]);
    expect(await preview(res.body.fileId)).toEqual([
      { row: 4, item: { content: 'c', qty: 9007199254740991, price: -1.5 } },
    ]);
  });

  it('POST /v1/batch items: only the double that express parsed can be judged and shown', async () => {
    const body = '{"items":[{"content":"a","externalId":12345678901234567890},{"content":"b","n":-9007199254740991}]}';
    const res = await api(t, t.keys.pro, 'POST', '/v1/batch', body);
    expect(res.status).toBe(202);
    expect(res.body.itemCount).toBe(1);
    expect(res.body.validationErrors).toEqual([refused(1, 'externalId', '12345678901234567000')]);
  });
});

describe('6. a NUL byte is a row error when a `format` is given, and refused as binary only in the first bytes', () => {
  it.each([
    ['ndjson', '{"content":"a"}\n{"content":"b\u0000"}\n{"content":"c"}\n', 2],
    ['csv', 'content\na\nb\u0000\nc\n', 3],
    ['json', '[{"content":"a"},\n{"content":"b\u0000"},\n{"content":"c"}]', 2],
  ])('format=%s: the other rows are read', async (format, text, row) => {
    const res = await up(text, { name: 'nul.txt', fields: { format } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ format, itemCount: 2 });
    expect(res.body.validationErrors).toEqual([{ row, line: row, code: 'parse', error: NUL }]);
  });

  it('without a format: 415 for a NUL in the first 8 KiB, a row error after it', async () => {
    expectError(
      await up('{"content":"a\u0000"}\n{"content":"b"}\n', { name: 'nul.ndjson' }),
      415,
      'unsupported_format',
    );
    const late = `${'{"content":"a"}\n'.repeat(1000)}{"content":"b\u0000"}\n`;
    const res = await up(late, { name: 'late-nul.ndjson' });
    expect(res.status).toBe(200);
    expect(res.body.validationErrors).toEqual([{ row: 1001, line: 1001, code: 'parse', error: NUL }]);
  });
});

describe('7. valid JSON that holds no rows says what it is', () => {
  it.each([
    ['42', 'a number'],
    ['"text"', 'a string'],
    ['false', 'true or false'],
    ['null', 'null'],
    ['{"content":"a"}', 'an object without an "items" array'],
  ])('%s is %s', async (text, kind) => {
    const res = await up(text, { name: 'doc.json' });
    expectError(res, 400, 'file_parsing_failed');
    expect(res.body.error.message).toBe(
      `The file is valid JSON, but ${kind}, not an array of objects or an object with an "items" array`,
    );
  });

  it('JSON that is not valid still says so', async () => {
    const res = await up('{"content": tru}', { name: 'doc.json' });
    expectError(res, 400, 'file_parsing_failed');
    expect(res.body.error.message).toMatch(/^The file is not valid JSON: /);
  });
});

describe('8. the line ending of a header longer than the 64 KiB sniff window', () => {
  it.each([
    ['crlf', '\r\n'],
    ['cr', '\r'],
    ['lf', '\n'],
  ])('is %s', async (lineEnding, eol) => {
    // Past the first 256 KiB read of the spooled file too, which the sniffed head may take in whole.
    const header = `content,${'h'.repeat(300 * 1024)}`;
    const res = await up(`${header}${eol}a,1${eol},2${eol}`, { name: 'wide.csv' });
    expect(res.status).toBe(200);
    expect(res.body.parsing.lineEnding).toBe(lineEnding);
    expect(res.body.validationErrors).toEqual([{ row: 3, line: 3, field: 'content', code: 'required', error: EMPTY }]);
  });
});
