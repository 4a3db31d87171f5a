import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { ingest, ingestInThread, type IngestOptions } from './ingest';
import { IngestPool } from './pool';
import { SchemaRegistry } from './schema-registry';
import { itemLine, rejectedLine } from './sink-lines';
import type { IngestSink } from './types';
// The bench's own corpus generator (fixed seed): the same rows the figures are taken on.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { generate, prng } = require('../../bench/data.js') as {
  generate(o: { format: string; seed: number; rows?: number; invalidRate?: number }): Iterable<Buffer>;
  prng(seed: number): () => number;
};

const schema = SchemaRegistry.load().get('default')!;
let pool: IngestPool;
beforeAll(() => {
  pool = new IngestPool({ threads: 2 });
});
afterAll(() => pool.close());

/** Everything an ingest run gives: the bytes of both objects, the summary or the error, and how often it reset. */
interface Outcome {
  items: string;
  rejected: string;
  answer: string;
}

function textSink(withLines: boolean): { sink: IngestSink; out: { items: string[]; rejected: string[] } } {
  const out = { items: [] as string[], rejected: [] as string[] };
  const sink: IngestSink = {
    item: (row, item) => void out.items.push(itemLine(row, item)),
    rejected: (error, raw) => void out.rejected.push(rejectedLine(error, raw)),
    reset: () => {
      out.items.length = 0;
      out.rejected.length = 0;
      return Promise.resolve();
    },
  };
  if (withLines) {
    sink.lines = (items, rejected) => {
      out.items.push(Buffer.from(items).toString('utf8'));
      out.rejected.push(Buffer.from(rejected).toString('utf8'));
    };
  }
  return { sink, out };
}

function source(bytes: Buffer, piece: number): () => Readable {
  return () => {
    const parts: Buffer[] = [];
    for (let i = 0; i < bytes.length; i += piece) parts.push(bytes.subarray(i, i + piece));
    return Readable.from(parts);
  };
}

async function outcome(run: (sink: IngestSink) => Promise<unknown>, withLines = true): Promise<Outcome> {
  const { sink, out } = textSink(withLines);
  let answer: string;
  try {
    answer = JSON.stringify(await run(sink));
  } catch (e) {
    const err = e as Error & { code?: string; validationErrors?: unknown; extra?: unknown };
    answer = JSON.stringify({
      thrown: err.name,
      code: err.code,
      message: err.message,
      rows: err.validationErrors,
      extra: err.extra,
    });
  }
  return { items: out.items.join(''), rejected: out.rejected.join(''), answer };
}

type Case = Partial<IngestOptions> & {
  piece?: number;
  inThread?: boolean;
  /** The pool's chunk sizes tried. */
  chunkSizes?: number[];
};
jest.setTimeout(120_000);

/** Both paths over the same bytes: every output byte equal. Returns the outcome. */
async function same(bytes: Buffer, opts: Case = {}): Promise<Outcome> {
  const { piece = 64 * 1024, inThread = false, chunkSizes = [1024 * 1024, 97, 4096], ...rest } = opts;
  const options: IngestOptions = { schema, maxBytes: 50 * 1024 * 1024, fileName: 'f.csv', ...rest };
  const open = source(bytes, piece);
  const reference = await outcome((sink) => ingestInThread(open, { ...options, pool: null }, sink));
  for (const chunkBytes of chunkSizes) {
    const pooled = { ...options, pool, parallelMinBytes: 1, chunkBytes };
    for (const withLines of [true, false]) {
      const fallbacks: string[] = [];
      const onFallback = (why: string) => fallbacks.push(why);
      pool.on('inThread', onFallback);
      const got = await outcome((sink) => ingest(open, pooled, sink), withLines);
      pool.off('inThread', onFallback);
      // Files that read cleanly go through the pool; files that fail may be given back to the in-thread read.
      if (!inThread) expect(fallbacks).toEqual([]);
      expect(got.answer).toBe(reference.answer);
      expect(got.items).toBe(reference.items);
      expect(got.rejected).toBe(reference.rejected);
    }
  }
  return reference;
}

function corpus(format: string, rows: number, seed = 42): Buffer {
  return Buffer.concat([...generate({ format, seed, rows })]);
}

describe('the pool path answers as the in-thread path, byte for byte', () => {
  it('the bench corpus: CSV, NDJSON and a JSON array, plain and gzipped', async () => {
    for (const format of ['csv', 'ndjson', 'json']) {
      const bytes = corpus(format, 30_000);
      // 97-byte chunks (a record or two each) on 2,000 of the rows: on all 30,000 they are some
      // 30,000 round trips to the pool per read, which took most of this spec's time.
      const r = await same(bytes, { fileName: `f.${format}`, chunkSizes: [256 * 1024, 4096] });
      expect(JSON.parse(r.answer).itemCount).toBeGreaterThan(29_000);
      await same(gzipSync(bytes), { fileName: `f.${format}.gz`, chunkSizes: [200 * 1024, 4096] });
      const few = corpus(format, 2_000);
      await same(few, { fileName: `f.${format}`, chunkSizes: [97] });
      await same(gzipSync(few), { fileName: `f.${format}.gz`, chunkSizes: [97] });
    }
  });

  it('quoted line breaks, quotes and CRLF across every chunk boundary', async () => {
    const rand = prng(7);
    const cell = () => {
      const r = rand();
      if (r < 0.2) return `"line\r\nbreak ""q"" ${Math.floor(rand() * 1e6)}"`;
      if (r < 0.35) return `"multi\nline\n, comma"`;
      if (r < 0.45) return `"a""b"`;
      if (r < 0.5) return `lit"eral`;
      if (r < 0.52) return '';
      return `plain${Math.floor(rand() * 1e9)}`;
    };
    for (const eol of ['\n', '\r\n', '\r']) {
      let text = `content,externalId,tag${eol}`;
      for (let i = 0; i < 3000; i++) {
        text += `${cell()},${rand() < 0.01 ? '' : `id${i}`},${cell()}${eol}`;
        if (rand() < 0.02) text += eol; // a blank line: a row of its own
      }
      await same(Buffer.from(text));
      await same(Buffer.from(text), { piece: 13 });
    }
  });

  it('NDJSON and JSON edge rows: blank lines, bad lines, deep values, NULs, long rows, escapes', async () => {
    const lines: string[] = [];
    for (let i = 0; i < 2000; i++) {
      const k = i % 11;
      if (k === 0) lines.push('');
      else if (k === 1) lines.push('{"content": "x", "externalId": "a\\"b\\\\", "tag": "t"}');
      else if (k === 2) lines.push('{not json');
      else if (k === 3) lines.push(`{"content":"${'y'.repeat(3000)}","externalId":"e${i}"}`);
      else if (k === 4) lines.push('[1,2]');
      else if (k === 5) lines.push(`{"content":"n\u0000ul","externalId":"e${i}"}`);
      else if (k === 6) lines.push(`${'['.repeat(300)}${']'.repeat(300)}`);
      else if (k === 7) lines.push(`{"content":"c","externalId":"e${i}","extra${i % 3}":1}`);
      else lines.push(`{"content":"ok ${i} [,]{}","externalId":"e${i}"}\r`);
    }
    const ndjson = lines.join('\n');
    await same(Buffer.from(ndjson), { fileName: 'f.ndjson', format: 'ndjson', maxRecordBytes: 2048 });
    const elements = lines.filter((l) => l.trim() && l !== '{not json');
    await same(Buffer.from(`[\n${elements.join(',\n')}\n]`), {
      fileName: 'f.json',
      format: 'json',
      maxRecordBytes: 2048,
    });
  });

  it('whole-file failures: the same error, from wherever in the file it comes', async () => {
    const good = corpus('csv', 2000).toString();
    const files: [string, Case][] = [
      [good + '"unclosed,x,y\n', {}],
      [good.replace('content,externalId,tag', 'content,content,tag'), {}],
      [good.replace('content,externalId,tag', 'content,tag'), {}],
      [good.slice(0, 30_000) + `"${'z'.repeat(5000)}",a,b\n` + good.slice(30_000), { maxRecordBytes: 4096 }],
      [good, { maxBytes: 50_000 }],
      ['content,externalId\n' + ',x\n'.repeat(5000), {}],
      ['content,externalId\n' + '\n'.repeat(5000), {}],
      [good.slice(0, 60_000) + '\u00e9'.repeat(3) + good.slice(60_000), {}],
    ];
    for (const [text, opts] of files) await same(Buffer.from(text), { inThread: true, ...opts });
    // windows-1252: not UTF-8 deep into the file, read again as windows-1252
    const latin = Buffer.concat([
      Buffer.from(good.slice(0, 80_000)),
      Buffer.from([0xe9, 0x2c, 0x41, 0x0a]),
      Buffer.from(good.slice(80_000)),
    ]);
    await same(latin, { inThread: true });
    await same(latin, { inThread: true, encoding: 'utf-8' });
    await same(gzipSync(Buffer.from(good)), { inThread: true, fileName: 'f.csv.gz', maxBytes: 60_000 });
    const json = corpus('json', 2000).toString();
    for (const bad of [
      json.replace(/\n\]\n$/, ''),
      json.replace(/\n\]\n$/, ',\n]'),
      json.replace('},\n{', '},,\n{'),
      json + 'x',
    ]) {
      await same(Buffer.from(bad), { inThread: true, fileName: 'f.json' });
    }
    await same(Buffer.from(`{"items":${json}}`), { inThread: true, fileName: 'f.json' });
  });

  it('UTF-16 and a UTF-8 BOM', async () => {
    const text = corpus('csv', 3000).toString();
    const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
    await same(le);
    await same(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]));
  });
});
