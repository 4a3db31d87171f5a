import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { ingest, type IngestOptions } from './ingest';
import { SchemaRegistry } from './schema-registry';
import { IngestError, type IngestSummary } from './types';
import type { RowError } from '../common/row-error';

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

async function run(input: string | Buffer, opts: Partial<IngestOptions> = {}, chunk = 7): Promise<Collected> {
  const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  const items: Collected['items'] = [];
  const rejected: Collected['rejected'] = [];
  const summary = await ingest(
    source(bytes, chunk),
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
  return { summary, items, rejected };
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
