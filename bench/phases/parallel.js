'use strict';
/**
 * Phase `parallel` (issue 14): one large file on every core.
 *
 * - 100 MB CSV, NDJSON and JSON-array files (written to the bench's temp dir), each uploaded to the
 *   shared api and read by its single-threaded in-process baseline in the same round (CSV: file →
 *   csv-parse → ajv → NDJSON on disk; NDJSON: readline → JSON.parse → ajv; JSON: the project's
 *   element reader → ajv), interleaved so a noisy moment hits both sides of a ratio alike.
 * - Four concurrent 25 MB CSV uploads: aggregate MB/s (100 MB over the wall time) / the CSV baseline
 *   of the same round.
 * - Scaling: a fresh api per pool size (INGEST_THREADS = 1, 2, 4), upload CSV 100 MB MB/s.
 * - Pool threads' memory apart: idle VmRSS of an api with INGEST_THREADS=0 and with the default.
 * - The load average (1 min) at the start and end of each round: the machine is shared.
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { findFreePort } = require('../../scripts/private-redis');
const { CONTENT_TYPES, check, discard, uploadOk } = require('../api');
const baseline = require('../baseline');
const data = require('../data');
const http = require('../http');
const procs = require('../procs');
const { MB, sizeLabel } = require('../stats');

const SEED = 20261201;

module.exports = async function parallelPhase(ctx, { config, figure, log }) {
  const bigBytes = config.quick ? 20 * MB : 100 * MB;
  const quarter = bigBytes / 4;
  const runs = config.runs;
  const files = {};
  for (const format of ['csv', 'ndjson', 'json']) {
    const file = path.join(ctx.dataDir, `big.${format}`);
    const stats = await data.writeGenerated(file, { format, seed: SEED, bytes: bigBytes });
    files[format] = { file, ...stats };
  }
  const quarters = [];
  for (let i = 0; i < 4; i++) {
    const file = path.join(ctx.dataDir, `quarter-${i}.csv`);
    quarters.push({
      file,
      ...(await data.writeGenerated(file, { format: 'csv', seed: SEED + 10 + i, bytes: quarter })),
    });
  }
  log(
    `parallel: ${Object.entries(files)
      .map(([f, s]) => `${f} ${sizeLabel(s.bytes)}`)
      .join(', ')}; 4 × ${sizeLabel(quarter)} CSV`,
  );

  const validate = baseline.defaultValidator(ctx.dist);
  const out = path.join(ctx.dataDir, 'parallel-baseline-out.ndjson');
  const runBaseline = async (format) => {
    const f = files[format];
    const t0 = http.now();
    const c0 = process.cpuUsage();
    const counts =
      format === 'csv'
        ? await baseline.csvBaseline(f.file, out, validate)
        : format === 'ndjson'
          ? await baseline.ndjsonBaseline(f.file, out, validate)
          : await baseline.jsonBaseline(f.file, out, validate, ctx.dist);
    const ms = http.now() - t0;
    const c = process.cpuUsage(c0);
    fs.rmSync(out, { force: true });
    check(counts.valid === f.validRows, `baseline ${format}: ${counts.valid} valid rows, expected ${f.validRows}`);
    return { rate: f.bytes / MB / (ms / 1000), cpu: (c.user + c.system) / 1e6 };
  };
  const key = ctx.keys.enterprise;
  const runUpload = async (api, agent, f, format) => {
    const c0 = procs.cpuOf(api.pid);
    const m0 = procs.cpuOf(api.pid, { mainThread: true });
    const res = await uploadOk(
      api,
      agent,
      key,
      { data: (f.buffer ??= fs.readFileSync(f.file)), fileName: `big.${format}`, contentType: CONTENT_TYPES[format] },
      f,
    );
    // The api's CPU time (every thread of it) for the upload, read before the discard.
    const cpu = procs.cpuOf(api.pid) - c0;
    const mainCpu = procs.cpuOf(api.pid, { mainThread: true }) - m0;
    await discard(api, agent, key, res.json.fileId);
    return { rate: f.bytes / MB / (res.ms / 1000), ms: res.ms, cpu, mainCpu };
  };
  const load = () => os.loadavg()[0];

  const s = { csv: [], nd: [], js: [], rCsv: [], rNd: [], rJs: [], conc: [], rConc: [], load: [] };
  // CPU seconds of each upload (the api, all its threads) and of its baseline (this process), and
  // the ceiling they set: with every core busy, upload/baseline can reach at most
  // cores × baseline CPU / upload CPU (the client sending the file shares the cores too).
  const perFormat = () => ({ csv: [], ndjson: [], json: [] });
  s.cpu = perFormat();
  s.mainCpu = perFormat();
  s.baseCpu = perFormat();
  s.ceiling = perFormat();
  const cores = os.availableParallelism();
  const api = ctx.sharedApi ? await ctx.sharedApi() : undefined;
  check(api, 'parallel: no shared api');
  const agent = http.agent(4);
  try {
    for (let i = -1; i < runs; i++) {
      const l0 = load();
      const b = { csv: await runBaseline('csv') };
      const u = { csv: await runUpload(api, agent, files.csv, 'csv') };
      b.ndjson = await runBaseline('ndjson');
      u.ndjson = await runUpload(api, agent, files.ndjson, 'ndjson');
      b.json = await runBaseline('json');
      u.json = await runUpload(api, agent, files.json, 'json');
      const [bc, bn, bj] = [b.csv.rate, b.ndjson.rate, b.json.rate];
      const [uc, un, uj] = [u.csv.rate, u.ndjson.rate, u.json.rate];
      const t0 = http.now();
      await Promise.all(quarters.map((q) => runUpload(api, agent, q, 'csv')));
      const conc = quarters.reduce((a, q) => a + q.bytes, 0) / MB / ((http.now() - t0) / 1000);
      const l1 = load();
      log(
        `parallel ${i < 0 ? 'warm-up' : `run ${i + 1}/${runs}`}: csv ${uc.toFixed(1)}/${bc.toFixed(1)}, ndjson ${un.toFixed(1)}/${bn.toFixed(1)}, ` +
          `json ${uj.toFixed(1)}/${bj.toFixed(1)} MB/s (upload/baseline); 4 concurrent ${conc.toFixed(1)} MB/s; load ${l0.toFixed(2)}–${l1.toFixed(2)}`,
      );
      if (i < 0) continue;
      s.csv.push(uc);
      s.nd.push(un);
      s.js.push(uj);
      s.rCsv.push(uc / bc);
      s.rNd.push(un / bn);
      s.rJs.push(uj / bj);
      s.conc.push(conc);
      s.rConc.push(conc / bc);
      for (const format of ['csv', 'ndjson', 'json']) {
        s.cpu[format].push(u[format].cpu);
        s.mainCpu[format].push(u[format].mainCpu);
        s.baseCpu[format].push(b[format].cpu);
        s.ceiling[format].push((cores * b[format].cpu) / u[format].cpu);
      }
      s.load.push(l0, l1);
    }
  } finally {
    agent.destroy();
  }
  const size = sizeLabel(bigBytes);
  figure(`upload CSV ${size}`, s.csv, { unit: 'MB/s' });
  figure(`upload CSV ${size} / baseline CSV (same round)`, s.rCsv, { unit: 'ratio', digits: 2, target: ['>=', 2] });
  figure(`upload NDJSON ${size}`, s.nd, { unit: 'MB/s' });
  figure(`upload NDJSON ${size} / baseline NDJSON`, s.rNd, { unit: 'ratio', digits: 2, target: ['>=', 2] });
  figure(`upload JSON array ${size}`, s.js, { unit: 'MB/s' });
  figure(`upload JSON array ${size} / baseline JSON array`, s.rJs, { unit: 'ratio', digits: 2, target: ['>=', 2] });
  figure(`4 concurrent ${sizeLabel(quarter)} CSV uploads, aggregate`, s.conc, { unit: 'MB/s' });
  figure('4 concurrent uploads aggregate / baseline CSV', s.rConc, { unit: 'ratio', digits: 2, target: ['>=', 2] });
  figure('load average (1 min) around the parallel rounds', s.load, { unit: 'load', digits: 2 });
  for (const [format, label] of [
    ['csv', 'CSV'],
    ['ndjson', 'NDJSON'],
    ['json', 'JSON array'],
  ]) {
    figure(`upload ${label} ${size}: api CPU`, s.cpu[format], { unit: 's', digits: 1 });
    figure(`upload ${label} ${size}: api CPU, main thread`, s.mainCpu[format], { unit: 's', digits: 1 });
    figure(`baseline ${label} ${size}: CPU`, s.baseCpu[format], { unit: 's', digits: 1 });
    figure(`upload ${label} ${size}: ceiling on ${cores} cores (cores × baseline CPU / api CPU)`, s.ceiling[format], {
      unit: 'ratio',
      digits: 2,
    });
  }

  // Scaling and the threads' idle memory: a fresh api per pool size.
  const scaleRuns = Math.max(1, Math.min(3, runs));
  for (const threads of [0, 1, 2, 4]) {
    const proc = await procs.startApi(
      ctx.dist,
      { ...ctx.env, INGEST_THREADS: String(threads) },
      await findFreePort(),
      ctx.log(`api-threads-${threads}`),
      ctx.nodeArgs('api'),
    );
    const a = http.agent(1);
    try {
      await procs.delay(1000);
      const idle = procs.memoryOf(proc.pid).rss / MB;
      const rates = [];
      const l0 = load();
      for (let r = 0; r <= scaleRuns; r++) {
        const { rate } = await runUpload(proc, a, files.csv, 'csv');
        if (r > 0) rates.push(rate); // the first is a warm-up
      }
      log(
        `parallel: INGEST_THREADS=${threads}: idle RSS ${idle.toFixed(1)} MB; upload CSV ${rates.map((x) => x.toFixed(1)).join(', ')} MB/s; load ${l0.toFixed(2)}–${load().toFixed(2)}`,
      );
      figure(`api idle RSS, INGEST_THREADS=${threads}`, [idle], { unit: 'MB' });
      figure(`upload CSV ${size}, INGEST_THREADS=${threads}${threads === 0 ? ' (in-thread)' : ''}`, rates, {
        unit: 'MB/s',
      });
    } finally {
      a.destroy();
      await proc.stop();
    }
  }
};
