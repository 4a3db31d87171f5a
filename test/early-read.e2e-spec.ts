import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { api, startApp, type TestApp } from './support/app';
import { plansFile } from './support/plans';
import { waitFor } from './support/wait';

/**
 * A direct upload's first file is read while it arrives (src/uploads/early-read.ts): its answer
 * must be the one a read of the finished spool file gives, byte for byte, however slowly the body
 * comes; a request that fails, or whose fields after the file change how it is read, leaves
 * nothing of the early read behind.
 */
jest.setTimeout(120_000);

let t: TestApp;
let tinyKey: string;
let tinyOrg: string;
beforeAll(async () => {
  const tag = randomBytes(4).toString('hex');
  tinyKey = `key-tiny-${tag}`;
  tinyOrg = `tiny-${tag}`;
  t = await startApp(
    {
      WORKER_IN_PROCESS: 'false',
      // Files above 64 KiB go through the ingest pool in 16 KiB chunks: the early read feeds the pool too.
      INGEST_PARALLEL_MIN_BYTES: '65536',
      INGEST_CHUNK_BYTES: '16384',
      PLANS_FILE: await plansFile({ tiny: { maxFileBytes: 200_000 } }),
      API_KEYS: [
        `key-pro-${tag}:pro-${tag}:pro`,
        `key-free-${tag}:free-${tag}:free`,
        `key-ent-${tag}:ent-${tag}:enterprise`,
        `key-other-${tag}:other-${tag}:pro`,
        `${tinyKey}:${tinyOrg}:tiny`,
      ].join(','),
    },
    { tag },
  );
});
afterAll(() => t.close());

type Field = [string, string];
interface Sent {
  fields?: Field[];
  fieldsAfter?: Field[];
  name: string;
  type?: string;
  file: Buffer;
  /** Bytes per write and the pause after each (a slow client), else one write. */
  piece?: number;
  pauseMs?: number;
  /** Stop after this many bytes of the file and close the connection. */
  abortAfter?: number;
  /** Further file parts after the first. */
  more?: { name: string; file: Buffer }[];
}

/** A multipart upload over a raw HTTP request, written as the options say. */
function send(key: string, o: Sent): Promise<{ status: number; body: any }> {
  const boundary = `----early${randomBytes(8).toString('hex')}`;
  const field = ([k, v]: Field) =>
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`);
  const fileHead = (name: string, type = 'application/octet-stream') =>
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\nContent-Type: ${type}\r\n\r\n`,
    );
  const head = Buffer.concat([...(o.fields ?? []).map(field), fileHead(o.name, o.type)]);
  const tail = Buffer.concat([
    Buffer.from('\r\n'),
    ...(o.more ?? []).flatMap((p) => [fileHead(p.name), p.file, Buffer.from('\r\n')]),
    ...(o.fieldsAfter ?? []).map(field),
    Buffer.from(`--${boundary}--\r\n`),
  ]);
  return new Promise((resolve, reject) => {
    const req = request(`${t.url}/v1/batch/upload`, {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${key}`,
        'Content-Type': `multipart/form-data; boundary=${boundary}`,
        'Content-Length': String(head.length + o.file.length + tail.length),
      },
    });
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode!, body: text ? JSON.parse(text) : undefined }));
    });
    req.on('error', (e) => (o.abortAfter !== undefined ? resolve({ status: 0, body: undefined }) : reject(e)));
    void (async () => {
      req.write(head);
      const end = o.abortAfter ?? o.file.length;
      const piece = o.piece ?? o.file.length;
      for (let at = 0; at < end; at += piece) {
        req.write(o.file.subarray(at, Math.min(end, at + piece)));
        if (o.pauseMs) await new Promise((r) => setTimeout(r, o.pauseMs));
      }
      if (o.abortAfter !== undefined) {
        await new Promise((r) => setTimeout(r, 300));
        req.destroy();
        return;
      }
      req.end(tail);
    })();
  });
}

async function metric(outcome: string): Promise<number> {
  const text = (await api(t, undefined, 'GET', '/metrics')).text;
  const line = text.split('\n').find((l) => l.startsWith(`batchgate_upload_early_reads_total{outcome="${outcome}"}`));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

/** The stored objects of an upload, as bytes. */
async function stored(org: string, fileId: string): Promise<string[]> {
  const dir = join(t.storageDir, org);
  return Promise.all([`${fileId}.items.ndjson`, `${fileId}.errors.ndjson`].map((f) => readFile(join(dir, f), 'utf8')));
}

async function objectsOf(org: string): Promise<string[]> {
  return readdir(join(t.storageDir, org)).catch(() => []);
}

/** The answer without what differs between two uploads of the same bytes. */
function comparable(body: any): unknown {
  const strip = ({ fileId, createdAt, expiresAt, duplicateOf, ...rest }: any) => {
    void fileId;
    void createdAt;
    void expiresAt;
    void duplicateOf;
    return rest;
  };
  if (body?.files) return { ...body, files: body.files.map(strip) };
  if (body?.error) return { ...body, requestId: undefined };
  return strip(body);
}

// A deterministic CSV with quoted commas, quotes and newlines, and a rejected row now and then.
function csvFile(rows: number): Buffer {
  let s = 'content,externalId,tag\n';
  for (let i = 1; i <= rows; i++) {
    const content =
      i % 97 === 0
        ? ''
        : i % 5 === 0
          ? `"line one ${i}\nline two, ""quoted"""`
          : i % 3 === 0
            ? `"a, b ${i}"`
            : `row ${i}`;
    s += `${content},ext-${i},t${i % 7}\n`;
  }
  return Buffer.from(s);
}

const files: [string, { name: string; format: string; file: Buffer; type?: string }][] = [
  ['a CSV read by the pool (quoted newlines across chunks)', { name: 'big.csv', format: 'csv', file: csvFile(12_000) }],
  [
    'a windows-1252 CSV (the read restarts)',
    {
      name: 'latin.csv',
      format: 'csv',
      file: Buffer.concat([
        Buffer.from('content,externalId\n'),
        Buffer.from('caf\xe9 cr\xe8me,x1\n'.repeat(9000), 'latin1'),
      ]),
    },
  ],
  ['a gzip CSV', { name: 'rows.csv.gz', format: 'csv', file: gzipSync(csvFile(5000)) }],
  [
    'NDJSON whose first line is longer than the format sniff reads',
    {
      name: 'long.ndjson',
      format: 'ndjson',
      file: Buffer.from(
        [JSON.stringify({ content: 'x'.repeat(100_000), externalId: 'long' })]
          .concat(
            Array.from({ length: 3000 }, (_, i) =>
              JSON.stringify({ content: i % 50 ? `item ${i}` : '', externalId: `n${i}` }),
            ),
          )
          .join('\n') + '\n',
      ),
    },
  ],
  [
    'a JSON array',
    {
      name: 'rows.json',
      format: 'json',
      file: Buffer.from(
        JSON.stringify(
          Array.from({ length: 4000 }, (_, i) => ({ content: i % 41 ? `json ${i}` : ' ', externalId: `j${i}` })),
        ),
      ),
    },
  ],
  [
    'a CSV without one valid row (400)',
    { name: 'bad.csv', format: 'csv', file: Buffer.from('content,externalId\n,1\n,2\n') },
  ],
];

describe('the first file read as it arrives', () => {
  it.each(files)('%s: the same answer and stored bytes as the read of the finished spool file', async (_label, f) => {
    const used = await metric('used');
    const dropped = await metric('dropped');
    // Early: the fields first, the file trickling in. Reference: the same field after the file, so
    // the early read (which saw no format) is dropped and the spool file is read once it is complete.
    const early = await send(t.keys.pro, {
      fields: [['format', f.format]],
      name: f.name,
      file: f.file,
      piece: 8192,
      pauseMs: 2,
    });
    const spool = await send(t.keys.pro, { fieldsAfter: [['format', f.format]], name: f.name, file: f.file });
    expect(early.status).toBe(spool.status);
    expect(comparable(early.body)).toEqual(comparable(spool.body));
    expect(await metric('dropped')).toBe(dropped + 1);
    if (spool.status === 200) {
      expect(await metric('used')).toBe(used + 1);
      expect(early.body.fileId).not.toBe(spool.body.fileId);
      expect(await stored(t.orgs.pro, early.body.fileId)).toEqual(await stored(t.orgs.pro, spool.body.fileId));
      for (const id of [early.body.fileId, spool.body.fileId])
        expect((await api(t, t.keys.pro, 'DELETE', `/v1/batch/upload/${id}`)).status).toBe(204);
    }
    // The early read a refusal or the dropped read left nothing behind.
    await waitFor(async () => (await objectsOf(t.orgs.pro)).length === 0, Boolean, 10_000);
  });

  it('a client gone mid-file leaves nothing of the early read', async () => {
    const dropped = await metric('dropped');
    const res = await send(t.keys.enterprise, {
      name: 'gone.csv',
      file: csvFile(12_000),
      abortAfter: 300_000,
      piece: 65536,
    });
    expect(res.status).toBe(0);
    await waitFor(async () => (await metric('dropped')) === dropped + 1, Boolean, 10_000);
    await waitFor(async () => (await objectsOf(t.orgs.enterprise)).length === 0, Boolean, 10_000);
    const spool = await readdir(join(t.storageDir, '.spool')).catch(() => []);
    expect(spool).toEqual([]);
  });

  it('fields after the file that are refused: 400, nothing stored', async () => {
    const res = await send(t.keys.pro, {
      name: 'a.csv',
      file: csvFile(200),
      fieldsAfter: [['schema', 'no-such-schema']],
    });
    expect(res.status).toBe(400);
    await waitFor(async () => (await objectsOf(t.orgs.pro)).length === 0, Boolean, 10_000);
  });

  it("a first file over the plan's limit: 413, nothing stored", async () => {
    const res = await send(tinyKey, { name: 'big.csv', file: csvFile(12_000), piece: 65536, pauseMs: 5 });
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('payload_too_large');
    await waitFor(async () => (await objectsOf(tinyOrg)).length === 0, Boolean, 10_000);
  });

  it('several files: the first read early, the second (the same bytes) noticed as its duplicate', async () => {
    const used = await metric('used');
    const file = csvFile(3000);
    const res = await send(t.keys.pro, {
      name: 'one.csv',
      file,
      piece: 16384,
      pauseMs: 1,
      more: [{ name: 'two.csv', file }],
    });
    expect(res.status).toBe(200);
    expect(res.body.files.map((f: any) => f.originalFileName)).toEqual(['one.csv', 'two.csv']);
    expect(res.body.files[1].duplicateOf.fileId).toBe(res.body.files[0].fileId);
    expect(comparable(res.body.files[0])).toEqual({
      ...(comparable(res.body.files[1]) as object),
      index: 0,
      originalFileName: 'one.csv',
    });
    expect(await metric('used')).toBe(used + 1);
    for (const f of res.body.files)
      expect((await api(t, t.keys.pro, 'DELETE', `/v1/batch/upload/${f.fileId}`)).status).toBe(204);
  });
});
