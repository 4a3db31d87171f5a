import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { type AddressInfo, createServer as createTcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { api, startApp, type TestApp } from './support/app';
import { plansFile } from './support/plans';

/**
 * Issue 16: the `batchgate` command line, spawned as a user runs it (node bin/batchgate.js, the
 * build in dist/) against the real app over real HTTP with the private Redis. Every output is piped
 * here, so none of it may carry an ANSI escape.
 */
jest.setTimeout(120_000);

const ROOT = join(__dirname, '..');
const BIN = join(ROOT, 'bin', 'batchgate.js');
const ESC = '\x1b[';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

let t: TestApp;
let dir: string;
let cfgHome: string;

function cli(
  args: string[],
  env: Record<string, string | undefined> = {},
  nodeArgs: string[] = [],
  cwd = dir,
): Promise<Run> {
  const started = Date.now();
  const child = spawn(process.execPath, [...nodeArgs, BIN, ...args], {
    cwd,
    env: {
      PATH: process.env.PATH,
      HOME: dir,
      XDG_CONFIG_HOME: cfgHome,
      BATCHGATE_URL: t.url,
      BATCHGATE_API_KEY: t.keys.pro,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      const run = { code, stdout, stderr, ms: Date.now() - started };
      // Piped: plain text only, whatever the command.
      if (stdout.includes(ESC) || stderr.includes(ESC)) reject(new Error(`ANSI codes in piped output:\n${stderr}`));
      else resolve(run);
    });
  });
}

/** The JSON document a --json run printed. */
const doc = (r: Run) => JSON.parse(r.stdout);

const csv = (...rows: string[]) => `content,externalId\n${rows.join('\n')}\n`;

async function file(name: string, body: string | Buffer): Promise<string> {
  const path = join(dir, name);
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, body);
  return path;
}

async function freePort(): Promise<number> {
  const server = createTcpServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

beforeAll(async () => {
  if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) {
    throw new Error('dist/cli/main.js is missing: run `npx nest build` (npm test does) before this spec');
  }
  t = await startApp({ WORKER_IN_PROCESS: 'true' });
  dir = await mkdtemp(join(tmpdir(), 'batchgate-cli-'));
  cfgHome = join(dir, 'config');
});

afterAll(async () => {
  await t?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('batchgate upload', () => {
  it('uploads a good file: counts and fileId on stdout, plain progress lines on stderr, exit 0', async () => {
    const path = await file('good.csv', csv('First claim,c-1', 'Second claim,c-2'));
    const r = await cli(['upload', path]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('2 items, 0 rows skipped');
    expect(r.stdout).toMatch(/fileId f_[\w-]+/);
    expect(r.stderr).toMatch(new RegExp(`${path}: sending \\d+ B`));
    expect(r.stderr).toContain(`${path}: 2 items, 0 rows skipped`);
    const fileId = /fileId (f_[\w-]+)/.exec(r.stdout)![1];
    const stored = await api(t, t.keys.pro, 'GET', `/v1/batch/upload/${fileId}`);
    expect(stored.body).toMatchObject({ fileId, itemCount: 2, status: 'available', originalFileName: 'good.csv' });
  });

  it('shows the first warnings as row, field, rule, message, says where the rest are, saves the rejected rows', async () => {
    const rows = ['a,1', ',2', 'c,3', ...Array.from({ length: 4 }, (_, i) => `,e-${i}`)];
    const path = await file('claims.csv', csv(...rows));
    const out = join(dir, 'claims.rejected.csv');
    const r = await cli(['upload', path, '--warnings', '2', '--errors-csv', out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('2 items, 5 rows skipped');
    expect(r.stdout).toMatch(/row\s+field\s+rule\s+message\n\s+3\s+content\s+required\s+Content is empty, row skipped/);
    expect(r.stdout).toMatch(/3 more rows skipped: batchgate upload errors f_[\w-]+/);
    expect(r.stdout).toContain(`rejected rows saved to ${out}`);
    const saved = await readFile(out, 'utf8');
    expect(saved.split('\r\n')[0]).toBe('content,externalId,_row,_field,_code,_error');
    expect(saved.trim().split('\r\n')).toHaveLength(6);
  });

  it('--fail-on-warnings: rows skipped exit 5, after the upload', async () => {
    const path = await file('warn.csv', csv('a,1', ',2'));
    const r = await cli(['upload', path, '--fail-on-warnings']);
    expect(r.code).toBe(5);
    expect(r.stdout).toContain('1 item, 1 row skipped');
    expect(r.stderr).toContain('1 row skipped (--fail-on-warnings)');
    const clean = await cli(['upload', await file('clean.csv', csv('a,1')), '--fail-on-warnings']);
    expect(clean.code).toBe(0);
  });

  it('several files go in one request: each answered on its own, a refused one exits 1 with its sentence', async () => {
    const good = await file('several/jan.csv', csv('a,1', 'b,2'));
    const bad = await file('several/feb.csv', csv('a,1', ',2'));
    const pdf = await file('several/scan.pdf', Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n', 'latin1'));
    const r = await cli(['upload', good, bad, pdf, '--path', '2026']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('3 files: 2 uploaded, 1 refused.');
    expect(r.stdout).toMatch(/scan\.pdf {2}refused \(415 unsupported_format\)/);
    expect(r.stderr).toMatch(/batchgate: .*scan\.pdf: The file is a PDF document/);

    const j = await cli(['upload', good, bad, pdf, '--path', '2026', '--json']);
    expect(j.code).toBe(1);
    const body = doc(j);
    expect(body.message).toBe('3 files: 2 uploaded, 1 refused.');
    expect(body.files.map((f: any) => [f.index, f.path, f.itemCount])).toEqual([
      [0, '2026/jan.csv', 2],
      [1, '2026/feb.csv', 1],
    ]);
    expect(body.errors).toEqual([expect.objectContaining({ index: 2, status: 415 })]);
    // The same bytes again: duplicateOf names the first upload of each.
    expect(body.files[0].duplicateOf).toMatchObject({ status: 'available' });
    expect(j.stdout).not.toContain('same bytes'); // --json: the document alone
    const human = await cli(['upload', good]);
    expect(human.stdout).toContain(`same bytes as upload ${body.files[0].fileId}`);
  });

  it("more files than the plan's maxFilesPerRequest: told by the 400, the CLI sends them in requests of that many", async () => {
    const small = await startApp({
      WORKER_IN_PROCESS: 'true',
      PLANS_FILE: await plansFile({
        pro: { maxFilesPerRequest: 2 },
        enterprise: { maxFilesPerRequest: 2, maxFileBytes: 40_000 },
      }),
    });
    try {
      const names = ['a', 'b', 'c', 'd', 'e'];
      const paths = await Promise.all(names.map((n, i) => file(`many/${n}.csv`, csv(`${n},${i}`, `${n}2,${i}`))));
      const env = { BATCHGATE_URL: small.url, BATCHGATE_API_KEY: small.keys.pro };
      const direct = await cli(['upload', ...paths, '--json'], env);
      expect(direct.code).toBe(0);
      expect(direct.stderr).toContain('batchgate: the plan allows 2 files per request; sending 5 in 3 requests');
      const body = doc(direct);
      expect(body.message).toBe('5 files: 5 uploaded, 0 refused.');
      expect(body.files.map((f: any) => [f.index, f.originalFileName, f.itemCount])).toEqual(
        names.map((n, i) => [i, `${n}.csv`, 2]),
      );
      const viaSessions = await cli(['upload', ...paths.slice(0, 3), '--session', '--json'], env);
      expect(viaSessions.code).toBe(0);
      expect(viaSessions.stderr).toContain('batchgate: the plan allows 2 files per request; sending 3 in 2 requests');
      expect(doc(viaSessions).files.map((f: any) => f.duplicateOf?.fileId)).toEqual(
        body.files.slice(0, 3).map((f: any) => f.fileId),
      );

      // Together past maxFileBytes × maxFilesPerRequest (144 KB with the multipart allowance): a 413
      // that names no file. One by one, each file gets its own verdict.
      const big = (n: string, rows: number) =>
        file(`many/${n}.csv`, csv(...Array.from({ length: rows }, (_, i) => `${n} row ${i} ${'x'.repeat(60)},${i}`)));
      const bigger = [...(await Promise.all(['f', 'g', 'h', 'i'].map((n) => big(n, 450)))), await big('j', 700)];
      const ent = await cli(['upload', ...bigger, '--json'], { ...env, BATCHGATE_API_KEY: small.keys.enterprise });
      expect(ent.stderr).toContain(
        'batchgate: the files are too large for one request together; sending 5 in 5 requests',
      );
      expect(ent.code).toBe(1);
      const entBody = doc(ent);
      expect(entBody.message).toBe('5 files: 4 uploaded, 1 refused.');
      expect(entBody.errors).toEqual([
        expect.objectContaining({
          index: 4,
          status: 413,
          error: expect.objectContaining({ code: 'payload_too_large' }),
        }),
      ]);
    } finally {
      await small.close();
    }
  });

  it('streams the file: the CLI holds no more of a 40 MB file sent direct than of a small one', async () => {
    // Peak RSS at exit, from a preload (process.resourceUsage().maxRSS, in KiB).
    const preload = await file(
      'peak-rss.js',
      "process.on('exit', () => process.stderr.write(`maxRSS ${process.resourceUsage().maxRSS}\\n`));",
    );
    const peak = (r: Run) => Number(/maxRSS (\d+)/.exec(r.stderr)![1]) * 1024;
    const big = join(dir, 'big.csv');
    const out = createWriteStream(big);
    out.write('content,externalId\n');
    for (let i = 0; i < 1_000_000; i++)
      if (!out.write(`big item number ${i} with some words,b-${i}\n`)) await once(out, 'drain');
    out.end();
    await once(out, 'finish');
    const bytes = (await stat(big)).size;
    expect(bytes).toBeGreaterThan(40e6);
    const env = { BATCHGATE_API_KEY: t.keys.enterprise }; // over pro's 10 MB
    const small = await cli(['upload', await file('small.csv', csv('a,1')), '-q'], env, ['-r', preload]);
    // --direct: one multipart request (without it, a file this large goes through an upload session).
    const large = await cli(['upload', big, '-q', '--direct'], env, ['-r', preload]);
    expect(large.code).toBe(0);
    expect(large.stdout).toContain('1,000,000 items, 0 rows skipped');
    expect(peak(large) - peak(small)).toBeLessThan(bytes / 2); // fetch with a stream body held it all (undici#4058)
  });

  it('a file refused alone (no content column) exits 1 with the service sentence and its row errors', async () => {
    const path = await file('nocontent.csv', 'title,externalId\nx,1\n');
    const r = await cli(['upload', path]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('refused (400 file_parsing_failed)');
    expect(r.stderr).toContain('Missing required column: content');
    const j = await cli(['upload', path, '--json']);
    expect(doc(j)).toMatchObject({ status: 400, error: { code: 'file_parsing_failed' } });
  });

  it('upload get, errors, preview, discard', async () => {
    const path = await file('reads.csv', csv('a,1', ',2', 'c,3'));
    const { fileId } = doc(await cli(['upload', path, '--json']));
    const got = await cli(['upload', 'get', fileId, '--json']);
    expect(doc(got)).toMatchObject({ fileId, status: 'available', itemCount: 2 });
    const errors = await cli(['upload', 'errors', fileId]);
    expect(errors.stdout).toMatch(/3\s+content\s+required\s+Content is empty/);
    expect(errors.stdout).toContain('1–1 of 1');
    const asCsv = await cli(['upload', 'errors', fileId, '--csv', '-']);
    expect(asCsv.stdout.split('\r\n')[1]).toBe(',2,3,content,required,"Content is empty, row skipped"');
    const preview = await cli(['upload', 'preview', fileId, '--json']);
    expect(doc(preview).items.map((i: any) => i.row)).toEqual([2, 4]);
    expect((await cli(['upload', 'discard', fileId])).stdout).toContain(`upload ${fileId} discarded`);
    const gone = await cli(['upload', 'get', fileId]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain('not found');
  });
});

describe('batchgate batch', () => {
  it('create --from-upload --wait --results: uploads, creates, follows to the end and writes the results', async () => {
    const a = await file('batch/a.csv', csv('a1,1', 'a2,2', 'a3,3'));
    const b = await file('batch/b.csv', csv('b1,1', ',2', 'b3,3'));
    const out = join(dir, 'results.ndjson');
    const r = await cli([
      'batch',
      'create',
      '--from-upload',
      a,
      '--from-upload',
      b,
      '--name',
      'two files',
      '--results',
      out,
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/batch b_[\w-]+ queued: 5 items from 2 files/);
    expect(r.stdout).toMatch(/completed {2}"two files"\n {2}5 of 5 items processed: 5 succeeded, 0 failed/);
    expect(r.stdout).toContain(`results: 5 lines written to ${out}`);
    expect(r.stderr).toMatch(/b_[\w-]+: completed: 5 of 5 items in/);
    const lines = (await readFile(out, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.row, l.status, l.output.content])).toEqual([
      [2, 'succeeded', 'a1'],
      [3, 'succeeded', 'a2'],
      [4, 'succeeded', 'a3'],
      [2, 'succeeded', 'b1'],
      [4, 'succeeded', 'b3'],
    ]);
    expect(new Set(lines.map((l) => l.fileId)).size).toBe(2);

    // The same command again: the same bytes already made that batch, so no second one.
    const again = await cli([
      'batch',
      'create',
      '--from-upload',
      a,
      '--from-upload',
      b,
      '--name',
      'two files',
      '--json',
    ]);
    expect(again.code).toBe(0);
    const id = /batch (b_[\w-]+) queued/.exec(r.stdout)![1];
    expect(doc(again).batch.id).toBe(id);
  });

  it('create --file-id: the same command run twice makes one batch (Idempotency-Key from the request)', async () => {
    const { fileId } = doc(await cli(['upload', await file('once.csv', csv('x,1')), '--json']));
    const first = await cli(['batch', 'create', '--file-id', fileId, '--json']);
    expect(first.code).toBe(0);
    const second = await cli(['batch', 'create', '--file-id', fileId]);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain(`batch ${doc(first).id} queued`);
    expect(second.stdout).toContain('created by an earlier run of this command');
    // Another request for the consumed file is the service's 409, its batch named.
    const other = await cli(['batch', 'create', '--file-id', fileId, '--name', 'other']);
    expect(other.code).toBe(1);
    expect(other.stderr).toContain(`This file was already used to create a batch (batch ${doc(first).id}).`);
  });

  it('--dry-run gives the verdict and consumes nothing; get, list, results, cancel', async () => {
    const { fileId } = doc(await cli(['upload', await file('dry.csv', csv('x,1', 'y,2')), '--json']));
    const dry = await cli(['batch', 'create', '--file-id', fileId, '--dry-run', '--json']);
    expect(doc(dry)).toMatchObject({ dryRun: true, verdict: 'accepted', itemCount: 2 });
    expect(doc(await cli(['upload', 'get', fileId, '--json'])).status).toBe('available');

    const created = doc(await cli(['batch', 'create', '--file-id', fileId, '--wait', '--json']));
    expect(created).toMatchObject({ status: 'completed', processedCount: 2 });
    const got = await cli(['batch', 'get', created.id]);
    expect(got.stdout).toContain(`${created.id}  completed`);
    const list = doc(await cli(['batch', 'list', '--status', 'completed', '--limit', '100', '--json']));
    expect(list.data.map((b: any) => b.id)).toContain(created.id);
    const results = await cli(['batch', 'results', created.id]);
    expect(results.stdout.trim().split('\n')).toHaveLength(2);
    const cancel = await cli(['batch', 'cancel', created.id]);
    expect(cancel.code).toBe(1);
    expect(cancel.stderr).toContain(`has already ended (completed)`);
  });
});

describe('exit codes and configuration', () => {
  it('2 for usage: unknown option, missing arguments, contradicting flags, no API key', async () => {
    expect((await cli(['upload', '--bogus'])).code).toBe(2);
    expect((await cli(['upload'])).code).toBe(2);
    expect((await cli(['batch', 'get'])).code).toBe(2);
    const both = await cli(['batch', 'create', '--file-id', 'f_x', '--from-upload', 'x.csv']);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('--file-id ID... or --from-upload FILE..., one of them');
    const noKey = await cli(['batch', 'list'], { BATCHGATE_API_KEY: undefined });
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toContain(`No API key: pass --api-key, set BATCHGATE_API_KEY, or put "apiKey" in ${cfgHome}`);
    expect((await cli(['upload', join(dir, 'missing.csv')])).code).toBe(2);
    expect((await cli(['--help'])).code).toBe(0);
  });

  it('1 for a refusal, with the sentence on stderr and the envelope with --json', async () => {
    const r = await cli(['batch', 'get', 'b_unknown', '--json']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('batchgate: Batch b_unknown not found.');
    expect(doc(r)).toMatchObject({ error: { code: 'batch_not_found' } });
    const bad = await cli(['batch', 'list'], { BATCHGATE_API_KEY: 'wrong-key-123' });
    expect(bad.code).toBe(1);
  });

  it('3 when nobody listens, after the retries', async () => {
    const port = await freePort();
    const r = await cli(['batch', 'list', '--retries', '2', '--retry-delay', '10'], {
      BATCHGATE_URL: `http://127.0.0.1:${port}`,
    });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('retrying in');
    expect(r.stderr).toContain(`Cannot reach http://127.0.0.1:${port}: connect ECONNREFUSED`);
    expect(r.stderr).toContain('(3 tries)');
    const up = await cli(['upload', await file('nowhere.csv', csv('a,1')), '--json'], {
      BATCHGATE_URL: `http://127.0.0.1:${port}`,
      BATCHGATE_RETRIES: '0',
    });
    expect(up.code).toBe(3);
    expect(doc(up)).toMatchObject({ error: { code: 'unreachable' } });
  });

  it('honours Retry-After: a 503 is tried again after the seconds it names', async () => {
    // A real HTTP server in front of the app that answers the first request 503 + Retry-After: 1,
    // as the service does when Redis is briefly unreachable, and forwards every later one.
    let first = true;
    const target = new URL(t.url);
    const proxy: Server = createServer((req, res) => {
      if (first) {
        first = false;
        req.resume();
        res.writeHead(503, { 'Content-Type': 'application/json', 'Retry-After': '1' });
        res.end(
          JSON.stringify({
            error: { code: 'FILE_STORAGE_UNAVAILABLE', message: 'File storage is temporarily unavailable.' },
            requestId: 'x',
          }),
        );
        return;
      }
      const upstream = httpRequest(
        { host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      req.pipe(upstream);
    });
    proxy.listen(0, '127.0.0.1');
    await once(proxy, 'listening');
    try {
      const port = (proxy.address() as AddressInfo).port;
      const r = await cli(['batch', 'list', '--retry-delay', '10'], { BATCHGATE_URL: `http://127.0.0.1:${port}` });
      expect(r.code).toBe(0);
      expect(r.stderr).toContain('503 File storage is temporarily unavailable. Retrying in 1.0 s');
      expect(r.ms).toBeGreaterThanOrEqual(1000);
    } finally {
      proxy.close();
    }
  });

  it('reads the config file under XDG_CONFIG_HOME; flags win over the environment', async () => {
    const home = join(dir, 'xdg');
    await mkdir(join(home, 'batchgate'), { recursive: true });
    await writeFile(join(home, 'batchgate', 'config.json'), JSON.stringify({ url: t.url, apiKey: t.keys.pro }));
    const r = await cli(['batch', 'list', '--json'], {
      XDG_CONFIG_HOME: home,
      BATCHGATE_URL: undefined,
      BATCHGATE_API_KEY: undefined,
    });
    expect(r.code).toBe(0);
    expect(doc(r).meta).toBeDefined();
    const flagWins = await cli(['batch', 'list', '--api-key', 'wrong-key-123'], { XDG_CONFIG_HOME: home });
    expect(flagWins.code).toBe(1);
    expect(flagWins.stderr).toMatch(/batchgate: .*(API key|Unauthorized|credential)/i);
    await writeFile(join(home, 'batchgate', 'config.json'), '{"url": 3}');
    const badFile = await cli(['batch', 'list'], { XDG_CONFIG_HOME: home, BATCHGATE_URL: undefined });
    expect(badFile.code).toBe(2);
    expect(badFile.stderr).toContain('"url" must be a string');
  });

  it('4 when the batch ends failed; Ctrl-C stops following (130) and leaves the batch alone', async () => {
    // An api without a worker: the batch waits, queued, while its items are removed from storage;
    // then a worker of the same service (same tag, queue, Redis and storage) finds them gone.
    const api1 = await startApp({});
    const tag = api1.orgs.pro.slice('pro-'.length);
    const env = { BATCHGATE_URL: api1.url, BATCHGATE_API_KEY: api1.keys.pro };
    let worker: TestApp | undefined;
    try {
      const { fileId } = doc(await cli(['upload', await file('doomed.csv', csv('a,1', 'b,2')), '--json'], env));
      const { id } = doc(await cli(['batch', 'create', '--file-id', fileId, '--json'], env));

      const following = spawn(process.execPath, [BIN, 'batch', 'get', id, '--wait', '--poll-interval', '100'], {
        env: { PATH: process.env.PATH, HOME: dir, XDG_CONFIG_HOME: cfgHome, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      following.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      await new Promise((r) => setTimeout(r, 1500));
      following.kill('SIGINT');
      const [code] = (await once(following, 'close')) as [number];
      expect(code).toBe(130);
      expect(stderr).toContain(`Stopped following ${id}; it goes on (batchgate batch get ${id}).`);

      await unlink(join(api1.storageDir, api1.orgs.pro, `${fileId}.items.ndjson`));
      worker = await startApp({ WORKER_IN_PROCESS: 'true', STORAGE_DIR: api1.storageDir }, { tag });
      const r = await cli(['batch', 'get', id, '--wait', '--poll-interval', '100'], env);
      expect(r.code).toBe(4);
      expect(r.stderr).toContain(`batchgate: batch ${id} failed: The batch items are no longer stored.`);
    } finally {
      await worker?.close();
      await api1.close();
    }
  });
});

describe('on a terminal', () => {
  // util-linux `script` gives the CLI a pseudo-terminal, as a person's shell would.
  const script = spawnSync('script', ['--version']).status === 0;

  (script ? it : it.skip)('draws bars and colours on a TTY, and no colour with NO_COLOR', async () => {
    // Big enough (about 5 MB) for the bar to be drawn at least once before the answer.
    const rows = Array.from({ length: 200_000 }, (_, i) => `tty item ${i},t-${i}`);
    const path = await file('tty.csv', `content,externalId\n,0\n${rows.join('\n')}\n`);
    // Spawned, not spawnSync: the app answering the CLI runs in this very process.
    const run = async (extra: string) => {
      const child = spawn('script', ['-qec', `${extra} "${process.execPath}" "${BIN}" upload "${path}"`, '/dev/null'], {
        env: {
          PATH: process.env.PATH,
          HOME: dir,
          XDG_CONFIG_HOME: cfgHome,
          BATCHGATE_URL: t.url,
          BATCHGATE_API_KEY: t.keys.pro,
          TERM: 'xterm',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      const [status] = (await once(child, 'close')) as [number];
      return { status, stdout };
    };
    const coloured = await run('');
    expect(coloured.status).toBe(0);
    expect(coloured.stdout).toMatch(/[█░]{24}/); // the bar
    expect(coloured.stdout).toContain(`${ESC}33m200,000 items, 1 row skipped${ESC}39m`);
    const plain = await run('NO_COLOR=1');
    expect(plain.status).toBe(0);
    expect(plain.stdout).toMatch(/[█░]{24}/);
    expect(plain.stdout).not.toMatch(new RegExp(`${ESC.replace('[', '\\[')}\\d+m`)); // no SGR (colour) code
  });
});
