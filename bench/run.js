'use strict';
/**
 * `npm run bench`: the figures of issue 6, measured against the real service.
 *
 * Starts a private redis-server on a free port (never 6379) and its own api and worker processes
 * with a throw-away STORAGE_DIR, generates its data from a fixed seed, prints a table and writes the
 * raw samples to bench/out/. Everything it starts is stopped and removed at the end, on failure and
 * on Ctrl-C too.
 *
 *   BENCH_QUICK=1          small sizes, 1-2 runs: a smoke test of the harness (about a minute)
 *   BENCH_RUNS=n           runs per figure (default 5)
 *   BENCH_BIG_RUNS=n       runs of the 1 GB upload (default 3; 0 skips it)
 *   BENCH_WORKER_RUNS=n    runs of the 1M-item batch (default 5)
 *   BENCH_ONLY=a,b         phases: throughput, parallel, memory, worker, create, race, s3, cluster, files, sessions
 *                          (s3: upload throughput on STORAGE_DRIVER=s3 against a private s3rver, as a
 *                          ratio to the local driver; cluster: creates and workers on a private 3-master
 *                          Redis Cluster beside a standalone Redis; files: 10 files in one request vs
 *                          10 requests, and creates of 100-file batches; bench/phases/)
 *   BENCH_PROFILE=api,worker   run those processes with --cpu-prof (profiles in bench/out/prof)
 *   BENCH_DIST=dir         measure another build instead of ./dist (to compare two versions)
 *   BENCH_API_ENV="K=V,.." settings for the api and worker processes (e.g. INGEST_THREADS=0)
 *   BENCH_NODE_ARGS="..."  extra node/V8 flags for the api and worker processes (e.g. GC settings)
 *   BENCH_KEEP=1           keep the temp dir (data, logs of every process) for a look afterwards
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { randomBytes } = require('node:crypto');
const { startPrivateRedis, findFreePort } = require('../scripts/private-redis');
const baseline = require('./baseline');
const data = require('./data');
const http = require('./http');
const procs = require('./procs');
const {
  CONTENT_TYPES,
  check,
  uploadOk,
  discard,
  uploadSmall,
  createMany,
  healthMany,
  createBatch,
  waitCompleted,
} = require('./api');
const { MB, fmt, sizeLabel, summary, table } = require('./stats');
const s3Phase = require('./phases/s3');
const clusterPhase = require('./phases/cluster');
const filesPhase = require('./phases/files');
const sessionsPhase = require('./phases/sessions');
const parallelPhase = require('./phases/parallel');

const QUICK = process.env.BENCH_QUICK === '1';
const SEED = 20260601;
const PHASES = ['throughput', 'parallel', 'memory', 'worker', 'create', 'race', 's3', 'cluster', 'files', 'sessions'];
const WARMUP_ROUNDS = 3;

function intEnv(name, def, min = 1) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return def;
  if (!/^\d+$/.test(raw) || Number(raw) < min)
    throw new Error(`${name} must be a whole number >= ${min}, got "${raw}"`);
  return Number(raw);
}

const RUNS = intEnv('BENCH_RUNS', QUICK ? 2 : 5);
const CONFIG = {
  quick: QUICK,
  rows: QUICK ? 20_000 : 100_000,
  midBytes: QUICK ? 20 * MB : 100 * MB,
  bigBytes: QUICK ? 50 * MB : 1000 * MB,
  creates: QUICK ? 200 : 1000,
  createConcurrency: 50,
  raceConcurrency: 500,
  workerItems: QUICK ? 100_000 : 1_000_000,
  runs: RUNS,
  memoryRuns: intEnv('BENCH_MEMORY_RUNS', RUNS),
  bigRuns: Math.min(intEnv('BENCH_BIG_RUNS', QUICK ? 1 : 3, 0), intEnv('BENCH_MEMORY_RUNS', RUNS)),
  workerRuns: intEnv('BENCH_WORKER_RUNS', QUICK ? 1 : 5),
  seed: SEED,
  warmupRounds: WARMUP_ROUNDS,
  phases: (process.env.BENCH_ONLY || PHASES.join(',')).split(',').map((s) => s.trim()),
  profile: (process.env.BENCH_PROFILE || '').split(',').filter(Boolean),
};
for (const p of CONFIG.phases) if (!PHASES.includes(p)) throw new Error(`BENCH_ONLY: unknown phase "${p}"`);

const OUT_DIR = path.join(procs.ROOT, 'bench', 'out');

/** Figures, in the order they are printed. */
const figures = [];
function figure(name, samples, { unit, digits = 1, target, note } = {}) {
  figures.push({ name, samples, unit, digits, target, note });
}

/** The note for a figure measured fewer times than the others. */
function fewer(n, why) {
  return `${n} run${n === 1 ? '' : 's'} instead of ${CONFIG.runs}: ${why}`;
}

function log(message) {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

// ---------------------------------------------------------------------------------------------
// Setup

function machine() {
  const cpuinfo = fs.readFileSync('/proc/cpuinfo', 'utf8');
  const model = (cpuinfo.match(/^model name\s*:\s*(.+)$/m) || [])[1] || os.cpus()[0]?.model || 'unknown';
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: procs.ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], { cwd: procs.ROOT, encoding: 'utf8' });
    if (dirty.trim()) commit += ' + uncommitted src changes';
  } catch {
    // not a git checkout: keep "unknown"
  }
  return {
    date: new Date().toISOString(),
    nproc: os.availableParallelism ? os.availableParallelism() : os.cpus().length,
    cpu: model.trim(),
    build: process.env.BENCH_DIST || 'dist',
    nodeArgs: process.env.BENCH_NODE_ARGS || '',
    memory: `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
    node: process.version,
    commit,
  };
}

async function setup(ctx) {
  // A private copy of the build: a `nest build` started meanwhile (npm test, say) empties dist/,
  // and the api processes started later in the run must not find it half-written. It sits under
  // the repository so that node_modules resolves from it.
  const dist = path.resolve(process.env.BENCH_DIST || path.join(procs.ROOT, 'dist'));
  if (!fs.existsSync(path.join(dist, 'main.js'))) {
    throw new Error(`${path.join(dist, 'main.js')} is missing: run \`npm run bench\` (it builds first)`);
  }
  fs.mkdirSync(OUT_DIR, { recursive: true });
  ctx.dist = fs.mkdtempSync(path.join(OUT_DIR, 'dist-'));
  fs.cpSync(dist, ctx.dist, { recursive: true });
  ctx.tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'batchgate-bench-'));
  ctx.storageDir = path.join(ctx.tmp, 'storage');
  ctx.dataDir = path.join(ctx.tmp, 'data');
  fs.mkdirSync(ctx.dataDir, { recursive: true });
  fs.mkdirSync(path.join(ctx.tmp, 'logs'));
  ctx.log = (name) => path.join(ctx.tmp, 'logs', `${name}.log`);
  ctx.redis = await startPrivateRedis({ dir: path.join(ctx.tmp, 'redis'), persistent: false });
  log(`private redis-server on ${ctx.redis.url}, temp dir ${ctx.tmp}`);

  const tag = randomBytes(4).toString('hex');
  ctx.keys = { pro: `bench-pro-${tag}`, enterprise: `bench-ent-${tag}` };
  // The built-in plans with the limits that would stop a benchmark lifted: no worker consumes the
  // 1,000 created batches, so they all stay "active"; and a request rate limit would throttle the load.
  const plansFile = path.join(ctx.tmp, 'plans.json');
  const lifted = { maxConcurrentBatches: 1_000_000, requestsPerMinute: null };
  fs.writeFileSync(plansFile, JSON.stringify({ pro: lifted, enterprise: lifted }));
  ctx.env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    LANG: process.env.LANG || 'C.UTF-8',
    NODE_ENV: 'production',
    REDIS_URL: ctx.redis.url,
    STORAGE_DIR: ctx.storageDir,
    API_KEYS: `${ctx.keys.pro}:bench-pro:pro,${ctx.keys.enterprise}:bench-ent:enterprise`,
    PLANS_FILE: plansFile,
    WORKER_IN_PROCESS: 'false',
    PROCESSOR: 'accept',
    // The pinned AWS SDK warns once per process that its releases after January 2027 need Node 22.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    // BENCH_API_ENV="INGEST_THREADS=0,..." : settings of the api and worker processes (e.g. the in-thread path).
    ...Object.fromEntries(
      (process.env.BENCH_API_ENV || '')
        .split(',')
        .filter(Boolean)
        .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
    ),
  };
  const extra = (process.env.BENCH_NODE_ARGS || '').split(' ').filter(Boolean);
  ctx.nodeArgs = (which) => [
    ...extra,
    ...(CONFIG.profile.includes(which)
      ? ['-r', path.join(__dirname, 'prof-exit.js'), '--cpu-prof', '--cpu-prof-dir', path.join(OUT_DIR, 'prof')]
      : []),
  ];

  // The 10 MB files: the same rows as CSV, NDJSON and a JSON array.
  ctx.files = {};
  for (const format of ['csv', 'ndjson', 'json']) {
    const file = path.join(ctx.dataDir, `bench.${format}`);
    const stats = await data.writeGenerated(file, { format, seed: SEED, rows: CONFIG.rows });
    ctx.files[format] = { file, ...stats, buffer: fs.readFileSync(file) };
  }
  const csv = ctx.files.csv;
  log(
    `data: ${CONFIG.rows} rows (${csv.rows - csv.validRows} invalid); ` +
      Object.entries(ctx.files)
        .map(([f, s]) => `${f} ${(s.bytes / MB).toFixed(2)} MB`)
        .join(', '),
  );
}

/** The api shared by the throughput, worker, create and race phases (memory runs start their own). */
async function sharedApi(ctx) {
  if (!ctx.api) {
    ctx.api = await procs.startApi(ctx.dist, ctx.env, await findFreePort(), ctx.log('api'), ctx.nodeArgs('api'));
    log(`api pid ${ctx.api.pid} on port ${ctx.api.port}`);
  }
  return ctx.api;
}

// ---------------------------------------------------------------------------------------------
// 1-2. Baseline and upload throughput, side by side

async function throughputPhase(ctx) {
  const api = await sharedApi(ctx);
  const agent = http.agent(2);
  const validate = baseline.defaultValidator(ctx.dist);
  const out = path.join(ctx.dataDir, 'baseline-out.ndjson');
  const key = ctx.keys.enterprise; // the NDJSON and JSON files are over the pro plan's 10 MB
  const samples = {
    baseCsv: [],
    baseNdjson: [],
    csv: [],
    ndjson: [],
    json: [],
    ratioCsv: [],
    ratioNd: [],
    ratioJs: [],
  };

  const runBaseline = async (format) => {
    const f = ctx.files[format];
    const run = format === 'csv' ? baseline.csvBaseline : baseline.ndjsonBaseline;
    const t0 = http.now();
    const counts = await run(f.file, out, validate);
    const ms = http.now() - t0;
    fs.rmSync(out, { force: true });
    check(counts.valid === f.validRows, `baseline ${format}: ${counts.valid} valid rows, expected ${f.validRows}`);
    return f.bytes / MB / (ms / 1000);
  };
  const runUpload = async (format) => {
    const f = ctx.files[format];
    const res = await uploadOk(
      api,
      agent,
      key,
      { data: f.buffer, fileName: `bench.${format}`, contentType: CONTENT_TYPES[format] },
      f,
    );
    await discard(api, agent, key, res.json.fileId);
    return f.bytes / MB / (res.ms / 1000);
  };

  try {
    // Both sides get the same warm-up, so that neither is measured before its code is optimised.
    log(`throughput: ${WARMUP_ROUNDS} warm-up rounds`);
    for (let i = 0; i < WARMUP_ROUNDS; i++) {
      await runBaseline('csv');
      await runBaseline('ndjson');
      for (const format of ['csv', 'ndjson', 'json']) await runUpload(format);
    }
    for (let i = 0; i < CONFIG.runs; i++) {
      // Interleaved, so that a noisy moment on the machine hits both sides of a ratio alike.
      const bc = await runBaseline('csv');
      const uc = await runUpload('csv');
      const bn = await runBaseline('ndjson');
      const un = await runUpload('ndjson');
      const uj = await runUpload('json');
      samples.baseCsv.push(bc);
      samples.csv.push(uc);
      samples.ratioCsv.push(uc / bc);
      samples.baseNdjson.push(bn);
      samples.ndjson.push(un);
      samples.ratioNd.push(un / bn);
      samples.json.push(uj);
      samples.ratioJs.push(uj / bn);
      log(
        `throughput run ${i + 1}/${CONFIG.runs}: baseline csv ${bc.toFixed(1)}, upload csv ${uc.toFixed(1)}, ` +
          `baseline ndjson ${bn.toFixed(1)}, upload ndjson ${un.toFixed(1)}, upload json ${uj.toFixed(1)} MB/s`,
      );
    }
  } finally {
    agent.destroy();
  }
  const size = sizeLabel(ctx.files.csv.bytes);
  figure(`baseline CSV in-process (csv-parse + ajv + NDJSON to disk), ${size}`, samples.baseCsv, { unit: 'MB/s' });
  figure(`baseline NDJSON in-process (readline + JSON.parse + ajv + NDJSON)`, samples.baseNdjson, { unit: 'MB/s' });
  figure(`upload CSV ${size} over HTTP`, samples.csv, { unit: 'MB/s' });
  figure('upload CSV / baseline CSV', samples.ratioCsv, { unit: 'ratio', digits: 2, target: ['>=', 1.1] });
  figure(`upload NDJSON ${sizeLabel(ctx.files.ndjson.bytes)} over HTTP`, samples.ndjson, {
    unit: 'MB/s',
    target: ['>=', 60],
  });
  figure('upload NDJSON / baseline NDJSON', samples.ratioNd, { unit: 'ratio', digits: 2 });
  figure(`upload JSON array ${sizeLabel(ctx.files.json.bytes)} over HTTP`, samples.json, { unit: 'MB/s' });
  figure('upload JSON / baseline NDJSON', samples.ratioJs, {
    unit: 'ratio',
    digits: 2,
    note: 'no streaming JSON-array parser among the deps: compared with the NDJSON baseline (same rows)',
  });
}

// ---------------------------------------------------------------------------------------------
// 3. Memory: peak RSS of a fresh api process, idle and after growing uploads

async function memoryPhase(ctx) {
  const s = { idle: [], small: [], mid: [], big: [], midRate: [], bigRate: [] };
  const key = ctx.keys.enterprise;
  const streamed = (bytes) => data.generate({ format: 'csv', seed: SEED + 1, bytes });
  for (let r = 0; r < CONFIG.memoryRuns; r++) {
    const api = await procs.startApi(
      ctx.dist,
      ctx.env,
      await findFreePort(),
      ctx.log(`api-memory-${r + 1}`),
      ctx.nodeArgs('api'),
    );
    const agent = http.agent(1);
    try {
      await procs.delay(1000);
      const idle = procs.memoryOf(api.pid).peak;
      const f = ctx.files.csv;
      const small = await uploadOk(api, agent, key, { data: f.buffer, fileName: 'm.csv', contentType: 'text/csv' }, f);
      await discard(api, agent, key, small.json.fileId);
      const afterSmall = procs.memoryOf(api.pid).peak;
      const mid = await uploadOk(api, agent, key, {
        data: streamed(CONFIG.midBytes),
        fileName: 'mid.csv',
        contentType: 'text/csv',
      });
      await discard(api, agent, key, mid.json.fileId);
      const afterMid = procs.memoryOf(api.pid).peak;
      s.idle.push(idle / MB);
      s.small.push((afterSmall - idle) / MB);
      s.mid.push((afterMid - idle) / MB);
      s.midRate.push(CONFIG.midBytes / MB / (mid.ms / 1000));
      let line = `memory run ${r + 1}/${CONFIG.memoryRuns}: idle ${(idle / MB).toFixed(1)} MB, growth ${s.small.at(-1).toFixed(1)} / ${s.mid.at(-1).toFixed(1)}`;
      if (r < CONFIG.bigRuns) {
        const big = await uploadOk(api, agent, key, {
          data: streamed(CONFIG.bigBytes),
          fileName: 'big.csv',
          contentType: 'text/csv',
        });
        await discard(api, agent, key, big.json.fileId);
        const afterBig = procs.memoryOf(api.pid).peak;
        s.big.push((afterBig - idle) / MB);
        s.bigRate.push(CONFIG.bigBytes / MB / (big.ms / 1000));
        line += ` / ${s.big.at(-1).toFixed(1)}`;
      }
      log(`${line} MB`);
    } finally {
      agent.destroy();
      await api.stop();
    }
  }
  figure('api peak RSS (VmHWM), idle', s.idle, { unit: 'MB' });
  figure(`api peak RSS growth after ${sizeLabel(ctx.files.csv.bytes)} CSV`, s.small, {
    unit: 'MB',
    target: ['<=', 40],
  });
  figure(`api peak RSS growth after + ${sizeLabel(CONFIG.midBytes)} CSV`, s.mid, { unit: 'MB', target: ['<=', 40] });
  figure(`api peak RSS growth after + ${sizeLabel(CONFIG.bigBytes)} CSV`, s.big, {
    unit: 'MB',
    target: ['<=', 40],
    note:
      s.big.length < CONFIG.runs
        ? fewer(s.big.length, `each ${sizeLabel(CONFIG.bigBytes)} upload takes long`)
        : undefined,
  });
  figure(`upload CSV ${sizeLabel(CONFIG.midBytes)}, generated while sent`, s.midRate, { unit: 'MB/s' });
  figure(`upload CSV ${sizeLabel(CONFIG.bigBytes)}, generated while sent`, s.bigRate, { unit: 'MB/s' });
}

// ---------------------------------------------------------------------------------------------
// 5. Worker: a 1M-item batch through the accept processor

async function workerPhase(ctx) {
  const api = await sharedApi(ctx);
  const worker = await procs.startWorker(ctx.dist, ctx.env, ctx.log('worker'), ctx.nodeArgs('worker'));
  log(`worker pid ${worker.pid}`);
  const agent = http.agent(2);
  const key = ctx.keys.enterprise;
  const rates = [];
  try {
    for (let r = 0; r < CONFIG.workerRuns; r++) {
      const up = await uploadOk(api, agent, key, {
        data: data.generate({ format: 'csv', seed: SEED + 10 + r, rows: CONFIG.workerItems, invalidRate: 0 }),
        fileName: 'items.csv',
        contentType: 'text/csv',
      });
      check(up.json.itemCount === CONFIG.workerItems, `worker upload has ${up.json.itemCount} items`);
      const t0 = http.now();
      const id = await createBatch(api, agent, key, up.json.fileId, `bench ${r}`);
      await waitCompleted(api, agent, key, id, CONFIG.workerItems);
      const ms = http.now() - t0;
      rates.push(CONFIG.workerItems / (ms / 1000));
      log(
        `worker run ${r + 1}/${CONFIG.workerRuns}: ${Math.round(rates.at(-1))} items/s (${(ms / 1000).toFixed(1)} s)`,
      );
    }
  } finally {
    agent.destroy();
    await worker.stop();
  }
  figure(`worker, ${CONFIG.workerItems.toLocaleString('en-US')}-item batch, accept (create to completed)`, rates, {
    unit: 'items/s',
    digits: 0,
    target: ['>=', 50_000],
    note: rates.length < CONFIG.runs ? fewer(rates.length, 'each run uploads and processes a 1M-row file') : undefined,
  });
}

// ---------------------------------------------------------------------------------------------
// 4. Create: latency and rate of POST /v1/batch on distinct fileIds

async function createPhase(ctx) {
  const api = await sharedApi(ctx);
  const key = ctx.keys.pro;
  const s = { p50: [], p99: [], rate: [], health: [], ratio: [] };
  // Every file is uploaded before the first timed create, so that no run shares the machine with
  // uploads (or with the writes and garbage they leave behind).
  // The request path (express, Nest, pino, ioredis, BullMQ) takes a few thousand requests to reach
  // its steady speed: the warm-up rounds are not counted.
  const warm = WARMUP_ROUNDS * CONFIG.creates;
  log(`create: uploading ${warm + CONFIG.runs * CONFIG.creates} small files`);
  const ids = await uploadSmall(api, key, warm + CONFIG.runs * CONFIG.creates, 8);
  await procs.delay(2000);
  for (let i = 0; i < WARMUP_ROUNDS; i++) {
    await createMany(api, key, ids.slice(i * CONFIG.creates, (i + 1) * CONFIG.creates), CONFIG.createConcurrency);
  }
  for (let r = 0; r < CONFIG.runs; r++) {
    const mine = ids.slice(warm + r * CONFIG.creates, warm + (r + 1) * CONFIG.creates);
    const res = await createMany(api, key, mine, CONFIG.createConcurrency);
    // The reference: GET /health (no Redis, no auth) at the same concurrency, right after.
    const health = await healthMany(api, CONFIG.creates, CONFIG.createConcurrency);
    s.p50.push(res.p50);
    s.p99.push(res.p99);
    s.rate.push(res.rate);
    s.health.push(health.p99);
    s.ratio.push(res.p99 / health.p99);
    log(
      `create run ${r + 1}/${CONFIG.runs}: p50 ${res.p50.toFixed(1)} ms, p99 ${res.p99.toFixed(1)} ms, ` +
        `${Math.round(res.rate)}/s; GET /health p99 ${health.p99.toFixed(1)} ms`,
    );
  }
  const what = `${CONFIG.creates} creates, ${CONFIG.createConcurrency} concurrent`;
  figure(`create p50 (${what})`, s.p50, { unit: 'ms' });
  figure(`create p99 (${what})`, s.p99, {
    unit: 'ms',
    target: ['<=', 25],
    note: 'keep-alive connections opened before timing; small files all uploaded before the first create',
  });
  figure(
    `GET /health p99 (${CONFIG.creates} requests, ${CONFIG.createConcurrency} concurrent, after each create run)`,
    s.health,
    {
      unit: 'ms',
    },
  );
  figure('create p99 / GET /health p99 (same run)', s.ratio, { unit: 'ratio', digits: 2, target: ['<=', 3] });
  figure(`creates per second (${what})`, s.rate, { unit: 'creates/s', digits: 0, target: ['>=', 1000] });
}

// ---------------------------------------------------------------------------------------------
// 6. Race: many concurrent creates on one fileId, exactly one winner

async function racePhase(ctx) {
  const api = await sharedApi(ctx);
  const key = ctx.keys.pro;
  const winners = [];
  const others = new Map();
  for (let r = 0; r < CONFIG.runs; r++) {
    const [fileId] = await uploadSmall(api, key, 1, 1);
    const agent = http.agent(CONFIG.raceConcurrency);
    let replies;
    try {
      replies = await Promise.all(
        Array.from({ length: CONFIG.raceConcurrency }, () =>
          http.json({ port: api.port, method: 'POST', path: '/v1/batch', key, agent, body: { fileId } }),
        ),
      );
    } finally {
      agent.destroy();
    }
    const won = replies.filter((x) => x.status === 202).length;
    for (const x of replies) if (x.status !== 202) others.set(x.status, (others.get(x.status) || 0) + 1);
    winners.push(won);
    log(`race run ${r + 1}/${CONFIG.runs}: ${won} x 202 of ${CONFIG.raceConcurrency}`);
  }
  const rest = [...others].map(([status, n]) => `${n} x ${status}`).join(', ');
  figure(`race: 202s among ${CONFIG.raceConcurrency} concurrent creates on one fileId`, winners, {
    unit: 'winners',
    digits: 0,
    target: ['==', 1],
    note: `the others: ${rest}`,
  });
}

// ---------------------------------------------------------------------------------------------
// Report

function met(target, value) {
  if (!target) return '';
  const [op, want] = target;
  const ok = op === '>=' ? value >= want : op === '<=' ? value <= want : value === want;
  return ok ? 'met' : 'MISSED';
}

function report(ctx) {
  const rows = figures
    .filter((f) => f.samples.length)
    .map((f) => {
      const s = summary(f.samples);
      const target = f.target
        ? `${f.target[0].replace('==', '=').replace('>=', '≥').replace('<=', '≤')} ${fmt(f.target[1], f.target[1] % 1 ? 1 : 0)}`
        : '';
      // Every sample must meet the race's target, not just the median.
      const verdict =
        f.target && f.target[0] === '=='
          ? f.samples.every((x) => x === f.target[1])
            ? 'met'
            : 'MISSED'
          : met(f.target, s.median);
      return [
        f.name,
        fmt(s.median, f.digits),
        s.runs > 1 ? `${fmt(s.min, f.digits)}–${fmt(s.max, f.digits)}` : '',
        f.unit,
        String(s.runs),
        target,
        verdict,
      ];
    });
  const m = ctx.machine;
  const lines = [
    '',
    `batchgate bench — ${m.date}, ${CONFIG.quick ? 'QUICK mode (small sizes, few runs: not the real figures)' : 'full mode'}`,
    `machine: ${m.nproc} cores, ${m.cpu}, ${m.memory} RAM; Node ${m.node}; commit ${m.commit}; build ${m.build}${m.nodeArgs ? `; node flags ${m.nodeArgs}` : ''}`,
    'MB = 10^6 bytes. Each figure: median of its runs, min–max beside it.',
    '',
    table(['figure', 'median', 'min–max', 'unit', 'runs', 'target', ''], rows),
  ];
  const notes = figures.filter((f) => f.note && f.samples.length).map((f) => `- ${f.name}: ${f.note}`);
  if (notes.length) lines.push('', 'notes:', ...notes);
  lines.push(
    '- pro and enterprise plans run with maxConcurrentBatches and requestsPerMinute lifted (PLANS_FILE): no worker drains the created batches.',
  );
  process.stdout.write(lines.join('\n') + '\n');

  fs.mkdirSync(OUT_DIR, { recursive: true });
  const file = path.join(OUT_DIR, `bench-${m.date.replace(/[:.]/g, '-')}.json`);
  fs.writeFileSync(file, JSON.stringify({ machine: m, config: CONFIG, figures }, null, 2));
  process.stdout.write(`\nraw samples: ${path.relative(process.cwd(), file)}\n`);
}

// ---------------------------------------------------------------------------------------------

async function cleanup(ctx) {
  // The api and worker processes first, then the servers they use (s3rver, cluster nodes...).
  await procs.stopAll();
  for (const { label, stop } of ctx.owned.splice(0).reverse()) {
    await stop().catch((e) => log(`stopping ${label}: ${e.message}`));
  }
  if (ctx.redis) await ctx.redis.stop();
  if (ctx.tmp && process.env.BENCH_KEEP !== '1') fs.rmSync(ctx.tmp, { recursive: true, force: true });
  else if (ctx.tmp) log(`kept ${ctx.tmp} (BENCH_KEEP=1)`);
  if (ctx.dist) fs.rmSync(ctx.dist, { recursive: true, force: true });
}

async function main() {
  const ctx = { machine: machine(), owned: [] };
  let cleaning;
  const cleanOnce = () => (cleaning ??= cleanup(ctx));
  /**
   * Starts a server for a phase (s3rver, a cluster, a Redis: `start()` resolves with something that
   * has stop()); cleanup stops it, waiting for it first if the failure or Ctrl-C comes while it is
   * still starting. Once cleanup has begun, nothing new is started.
   */
  ctx.own = (label, start) => {
    if (cleaning) throw new Error(`${label}: not started, the bench is stopping`);
    const starting = start();
    ctx.owned.push({
      label,
      stop: () =>
        starting.then(
          (r) => r.stop(),
          () => undefined,
        ),
    });
    return starting;
  };
  /** An empty working directory for one process, as each would have on its own machine. */
  ctx.emptyDir = (name) => fs.mkdtempSync(path.join(ctx.tmp, `cwd-${name}-`));
  const bench = { config: CONFIG, figure, fewer, log };
  ctx.sharedApi = () => sharedApi(ctx);
  const onSignal = (signal) => {
    log(`${signal}: stopping what the bench started`);
    void cleanOnce().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const started = Date.now();
  let failure;
  try {
    await setup(ctx);
    const run = {
      throughput: throughputPhase,
      memory: memoryPhase,
      worker: workerPhase,
      create: createPhase,
      race: racePhase,
      s3: (c) => s3Phase(c, bench),
      cluster: (c) => clusterPhase(c, bench),
      files: (c) => filesPhase(c, bench),
      sessions: (c) => sessionsPhase(c, bench),
      parallel: (c) => parallelPhase(c, bench),
    };
    for (const phase of PHASES) if (CONFIG.phases.includes(phase)) await run[phase](ctx);
  } catch (e) {
    failure = e;
  } finally {
    await cleanOnce();
  }
  // What was measured before a failure is still worth seeing.
  if (ctx.redis) report(ctx);
  log(`done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  if (failure) throw failure;
}

main().catch((e) => {
  process.stderr.write(`bench failed: ${e && e.stack ? e.stack : e}\n`);
  process.exitCode = 1;
});
