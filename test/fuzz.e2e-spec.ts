/**
 * Fuzzing POST /v1/batch/upload (and a few POST /v1/batch bodies) over real HTTP with generated
 * CSV, JSON and NDJSON files, random bytes, truncations, gzip, other encodings, huge cells, random
 * form fields and hand-made (often broken) multipart bodies. It asserts only what must hold for any
 * input: the answer is 2xx, 4xx or 503, with API.md's error envelope when it is not 2xx; the process
 * stays up; and storage holds exactly the objects of the uploads that answered 200 (no partial
 * objects, no spool files once an answer is sent).
 *
 * Seeded: the seed is printed, and FUZZ_SEED=<seed> replays a run. FUZZ_CASES and FUZZ_MS bound it
 * (defaults keep the spec well under 20 s on a slow 2-core machine).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';
import { api, startApp, type TestApp } from './support/app';
import { plansFile } from './support/plans';

const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
const MAX_CASES = Number(process.env.FUZZ_CASES ?? 400);
const BUDGET_MS = Number(process.env.FUZZ_MS ?? 10_000);

jest.setTimeout(BUDGET_MS + 60_000);
/** Small limits, so that over-size files and rows are cheap to make. */
const MAX_FILE_BYTES = 256 * 1024;
const MAX_RECORD_BYTES = 16 * 1024;

type Random = () => number;

/** mulberry32 */
function prng(seed: number): Random {
  let s = seed | 0;
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let x = Math.imul(s ^ (s >>> 15), 1 | s);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const int = (r: Random, n: number) => Math.floor(r() * n);
const pick = <T>(r: Random, xs: readonly T[]): T => xs[int(r, xs.length)];
const chance = (r: Random, p: number) => r() < p;
const bytesOf = (r: Random, n: number) => Buffer.from(Array.from({ length: n }, () => int(r, 256)));

const ATOMS = [
  '',
  'a',
  'hello world',
  'content',
  '"',
  '""',
  ',',
  ';',
  '\t',
  '|',
  '\n',
  '\r\n',
  '\r',
  '\u0000',
  '\\',
  '{',
  '}',
  '[',
  ']',
  ':',
  'é',
  '日本語',
  '\uFEFF',
  '\uD800',
  '😀',
  '=SUM(A1:A2)',
  '+1',
  '-',
  '.',
  'e',
  'E',
  ' ',
  'constructor',
  '__proto__',
  'toString',
  'true',
  'null',
  '007',
  '1e999',
  '12345678901234567890',
  '9007199254740993',
  '-0',
  '\u2028',
  '\u0001',
  '\u007f',
] as const;

/** Atoms that keep a file readable: about half the cases use only these, so that files get through to storage. */
const TAME_ATOMS = ATOMS.filter(
  (a) =>
    ![...a].some(
      (ch) =>
        ch === '"' ||
        ch === '\\' ||
        ch === '\uFEFF' ||
        ch === '\uD800' ||
        ch < '\t' ||
        (ch > '\r' && ch < ' ') ||
        ch === '\u007f',
    ),
);

/**
 * Whether the case being generated is "wild" (anything goes) or "tame" (valid structure, mostly
 * valid fields, so that uploads succeed and the storage side is exercised).
 */
let wild = true;

function text(r: Random, atoms = 6): string {
  let s = '';
  const n = int(r, atoms + 1);
  for (let i = 0; i < n; i++) s += chance(r, 0.15) ? '9'.repeat(1 + int(r, 60)) : pick(r, wild ? ATOMS : TAME_ATOMS);
  if (chance(r, 0.01)) s += 'x'.repeat(int(r, 40_000));
  return s;
}

const KEYS = [
  'content',
  'externalId',
  'metadata',
  '__proto__',
  'constructor',
  'Content',
  ' content ',
  'price',
  'qty',
  'code',
];

function numberToken(r: Random): string {
  return pick(r, [
    String(int(r, 1000)),
    `-${int(r, 100)}.${int(r, 100)}`,
    '12345678901234567890',
    '1.5e+9999',
    '1e-400',
    '-0',
    '0e-400',
    '9007199254740991',
    '9007199254740992',
    '1'.repeat(1 + int(r, 3000)),
    '2.5E3',
  ]);
}

/** JSON text, written directly so that number tokens and nesting go to the file as generated. */
function jsonValue(r: Random, depth: number): string {
  if (depth > 4 || chance(r, 0.4)) {
    return pick(r, [
      () => JSON.stringify(text(r)),
      () => numberToken(r),
      () => pick(r, ['true', 'false', 'null']),
      () => (wild ? `"${text(r).replace(/["\\]/g, '')}"` : '"tame"'), // raw control characters: invalid JSON
    ])();
  }
  if (chance(r, 0.03)) {
    const levels = pick(r, [255, 256, 257, 300 + int(r, 3000)]);
    return '['.repeat(levels) + ']'.repeat(levels);
  }
  if (chance(r, 0.3)) {
    return `[${Array.from({ length: int(r, 4) }, () => jsonValue(r, depth + 1)).join(',')}]`;
  }
  return jsonObject(r, depth);
}

function jsonObject(r: Random, depth: number): string {
  const entries = Array.from({ length: int(r, 5) }, () => {
    const key = chance(r, 0.8) ? pick(r, KEYS) : text(r, 2);
    return `${JSON.stringify(key)}:${key === 'content' && chance(r, 0.7) ? JSON.stringify(text(r)) : jsonValue(r, depth + 1)}`;
  });
  if (chance(r, 0.6)) entries.unshift(`"content":${JSON.stringify('row ' + text(r, 2))}`);
  return `{${entries.join(pick(r, [',', ', ', ',\n']))}}`;
}

function csvFile(r: Random): string {
  const delimiter = pick(r, [',', ';', '\t', '|']);
  const eol = pick(r, ['\n', '\r\n', '\r']);
  const columns = 1 + int(r, 5);
  const header = Array.from({ length: columns }, (_, i) =>
    i === 1 && chance(r, 0.3)
      ? 'metadata'
      : i === 0 && chance(r, 0.8)
        ? 'content'
        : chance(r, 0.8)
          ? pick(r, KEYS)
          : text(r, 2),
  );
  const cell = (): string => {
    // JSON in a cell is parsed where the schema wants an object (the default schema's metadata)
    const s = chance(r, 0.2) ? numberToken(r) : chance(r, 0.1) ? jsonValue(r, 1) : text(r, 4);
    return chance(r, 0.5) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  const lines = [header.join(delimiter)];
  const rows = int(r, 30);
  for (let i = 0; i < rows; i++) {
    lines.push(Array.from({ length: Math.max(0, columns - 1 + int(r, 3)) }, cell).join(delimiter));
  }
  return lines.join(eol) + (chance(r, 0.7) ? eol : '');
}

function jsonFile(r: Random): string {
  const rows = Array.from({ length: int(r, 20) }, () => (chance(r, 0.85) ? jsonObject(r, 0) : jsonValue(r, 0)));
  const array = `[${rows.join(pick(r, [',', ',\n', ' , ']))}]`;
  return pick(r, [
    () => array,
    () => array,
    () => `{"name":${JSON.stringify(text(r))},"items":${array},"more":${jsonValue(r, 1)}}`,
    () => `{"meta":${jsonValue(r, 1)}}`,
    () => jsonValue(r, 3),
    () => `${array} ${text(r, 2)}`,
  ])();
}

function ndjsonFile(r: Random): string {
  const lines = Array.from({ length: int(r, 25) }, () =>
    chance(r, 0.85) ? jsonObject(r, 0) : chance(r, 0.5) ? '' : jsonValue(r, 0),
  );
  return lines.join(pick(r, ['\n', '\r\n'])) + (chance(r, 0.5) ? '\n' : '');
}

/** A file's bytes: text in some encoding, or raw bytes; then maybe cut, corrupted or gzipped. */
function fileBytes(r: Random): { kind: string; bytes: Buffer } {
  const kind = pick(r, wild ? ['csv', 'csv', 'json', 'json', 'ndjson', 'ndjson', 'bytes'] : ['csv', 'json', 'ndjson']);
  let bytes: Buffer;
  if (kind === 'bytes') bytes = bytesOf(r, int(r, 3000));
  else {
    const body = kind === 'csv' ? csvFile(r) : kind === 'json' ? jsonFile(r) : ndjsonFile(r);
    bytes = pick(r, [
      () => Buffer.from(body, 'utf8'),
      () => Buffer.from(body, 'utf8'),
      () => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(body, 'utf8')]),
      () => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(body, 'utf16le')]),
      () => Buffer.from(body, 'utf16le'),
      () => Buffer.from(body, 'latin1'),
    ])();
  }
  if (!wild) return { kind, bytes };
  if (chance(r, 0.15)) bytes = bytes.subarray(0, int(r, bytes.length + 1));
  if (chance(r, 0.1) && bytes.length) {
    bytes = Buffer.from(bytes);
    for (let k = 0; k < 1 + int(r, 4); k++) bytes[int(r, bytes.length)] = int(r, 256);
  }
  if (chance(r, 0.05)) bytes = Buffer.concat([bytes, Buffer.alloc(int(r, 300_000), pick(r, [0x61, 0x0a, 0x22, 0]))]);
  if (chance(r, 0.12)) {
    const gz = chance(r, 0.1) ? gzipSync(Buffer.alloc(1024 * 1024)) : gzipSync(bytes);
    bytes = chance(r, 0.2) ? gz.subarray(0, int(r, gz.length)) : gz;
  }
  return { kind, bytes };
}

const NAMES = [
  'data.csv',
  'data.json',
  'rows.ndjson',
  'rows.jsonl',
  'data.csv.gz',
  'data.json.gz',
  'upload',
  'x.__proto__',
  'x.constructor',
  'sheet.xlsx',
  'a b.tsv',
  '日本.csv',
  'x'.repeat(300) + '.csv',
];
const TYPES = [
  'text/csv',
  'application/json',
  'application/x-ndjson',
  'application/octet-stream',
  'constructor/x',
  'text/plain; charset=utf-8',
  '__proto__/x',
];
const FIELDS: Record<string, readonly string[]> = {
  schema: ['default', 'priced', 'nope', '__proto__', 'constructor', ''],
  format: ['csv', 'json', 'ndjson', 'CSV', 'xml', 'constructor', '__proto__', ''],
  encoding: ['utf-8', 'utf-16le', 'utf-16be', 'windows-1252', 'latin1', 'constructor', '__proto__', 'toString', 'x'],
};

interface Case {
  describe: string;
  send(): Promise<Response>;
  /** The organization whose storage a 200 upload writes to. */
  org?: string;
}

function uploadCase(r: Random, t: TestApp): Case {
  const { kind, bytes } = fileBytes(r);
  const name = wild ? pick(r, NAMES) : `tame.${kind === 'bytes' ? 'csv' : kind}`;
  const type = wild && chance(r, 0.7) ? pick(r, TYPES) : undefined;
  const fields: [string, string][] = [];
  for (const [field, values] of Object.entries(FIELDS)) {
    if (chance(r, wild ? 0.35 : 0.15)) fields.push([field, wild ? pick(r, values) : pick(r, values.slice(0, 2))]);
  }
  if (wild && chance(r, 0.05)) fields.push(['format', 'csv'], ['format', 'json']);
  if (wild && chance(r, 0.05)) fields.push([text(r, 2) || 'extra', text(r, 3)]);
  if (wild && chance(r, 0.02)) fields.push(['schema', 'x'.repeat(2000)]);
  const keyName = wild ? pick(r, ['pro', 'pro', 'pro', 'pro', 'enterprise', 'free', 'bad'] as const) : 'pro';
  const key = keyName === 'bad' ? 'not-a-key-at-all' : t.keys[keyName];
  const org = keyName === 'bad' ? undefined : t.orgs[keyName];
  const fieldsAfter = chance(r, 0.3);
  const describe = `upload ${kind} ${bytes.length} B as ${JSON.stringify(name)} (${type ?? 'no type'}) fields ${JSON.stringify(fields)} key ${keyName}: ${JSON.stringify(bytes.subarray(0, 120).toString('latin1'))}`;
  const raw = wild && chance(r, 0.25);
  return {
    describe: raw ? `raw multipart ${describe}` : describe,
    org,
    send: () => {
      if (raw) return sendRawMultipart(r, t, key, bytes, name, type, fields);
      const form = new FormData();
      if (!fieldsAfter) for (const [k, v] of fields) form.append(k, v);
      form.append('file', new Blob([bytes], type ? { type } : {}), name);
      if (fieldsAfter) for (const [k, v] of fields) form.append(k, v);
      return fetch(`${t.url}/v1/batch/upload`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${key}` },
        body: form,
        signal: AbortSignal.timeout(15_000),
      });
    },
  };
}

/** A multipart body built by hand, often broken in one of the ways clients break them. */
function sendRawMultipart(
  r: Random,
  t: TestApp,
  key: string,
  file: Buffer,
  name: string,
  type: string | undefined,
  fields: [string, string][],
): Promise<Response> {
  const boundary = `----fuzz${int(r, 1e9)}`;
  const parts: Buffer[] = [];
  const part = (headers: string, body: Buffer) =>
    parts.push(Buffer.from(`--${boundary}\r\n${headers}\r\n\r\n`), body, Buffer.from('\r\n'));
  for (const [k, v] of fields) part(`Content-Disposition: form-data; name="${k}"`, Buffer.from(v));
  const fileName = chance(r, 0.1) ? name.replace(/"/g, '') + '"; x="' : name;
  const partName = chance(r, 0.1) ? pick(r, ['files', '', 'file[]']) : 'file';
  const headers = chance(r, 0.05)
    ? 'Content-Type: text/plain'
    : `Content-Disposition: form-data; name="${partName}"; filename="${fileName}"${type ? `\r\nContent-Type: ${type}` : ''}`;
  part(headers, file);
  if (chance(r, 0.1)) part(headers, file);
  if (chance(r, 0.05))
    for (let i = 0; i < 12; i++) part(`Content-Disposition: form-data; name="f${i}"`, Buffer.from('v'));
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  let body = Buffer.concat(parts);
  if (chance(r, 0.3)) body = body.subarray(0, int(r, body.length));
  if (chance(r, 0.1)) body = bytesOf(r, int(r, 500));
  const contentType = pick(r, [
    `multipart/form-data; boundary=${boundary}`,
    `multipart/form-data; boundary=${boundary}`,
    `multipart/form-data; boundary=${boundary}`,
    'multipart/form-data',
    `multipart/form-data; boundary=other`,
    'application/json',
    'text/csv',
  ]);
  return fetch(`${t.url}/v1/batch/upload`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${key}`, 'Content-Type': contentType },
    body,
    signal: AbortSignal.timeout(15_000),
  });
}

function itemsCase(r: Random, t: TestApp): Case {
  const items = Array.from({ length: int(r, 12) }, () => (chance(r, 0.8) ? jsonObject(r, 0) : jsonValue(r, 0)));
  let body = `{"items":[${items.join(',')}]${chance(r, 0.3) ? `,"schema":${JSON.stringify(pick(r, FIELDS.schema))}` : ''}}`;
  if (wild && chance(r, 0.1)) body = body.slice(0, int(r, body.length));
  return {
    describe: `POST /v1/batch ${JSON.stringify(body.slice(0, 200))}`,
    send: () =>
      fetch(`${t.url}/v1/batch`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${t.keys.pro}`, 'Content-Type': 'application/json' },
        body,
        signal: AbortSignal.timeout(15_000),
      }),
  };
}

/** Every regular file under `dir`, relative to it. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

let t: TestApp;
let schemasDir: string;

beforeAll(async () => {
  schemasDir = await mkdtemp(join(tmpdir(), 'batchgate-fuzz-'));
  await writeFile(
    join(schemasDir, 'priced.json'),
    JSON.stringify({
      type: 'object',
      required: ['content'],
      properties: {
        content: { type: 'string', minLength: 1 },
        price: { type: 'number' },
        qty: { type: 'integer', minimum: 0 },
        code: { type: 'string', pattern: '^\\d*\\d*x$' },
        metadata: { type: 'object' },
      },
    }),
  );
  t = await startApp({
    SCHEMAS_DIR: schemasDir,
    MAX_RECORD_BYTES: String(MAX_RECORD_BYTES),
    PLANS_FILE: await plansFile({
      pro: { maxFileBytes: MAX_FILE_BYTES },
      enterprise: { maxFileBytes: MAX_FILE_BYTES },
    }),
  });
  const deadline = Date.now() + 5000;
  while ((await api(t, undefined, 'GET', '/ready')).status !== 200) {
    if (Date.now() > deadline) throw new Error('the app never became ready');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
});
afterAll(async () => {
  await t?.close();
  await rm(schemasDir, { recursive: true, force: true });
});

it(`answers every generated request with 2xx, 4xx or 503 and its envelope, and leaves storage clean (seed ${SEED})`, async () => {
  console.log(`fuzz seed ${SEED} (FUZZ_SEED=${SEED} replays this run)`);
  const r = prng(SEED);
  const problems: string[] = [];
  const expected = new Set<string>();
  const statuses = new Map<number, number>();
  const started = Date.now();
  let n = 0;
  for (; n < MAX_CASES && Date.now() - started < BUDGET_MS && problems.length < 5; n++) {
    wild = chance(r, 0.5);
    const c = chance(r, 0.12) ? itemsCase(r, t) : uploadCase(r, t);
    const where = `case ${n} (seed ${SEED}): ${c.describe}`;
    let res: Response;
    let bodyText: string;
    try {
      res = await c.send();
      bodyText = await res.text();
    } catch (e) {
      problems.push(`${where}\n  -> no answer: ${(e as Error).message}`);
      continue;
    }
    statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    const s = res.status;
    if (!((s >= 200 && s < 300) || (s >= 400 && s < 500) || s === 503)) {
      problems.push(`${where}\n  -> ${s} ${bodyText.slice(0, 300)}`);
      continue;
    }
    let body: any;
    try {
      body = JSON.parse(bodyText);
    } catch {
      problems.push(`${where}\n  -> ${s} with a body that is not JSON: ${bodyText.slice(0, 200)}`);
      continue;
    }
    if (s >= 300) {
      const e = body?.error;
      if (typeof e?.code !== 'string' || typeof e?.message !== 'string' || typeof body?.requestId !== 'string') {
        problems.push(`${where}\n  -> ${s} without the error envelope: ${bodyText.slice(0, 300)}`);
      }
    } else if (c.org) {
      // One file's fileId, or each accepted file's of a several-files answer (API.md "Several files").
      const ids = [body.fileId, ...(Array.isArray(body.files) ? body.files.map((f: any) => f?.fileId) : [])];
      for (const id of ids.filter((x) => typeof x === 'string')) {
        expected.add(`${c.org}/${id}.items.ndjson`);
        expected.add(`${c.org}/${id}.errors.ndjson`);
      }
    }
    // Once an answer is sent, nothing half-written remains: no spool file, no partial object.
    const left = (await filesUnder(t.storageDir)).filter((f) => f.startsWith('.spool/') || f.endsWith('.partial'));
    if (left.length) problems.push(`${where}\n  -> ${s}, and left behind: ${left.join(', ')}`);
  }
  console.log(
    `fuzz: ${n} requests in ${Date.now() - started} ms, answers ${JSON.stringify(Object.fromEntries([...statuses].sort((a, b) => a[0] - b[0])))}`,
  );
  expect(problems).toEqual([]);

  expect((await api(t, undefined, 'GET', '/health')).status).toBe(200);
  const stored = await filesUnder(t.storageDir);
  expect(stored).toEqual([...expected].sort());
  // What was stored reads back as NDJSON.
  for (const file of stored) {
    const lines = (await readFile(join(t.storageDir, file), 'utf8')).split('\n').filter(Boolean);
    for (const line of lines) expect(() => JSON.parse(line) as unknown).not.toThrow();
  }
});

it('the process still answers and a plain upload still works', async () => {
  const form = new FormData();
  form.append('file', new Blob([Buffer.from('content\nstill fine\n')]), `after-${randomBytes(2).toString('hex')}.csv`);
  const res = await fetch(`${t.url}/v1/batch/upload`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${t.keys.pro}` },
    body: form,
  });
  expect(res.status).toBe(200);
});
