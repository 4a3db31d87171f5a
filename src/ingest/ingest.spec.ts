import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { ingest, type IngestOptions } from './ingest';
import { IngestPool } from './pool';
import { SchemaRegistry } from './schema-registry';
import { IngestError, type IngestSummary } from './types';
import { validateItems } from './validate-items';
import type { RowError } from '../common/row-error';

// Every case runs in-thread and through the pool in 5- and 61-byte chunks: slow on a busy 2-core machine.
jest.setTimeout(60_000);

const registry = SchemaRegistry.load();
const schema = registry.get('default')!;

interface Collected {
  summary: IngestSummary;
  items: { row: number; item: Record<string, unknown> }[];
  rejected: { error: RowError; raw: unknown }[];
}

/** Feeds the bytes in small chunks so that records, sequences and BOMs straddle chunk boundaries. */
function source(bytes: Buffer, chunk = 7): () => Readable {
  return () => {
    const parts: Buffer[] = [];
    for (let i = 0; i < bytes.length; i += chunk) parts.push(bytes.subarray(i, i + chunk));
    return Readable.from(parts);
  };
}

async function collect(
  input: Buffer,
  opts: Partial<IngestOptions>,
  chunk: number,
): Promise<{ collected?: Collected; error?: unknown }> {
  const items: Collected['items'] = [];
  const rejected: Collected['rejected'] = [];
  try {
    const summary = await ingest(
      source(input, chunk),
      { schema, maxBytes: 10 * 1024 * 1024, fileName: 'f.csv', ...opts },
      {
        item: (row, item) => void items.push({ row, item }),
        rejected: (error, raw) => void rejected.push({ error, raw }),
        reset: () => {
          items.length = 0;
          rejected.length = 0;
          return Promise.resolve();
        },
      },
    );
    return { collected: { summary, items, rejected } };
  } catch (error) {
    return { error };
  }
}

function shown(r: { collected?: Collected; error?: unknown }): string {
  if (r.collected) return JSON.stringify(r.collected);
  const e = r.error as IngestError;
  return JSON.stringify({ name: e.name, code: e.code, message: e.message, rows: e.validationErrors, extra: e.extra });
}

let pool: IngestPool;
beforeAll(() => {
  pool = new IngestPool({ threads: 2 });
});
afterAll(() => pool.close());

/**
 * Every case is read twice: in-thread, and by the ingest pool in tiny chunks (the differential
 * check of issue 14): both answers must be the same, down to each row error and raw value.
 */
async function run(input: string | Buffer, opts: Partial<IngestOptions> = {}, chunk = 7): Promise<Collected> {
  const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  const reference = await collect(bytes, { ...opts, pool: null }, chunk);
  for (const chunkBytes of [5, 61]) {
    const pooled = await collect(bytes, { ...opts, pool, parallelMinBytes: 1, chunkBytes }, chunk);
    expect(shown(pooled)).toBe(shown(reference));
  }
  if (reference.error) throw reference.error as Error;
  return reference.collected!;
}

async function failure(input: string | Buffer, opts: Partial<IngestOptions> = {}): Promise<IngestError> {
  try {
    await run(input, opts);
  } catch (e) {
    if (e instanceof IngestError) return e;
    throw e;
  }
  throw new Error('expected the ingest to fail');
}

describe('CSV', () => {
  it('numbers rows as a spreadsheet does, with quoted newlines counted once and physical lines kept', async () => {
    const csv = 'content,externalId\r\n"first\r\nsecond",a\r\n,b\r\n\r\nok,c\r\n"x\ny\nz",d\r\n"   ",e\r\n';
    const { summary, items } = await run(csv);
    expect(items.map((i) => i.row)).toEqual([2, 5, 6]);
    expect(items[0].item).toEqual({ content: 'first\r\nsecond', externalId: 'a' });
    expect(summary.validationErrors).toEqual([
      { row: 3, line: 4, field: 'content', code: 'required', error: 'Content is empty, row skipped' },
      { row: 7, line: 10, field: 'content', code: 'required', error: 'Content is empty, row skipped' },
    ]);
    expect(summary.parsing).toMatchObject({ encoding: 'utf-8', bom: false, delimiter: ',', lineEnding: 'crlf' });
    expect(summary.parsing.header).toEqual(['content', 'externalId']);
  });

  it('reports the exact maxLength sentence', async () => {
    const { summary } = await run(`content\nok\n${'x'.repeat(50001)}\n`);
    expect(summary.validationErrors).toEqual([
      {
        row: 3,
        line: 3,
        field: 'content',
        code: 'maxLength',
        error: 'Content exceeds maximum length (50000 chars), row skipped',
      },
    ]);
    expect(summary.errorSummary).toEqual([{ field: 'content', code: 'maxLength', count: 1 }]);
  });

  it('strips a UTF-8 BOM and matches headers trimmed and case-insensitively', async () => {
    const { summary, items } = await run(
      Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(' CONTENT ;ExternalID\nhé;1\n')]),
    );
    expect(summary.parsing).toMatchObject({
      bom: true,
      delimiter: ';',
      lineEnding: 'lf',
      header: [' CONTENT ', 'ExternalID'],
    });
    expect(items[0].item).toEqual({ content: 'hé', externalId: '1' });
  });

  it.each([
    ['\t', 'content\texternalId\nhello\t1\n'],
    ['|', 'content|externalId\nhello|1\n'],
    [',', 'content,externalId\nhello,1\n'],
  ])('detects the %j delimiter', async (delimiter, csv) => {
    const { summary, items } = await run(csv);
    expect(summary.parsing.delimiter).toBe(delimiter);
    expect(items[0].item).toEqual({ content: 'hello', externalId: '1' });
  });

  it('keeps quoted delimiters and doubled quotes', async () => {
    const { items } = await run('content,other\n"a, ""b""",x\n5" screen,y\n');
    expect(items.map((i) => i.item)).toEqual([
      { content: 'a, "b"', other: 'x' },
      { content: '5" screen', other: 'y' },
    ]);
  });

  it('coerces cells only to the types the schema asks for', async () => {
    const reg = new SchemaRegistry();
    reg.add('typed', {
      type: 'object',
      required: ['content'],
      properties: {
        content: { type: 'string' },
        code: { type: 'string' },
        qty: { type: 'integer', minimum: 1 },
        price: { type: 'number' },
        active: { type: 'boolean' },
      },
    });
    const { items, summary } = await run(
      'content,code,qty,price,active\na,007,3,1.5,TRUE\nb,008,0,2,false\nc,009,x,1,true\n',
      {
        schema: reg.get('typed')!,
      },
    );
    expect(items).toEqual([{ row: 2, item: { content: 'a', code: '007', qty: 3, price: 1.5, active: true } }]);
    expect(summary.validationErrors).toEqual([
      { row: 3, line: 3, field: 'qty', code: 'minimum', error: 'Qty must be at least 1, row skipped' },
      { row: 4, line: 4, field: 'qty', code: 'type', error: 'Qty must be a whole number, row skipped' },
    ]);
  });

  it('reads a JSON object in a CSV cell where the schema asks for an object, and reports plain text', async () => {
    const { items, summary } = await run('content,metadata\na,"{""team"":""ops""}"\nb,ops\n');
    expect(items).toEqual([{ row: 2, item: { content: 'a', metadata: { team: 'ops' } } }]);
    expect(summary.validationErrors).toEqual([
      { row: 3, line: 3, field: 'metadata', code: 'type', error: 'Metadata must be an object, row skipped' },
    ]);
  });

  it('fails the file on a missing required column or a duplicate header', async () => {
    const missing = await failure('text,externalId\nhello,1\n');
    expect(missing.code).toBe('file_parsing_failed');
    expect(missing.validationErrors).toEqual([
      { row: 1, line: 1, field: 'content', code: 'required', error: 'Missing required column: content' },
    ]);
    const dup = await failure('content,Content\na,b\n');
    expect(dup.message).toBe('Duplicate column: Content');
  });

  it('fails on an empty file, a header only, and an unclosed quote', async () => {
    expect((await failure('')).message).toBe('The file is empty');
    expect((await failure('content\r\n')).message).toBe('The file has no data rows');
    const unclosed = await failure('content\nok\n"never closed\nmore\n');
    expect(unclosed.validationErrors[0]).toMatchObject({ row: 3, line: 3, code: 'parse' });
  });

  it('skips ragged rows with extra cells but reads short rows', async () => {
    const { items, summary } = await run('content,externalId\na,1,extra\nb\nc,2,,\n');
    expect(items.map((i) => i.row)).toEqual([3, 4]);
    expect(summary.validationErrors[0]).toMatchObject({
      row: 2,
      code: 'parse',
      error: 'Row has 3 cells but the header has 2, row skipped',
    });
  });

  it('refuses a record over the record size limit with a clear error', async () => {
    const e = await failure(`content\n"${'x'.repeat(5000)}"\n`, { maxRecordBytes: 1024 });
    expect(e.code).toBe('file_parsing_failed');
    expect(e.validationErrors[0]).toMatchObject({ row: 2, code: 'parse' });
  });

  it('falls back to windows-1252 when the bytes are not UTF-8, and reads UTF-16 with a BOM', async () => {
    const latin = Buffer.concat([Buffer.from('content\ncaf'), Buffer.from([0xe9]), Buffer.from('\n')]);
    const a = await run(latin);
    expect(a.summary.parsing.encoding).toBe('windows-1252');
    expect(a.items[0].item.content).toBe('café');
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('content\r\nnaïve\r\n', 'utf16le')]);
    const b = await run(utf16);
    expect(b.summary.parsing).toMatchObject({ encoding: 'utf-16le', bom: true });
    expect(b.items[0].item.content).toBe('naïve');
  });

  it('keeps multi-byte characters whole across chunk boundaries', async () => {
    const { items, summary } = await run('content\n' + '日本語テキスト€'.repeat(50) + '\n', {}, 5);
    expect(summary.parsing.encoding).toBe('utf-8');
    expect(items[0].item.content).toBe('日本語テキスト€'.repeat(50));
  });

  it('answers 415 for binary content and reads gzip', async () => {
    expect((await failure(Buffer.from([0x50, 0x4b, 0x03, 0x04, 1, 2, 3]), { fileName: 'x.csv' })).code).toBe(
      'unsupported_format',
    );
    expect((await failure(Buffer.from('content\n\u0000\u0000\u0001\u0002'), { fileName: 'x.csv' })).code).toBe(
      'unsupported_format',
    );
    const { summary, items } = await run(gzipSync('content\nzipped\n'), { fileName: 'a.csv.gz' });
    expect(summary.parsing.compressed).toBe(true);
    expect(items[0].item.content).toBe('zipped');
  });

  it('stops a gzip bomb at the decompressed limit and a truncated gzip with 400', async () => {
    const bomb = gzipSync(Buffer.alloc(5 * 1024 * 1024, 'a'));
    const e = await failure(bomb, { fileName: 'b.csv.gz', maxBytes: 1024 * 1024 });
    expect(e.code).toBe('payload_too_large');
    expect(e.message).toBe('File size exceeds maximum of 1 MB');
    const gz = gzipSync('content\n' + 'row\n'.repeat(1000));
    expect((await failure(gz.subarray(0, gz.length - 20), { fileName: 'c.csv.gz' })).code).toBe('file_parsing_failed');
  });
});

describe('JSON and NDJSON', () => {
  it('reads an array and an {items} object element by element, row = element number', async () => {
    const arr = await run('[\n {"content":"a"},\n {"content":""},\n 5,\n {"content":"b","metadata":{"k":[1,"]"]}}\n]', {
      fileName: 'x.json',
    });
    expect(arr.items.map((i) => i.row)).toEqual([1, 4]);
    expect(arr.summary.validationErrors).toEqual([
      { row: 2, line: 3, field: 'content', code: 'required', error: 'Content is empty, row skipped' },
      { row: 3, line: 4, code: 'type', error: 'Row is not an object, row skipped' },
    ]);
    const wrapped = await run('{"name":"x","items":[{"content":"a"},{"content":"b"}],"more":{"a":[1,2]}}', {
      fileName: 'x.json',
    });
    expect(wrapped.items.map((i) => i.item.content)).toEqual(['a', 'b']);
  });

  it('fails malformed JSON at any position with the row it is in', async () => {
    const e = await failure('[{"content":"a"},{"content":"b",}]', { fileName: 'x.json' });
    expect(e.code).toBe('file_parsing_failed');
    expect(e.validationErrors[0]).toMatchObject({ row: 2, code: 'parse' });
    expect((await failure('[{"content":"a"}', { fileName: 'x.json' })).code).toBe('file_parsing_failed');
    expect((await failure('{"content":"a"}', { fileName: 'x.json' })).message).toMatch(/array of objects/);
    expect((await failure('"just a string"', { fileName: 'x.json' })).code).toBe('file_parsing_failed');
    expect((await failure('[{"content":"a"}] trailing', { fileName: 'x.json' })).code).toBe('file_parsing_failed');
  });

  it('reads NDJSON line by line, skipping blank lines and reporting bad lines', async () => {
    const { items, summary } = await run('{"content":"a"}\n\n{"content":\n{"content":"c"}\r\n[1]\n', {
      fileName: 'x.ndjson',
    });
    expect(items.map((i) => i.row)).toEqual([1, 4]);
    expect(summary.validationErrors.map((e) => [e.row, e.code])).toEqual([
      [3, 'parse'],
      [5, 'type'],
    ]);
  });

  it('detects the format from content when name and type say nothing', async () => {
    expect((await run('[{"content":"a"}]', { fileName: 'upload' })).summary.format).toBe('json');
    expect((await run('{"content":"a"}\n{"content":"b"}\n', { fileName: 'upload' })).summary.format).toBe('ndjson');
    expect((await run('content\na\n', { fileName: 'upload' })).summary.format).toBe('csv');
    expect((await run('content\na\n', { fileName: 'upload', contentType: 'text/csv' })).summary.format).toBe('csv');
  });
});

describe('row size limit', () => {
  it('holds at exactly MAX_RECORD_BYTES: a record of that many bytes is read, one byte more is over', async () => {
    const max = 1024;
    const cell = (n: number) => 'x'.repeat(n);
    // CSV: the record's bytes without its line break; over the limit fails the file.
    const csvAt = await run(`content\n${cell(max)}\nok\n`, { maxRecordBytes: max }, 1 << 20);
    expect(csvAt.items.map((i) => i.row)).toEqual([2, 3]);
    for (const record of [cell(max + 1), `"${cell(max - 1)}"`, `${cell(600)},${cell(424)}`]) {
      const header = record.includes(',') ? 'content,externalId' : 'content';
      const e = await failure(`${header}\n${record}\nok\n`, { maxRecordBytes: max });
      expect(e.validationErrors[0]).toMatchObject({ row: 2, error: 'Row 2 exceeds the maximum row size of 1 KB' });
    }
    expect((await run(`content\r\n${cell(max)}\r\nok\r\n`, { maxRecordBytes: max })).items).toHaveLength(2);
    // NDJSON: the line; JSON: the element's text. Over the limit is a row error.
    const doc = (n: number) => `{"content":"${cell(n - 14)}"}`;
    for (const [text, fileName] of [
      [`${doc(max)}\n${doc(max + 1)}\n`, 'a.ndjson'],
      [`[${doc(max)},${doc(max + 1)}]`, 'a.json'],
    ]) {
      const { items, summary } = await run(text, { fileName, maxRecordBytes: max }, 1 << 20);
      expect(items.map((i) => i.row)).toEqual([1]);
      expect(summary.validationErrors).toEqual([expect.objectContaining({ row: 2, code: 'parse' })]);
    }
  });

  it('skips a JSON or NDJSON row over MAX_RECORD_BYTES, even one that arrives within a single read', async () => {
    const big = 'x'.repeat(2000);
    for (const [text, fileName] of [
      [`{"content":"a"}\n{"content":"${big}"}\n{"content":"c"}\n`, 'a.ndjson'],
      [`[{"content":"a"},{"content":"${big}"},{"content":"c"}]`, 'a.json'],
    ]) {
      const { items, summary } = await run(text, { fileName, maxRecordBytes: 1024 }, 1 << 20);
      expect(items.map((i) => i.row)).toEqual([1, 3]);
      expect(summary.validationErrors).toEqual([
        expect.objectContaining({ row: 2, code: 'parse', error: 'Row exceeds maximum size (1 KB), row skipped' }),
      ]);
    }
  });
});

describe('error lists', () => {
  it('lists the first 100 errors in row order and counts all of them', async () => {
    const rows = ['content,externalId'];
    for (let i = 0; i < 250; i++) rows.push(i % 2 ? 'ok,1' : ',2');
    const { summary } = await run(rows.join('\n') + '\n');
    expect(summary.validationErrorCount).toBe(125);
    expect(summary.validationErrors).toHaveLength(100);
    expect(summary.validationErrorsTruncated).toBe(true);
    expect(summary.validationErrors[0].row).toBe(2);
    expect(summary.errorSummary).toEqual([{ field: 'content', code: 'required', count: 125 }]);
  });

  it('fails the file when no row is valid, with the errors', async () => {
    const e = await failure('content\n" "\n\t\n');
    expect(e.code).toBe('file_parsing_failed');
    expect(e.validationErrors).toHaveLength(2);
  });
});

describe('hardening (issue 10)', () => {
  const typed = new SchemaRegistry();
  typed.add('typed', {
    type: 'object',
    required: ['content'],
    properties: {
      content: { type: 'string' },
      price: { type: 'number' },
      qty: { type: 'integer' },
      code: { type: 'string', pattern: '^\\d*\\d*x$' },
    },
  });
  const typedSchema = typed.get('typed')!;
  const deep = (levels: number) => '['.repeat(levels) + ']'.repeat(levels);
  const TOO_DEEP = 'Row is nested deeper than 256 levels, row skipped';
  const NUL = 'Row contains a NUL byte, row skipped';

  it('coerces a long run of digits in linear time, and refuses a number it cannot keep', async () => {
    const started = Date.now();
    const digits = '1'.repeat(100000);
    const { items, summary } = await run(
      `content,price,qty\na,${digits}x,1\nb,${digits},1\nc,1.5,12345678901234567890\nd,-2.5e3,9007199254740991\n`,
      { schema: typedSchema },
      // 64 KiB reads: what is timed is the coercion, not 30,000 reads of 7 bytes
      65536,
    );
    // The backtracking regex took about 33 s on the first cell alone (3.4 s at 30,000 digits).
    expect(Date.now() - started).toBeLessThan(3000);
    expect(items).toEqual([{ row: 5, item: { content: 'd', price: -2500, qty: 9007199254740991 } }]);
    expect(summary.validationErrors).toEqual([
      { row: 2, line: 2, field: 'price', code: 'type', error: 'Price must be a number, row skipped' },
      {
        row: 3,
        line: 3,
        field: 'price',
        code: 'type',
        error: `Value ${'1'.repeat(40)}… of price cannot be kept exactly, row skipped`,
      },
      {
        row: 4,
        line: 4,
        field: 'qty',
        code: 'type',
        error: 'Value 12345678901234567890 of qty cannot be kept exactly, row skipped',
      },
    ]);
  });

  it('runs a schema pattern only on strings up to 1000 characters', async () => {
    const started = Date.now();
    const { items, summary } = await run(
      `content,code\na,${'1'.repeat(200000)}y\nb,12x\n`,
      { schema: typedSchema },
      65536, // what is timed is the pattern, not 30,000 reads of 7 bytes
    );
    // `^\d*\d*x$` is quadratic: about 500 ms at 20,000 characters, about a minute at 200,000.
    expect(Date.now() - started).toBeLessThan(3000);
    expect(items.map((i) => i.item.code)).toEqual(['12x']);
    expect(summary.validationErrors).toEqual([
      {
        row: 2,
        line: 2,
        field: 'code',
        code: 'pattern',
        error: 'Code is too long to be checked against its pattern (over 1000 chars), row skipped',
      },
    ]);
  });

  it('refuses a JSON or NDJSON row nested deeper than 256 levels, and reads one of 256', async () => {
    const inner = (levels: number) => `{"content":"x","m":${deep(levels - 1)}}`;
    for (const [text, fileName] of [
      [`[${inner(256)},${inner(257)},{"content":"b","m":${deep(100000)}}]`, 'a.json'],
      [`${inner(256)}\n${inner(257)}\n{"content":"b","m":${deep(100000)}}\n`, 'a.ndjson'],
    ]) {
      const { items, summary, rejected } = await run(text, { fileName });
      expect(items.map((i) => i.row)).toEqual([1]);
      expect(summary.validationErrors).toEqual([
        { row: 2, line: expect.any(Number), code: 'parse', error: TOO_DEEP },
        { row: 3, line: expect.any(Number), code: 'parse', error: TOO_DEEP },
      ]);
      // What is stored of a rejected row can be serialized.
      expect(() => JSON.stringify(rejected)).not.toThrow();
      expect(rejected.map((r) => r.raw)).toEqual([null, null]);
    }
  });

  it('checks a JSON cell of a CSV row as a JSON row: depth (the row counts as a level) and exact numbers', async () => {
    const cell = (json: string) => `"${json.replace(/"/g, '""')}"`;
    const csv = [
      'content,metadata',
      `a,${cell(`{"m":${deep(254)}}`)}`,
      `b,${cell(`{"m":${deep(255)}}`)}`,
      `c,${cell(`{"m":${deep(100000)}}`)}`,
      `d,${cell('{"ids":[1,12345678901234567890]}')}`,
      '',
    ].join('\n');
    const { items, summary, rejected } = await run(csv);
    expect(items.map((i) => i.row)).toEqual([2]);
    expect(summary.validationErrors).toEqual([
      { row: 3, line: 3, code: 'parse', error: TOO_DEEP },
      { row: 4, line: 4, code: 'parse', error: TOO_DEEP },
      {
        row: 5,
        line: 5,
        field: 'metadata.ids.1',
        code: 'type',
        error: 'Value 12345678901234567890 of metadata.ids.1 cannot be kept exactly, row skipped',
      },
    ]);
    expect(() => JSON.stringify(items)).not.toThrow();
    expect(() => JSON.stringify(rejected)).not.toThrow();
  });

  it('refuses direct items nested too deep or holding a number that is no longer exact', async () => {
    const items = [
      { content: 'a', m: JSON.parse(deep(255)) as unknown },
      { content: 'b', m: JSON.parse(deep(100000)) as unknown },
      // as express hands it over: the body's digits are already rounded by JSON.parse
      JSON.parse('{"content":"c","metadata":{"ids":[1,12345678901234567890]}}') as unknown,
      [JSON.parse(deep(5000)) as unknown],
      { content: 'd', n: 2 ** 53 - 1 },
    ];
    const result = await validateItems(items, schema);
    expect(result.itemCount).toBe(2);
    expect(result.validationErrors).toEqual([
      { row: 2, code: 'parse', error: TOO_DEEP },
      {
        row: 3,
        field: 'metadata.ids.1',
        code: 'type',
        // express's JSON.parse has already rounded it: the double is all that can be shown.
        error: 'Value 12345678901234567000 of metadata.ids.1 cannot be kept exactly, row skipped',
      },
      { row: 4, code: 'parse', error: TOO_DEEP },
    ]);
    expect(result.ndjson.split('\n')).toHaveLength(3);
  });

  it('refuses JSON numbers beyond exactness, quoting them as written, with the path to them', async () => {
    const rows = [
      '{"content":"a","externalId":12345678901234567890}',
      '{"content":"b","metadata":{"scores":[1,1.5e+9999]}}',
      '{"content":"c","tiny":1e-400,"zero":0e-400}',
      `{"content":"d","big":${'9'.repeat(5000)}}`,
      '{"content":"e","ok":[9007199254740991,-9007199254740991,1.5,0,"12345678901234567890"]}',
      '{"content":"f","k\\u00e9y":{"a\\"b":-9007199254740992}}',
    ];
    const expected = [
      {
        row: 1,
        field: 'externalId',
        error: 'Value 12345678901234567890 of externalId cannot be kept exactly, row skipped',
      },
      {
        row: 2,
        field: 'metadata.scores.1',
        error: 'Value 1.5e+9999 of metadata.scores.1 cannot be kept exactly, row skipped',
      },
      { row: 3, field: 'tiny', error: 'Value 1e-400 of tiny cannot be kept exactly, row skipped' },
      { row: 4, field: 'big', error: `Value ${'9'.repeat(40)}… of big cannot be kept exactly, row skipped` },
      { row: 6, field: 'kéy.a"b', error: 'Value -9007199254740992 of kéy.a"b cannot be kept exactly, row skipped' },
    ].map((e) => ({ ...e, line: expect.any(Number), code: 'type' }));
    for (const [text, fileName] of [
      [`[${rows.join(',\n')}]`, 'a.json'],
      [rows.join('\n'), 'a.ndjson'],
    ]) {
      const { items, summary, rejected } = await run(text, { fileName });
      expect(items.map((i) => i.item.content)).toEqual(['e']);
      expect(summary.validationErrors).toEqual(expected);
      // The rejected-rows download gets the row as written, not the rounded value.
      expect(rejected[0].raw).toBe(rows[0]);
    }
  });

  it('keeps a `__proto__` column or key as an own property, in CSV and JSON', async () => {
    const csv = await run('content,__proto__\na,x\nb,\n');
    expect(csv.items.map((i) => Object.entries(i.item))).toEqual([
      [
        ['content', 'a'],
        ['__proto__', 'x'],
      ],
      [['content', 'b']],
    ]);
    expect(Object.getPrototypeOf(csv.items[0].item)).toBe(Object.prototype);
    expect(JSON.stringify(csv.items[0].item)).toBe('{"content":"a","__proto__":"x"}');
    const json = await run('[{"content":"a","__proto__":{"admin":true}},{"content":"b","constructor":"c"}]', {
      fileName: 'a.json',
    });
    expect(json.items.map((i) => JSON.stringify(i.item))).toEqual([
      '{"content":"a","__proto__":{"admin":true}}',
      '{"content":"b","constructor":"c"}',
    ]);
  });

  it('with a `format`, skips a record holding a NUL byte and reads the others; without, 415 only from the first 8 KiB', async () => {
    const cases: [string, Partial<IngestOptions>][] = [
      ['content\na\nb\u0000c\nd\n', { format: 'csv' }],
      ['{"content":"a"}\n{"content":"b\u0000c"}\n{"content":"d"}\n', { format: 'ndjson' }],
      ['[{"content":"a"},\n{"content":"b\u0000c"},\n{"content":"d"}]', { format: 'json' }],
    ];
    for (const [text, opts] of cases) {
      const { items, summary } = await run(text, opts);
      expect(items.map((i) => i.item.content)).toEqual(['a', 'd']);
      expect(summary.validationErrors).toEqual([
        { row: opts.format === 'csv' ? 3 : 2, line: opts.format === 'csv' ? 3 : 2, code: 'parse', error: NUL },
      ]);
    }
    expect((await failure('content\na\u0000b\n', { fileName: 'a.csv' })).code).toBe('unsupported_format');
    const late = await run(`content\n${'a\n'.repeat(5000)}b\u0000c\n`, { fileName: 'a.csv' });
    expect(late.summary.validationErrors).toEqual([{ row: 5002, line: 5002, code: 'parse', error: NUL }]);
    // A known binary signature is not refused when the client says what the file is.
    const zip = await failure(Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.from('\ncontent\n')]), {
      format: 'csv',
    });
    expect(zip.code).toBe('file_parsing_failed');
  });

  it('says what a valid JSON document that holds no rows is', async () => {
    const tail = 'not an array of objects or an object with an "items" array';
    for (const [text, kind] of [
      ['42', 'a number'],
      [' "just a string" ', 'a string'],
      ['true', 'true or false'],
      ['null', 'null'],
      ['{"content":"a","n":[1,{"b":2}]}', 'an object without an "items" array'],
      ['{"items":5}', 'an object without an "items" array'],
      ['{}', 'an object without an "items" array'],
    ]) {
      const e = await failure(text, { fileName: 'a.json' });
      expect([text, e.code, e.message]).toEqual([
        text,
        'file_parsing_failed',
        `The file is valid JSON, but ${kind}, ${tail}`,
      ]);
    }
    for (const text of ['{"content": tru}', '42 43', '"open', 'hello', '{"a":1,}']) {
      const e = await failure(text, { fileName: 'a.json' });
      expect([text, e.code, e.message]).toEqual([
        text,
        'file_parsing_failed',
        expect.stringMatching(/^The file is not valid JSON/),
      ]);
    }
    expect((await run('{"it\\u0065ms":[{"content":"a"}]}', { fileName: 'a.json' })).items).toHaveLength(1);
  });

  it('reports the line ending of a header line longer than the 64 KiB sniff window', async () => {
    const header = `content,${'x'.repeat(70 * 1024)}`;
    for (const [eol, lineEnding, first = header] of [
      ['\r\n', 'crlf'],
      ['\n', 'lf'],
      ['\r', 'cr'],
      // a header whose quote never closes (csv-parse reads it as a literal quote)
      ['\n', 'lf', 'content,5" tall'],
    ]) {
      // 4096-byte reads, and reads that end just after the first CR (CRLF or CR is told by the next byte)
      for (const chunk of [4096, header.length + 1]) {
        const { summary } = await run(`${first}${eol}a,1${eol},2${eol}`, {}, chunk);
        expect(summary.parsing.lineEnding).toBe(lineEnding);
        expect(summary.validationErrors).toEqual([
          { row: 3, line: 3, field: 'content', code: 'required', error: 'Content is empty, row skipped' },
        ]);
      }
    }
  });
});
