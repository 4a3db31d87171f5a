'use strict';
/**
 * Phase `files` (issue 12, "Figures"): several files in one multipart request, and batches made of
 * many uploads (`fileIds`).
 *
 * One fresh api process on the bench's Redis and STORAGE_DIR (no worker: the created batches stay
 * queued, as in the create phase).
 *
 * - Several files in one request: 10 CSV files of 1 MB (distinct rows, fixed seeds), sent as the 10
 *   `file` parts of one POST /v1/batch/upload, and as 10 requests of one file each, one after the
 *   other on the same keep-alive connection (what a client without the several-files form does).
 *   Each side's time is the sum of its requests' times (first byte sent to the last byte of the
 *   answer). A run is `rounds` pairs, the order swapped within each pair, so that a noisy moment on
 *   the machine hits both sides alike; its ratio is the sum of the one-request times over the sum of
 *   the ten-request times. Every answer's counts are checked, and every file is discarded after.
 *   The api's CPU time for each side is taken from /proc beside it.
 * - Create of a 100-file batch: small two-row files are uploaded 100 per request (the enterprise
 *   plan's maxFilesPerRequest), all before the first timed create. Then one client on one keep-alive
 *   connection alternates a one-file create (`fileId`) and a 100-file create (`fileIds`), the order
 *   swapped every pair, so both latencies are taken in the same moments; p50 and p99 per run.
 *   One client: these are the latencies of one create with nothing queued before it (the create
 *   phase has the 50-client load).
 */
const os = require('node:os');
const { findFreePort } = require('../../scripts/private-redis');
const { check, discard } = require('../api');
const data = require('../data');
const http = require('../http');
const procs = require('../procs');
const { MB, percentile } = require('../stats');

const FILES = 10;
const FILE_BYTES = 1 * MB;
const BATCH_FILES = 100;

const sum = (xs) => xs.reduce((a, b) => a + b, 0);

module.exports = async function filesPhase(ctx, { config, figure, log }) {
  const rounds = config.quick ? 1 : 3;
  const creates = config.quick ? 20 : 100; // timed creates of each kind per run
  const warmCreates = config.quick ? 10 : 50;
  const loads = [];
  const load = () => {
    const l = os.loadavg()[0];
    loads.push(l);
    return l.toFixed(2);
  };
  log(`files: load average ${load()} at the start`);

  const api = await procs.startApi(ctx.dist, ctx.env, await findFreePort(), ctx.log('api-files'), ctx.nodeArgs('api'), {
    label: 'api-files',
  });
  log(`files: api pid ${api.pid} on port ${api.port}`);
  const key = ctx.keys.enterprise; // maxFilesPerRequest 100 (pro has 20)
  const agent = http.agent(1);

  try {
    // ------------------------------------------------------------------------------------------
    // (a) 10 files of 1 MB: one request, or ten

    const files = [];
    for (let i = 0; i < FILES; i++) {
      let stats;
      const chunks = [
        ...data.generate({ format: 'csv', seed: config.seed + 200 + i, bytes: FILE_BYTES, stats: (s) => (stats = s) }),
      ];
      files.push({ data: Buffer.concat(chunks), fileName: `branch-${i}.csv`, contentType: 'text/csv', stats });
    }
    const totalBytes = sum(files.map((f) => f.data.length));
    log(`files: ${FILES} CSV files, ${(totalBytes / MB).toFixed(2)} MB in all`);

    const checkCounts = (body, f, what) =>
      check(
        body.itemCount === f.stats.validRows && body.validationErrorCount === f.stats.rows - f.stats.validRows,
        `${what}, ${f.fileName}: ${body.itemCount} items / ${body.validationErrorCount} errors, expected ` +
          `${f.stats.validRows} / ${f.stats.rows - f.stats.validRows}`,
      );

    /** One request of the 10 files: { ms, cpu } (CPU seconds of the api). */
    const oneRequest = async () => {
      const cpu0 = procs.cpuOf(api.pid);
      const res = await http.uploadMany({ port: api.port, key, files, agent });
      const cpu = procs.cpuOf(api.pid) - cpu0;
      check(res.status === 200, `several-files upload answered ${res.status}: ${res.text.slice(0, 500)}`);
      check(
        res.json.files?.length === FILES && res.json.errors?.length === 0,
        `several-files upload: ${res.json.files?.length} files, errors ${JSON.stringify(res.json.errors)}`,
      );
      res.json.files.forEach((body, i) => {
        check(body.index === i, `several-files upload: file ${i} has index ${body.index}`);
        checkCounts(body, files[i], 'several-files upload');
      });
      for (const body of res.json.files) await discard(api, agent, key, body.fileId);
      return { ms: res.ms, cpu };
    };
    /** The same 10 files as 10 requests, one after the other: { ms, cpu } summed. */
    const tenRequests = async () => {
      let ms = 0;
      let cpu = 0;
      const ids = [];
      for (const f of files) {
        const cpu0 = procs.cpuOf(api.pid);
        const res = await http.upload({ port: api.port, key, agent, ...f });
        cpu += procs.cpuOf(api.pid) - cpu0;
        check(res.status === 200, `upload of ${f.fileName} answered ${res.status}: ${res.text.slice(0, 500)}`);
        checkCounts(res.json, f, 'one-file upload');
        ms += res.ms;
        ids.push(res.json.fileId);
      }
      for (const id of ids) await discard(api, agent, key, id);
      return { ms, cpu };
    };

    log(`files: ${config.warmupRounds} warm-up rounds of both`);
    for (let i = 0; i < config.warmupRounds; i++) {
      await oneRequest();
      await tenRequests();
    }
    const a = { one: [], ten: [], ratio: [], cpuOne: [], cpuTen: [] };
    for (let r = 0; r < config.runs; r++) {
      const one = [];
      const ten = [];
      for (let k = 0; k < rounds; k++) {
        if ((r * rounds + k) % 2) {
          ten.push(await tenRequests());
          one.push(await oneRequest());
        } else {
          one.push(await oneRequest());
          ten.push(await tenRequests());
        }
      }
      const oneMs = sum(one.map((x) => x.ms)) / rounds;
      const tenMs = sum(ten.map((x) => x.ms)) / rounds;
      a.one.push(oneMs);
      a.ten.push(tenMs);
      a.ratio.push(oneMs / tenMs);
      a.cpuOne.push(sum(one.map((x) => x.cpu)) / rounds);
      a.cpuTen.push(sum(ten.map((x) => x.cpu)) / rounds);
      log(
        `files run ${r + 1}/${config.runs}: one request ${oneMs.toFixed(0)} ms, ten requests ${tenMs.toFixed(0)} ms, ` +
          `ratio ${(oneMs / tenMs).toFixed(3)} (load ${load()})`,
      );
    }
    const what = `${FILES} × ${(FILE_BYTES / MB).toFixed(0)} MB CSV`;
    figure(`${what}: one request of ${FILES} file parts`, a.one, { unit: 'ms' });
    figure(`${what}: ${FILES} requests of one file, one after the other`, a.ten, { unit: 'ms' });
    figure(`${what}: one request / ${FILES} requests (paired)`, a.ratio, {
      unit: 'ratio',
      digits: 3,
      target: ['<=', 1.1],
      note:
        `each run: ${rounds} pair${rounds === 1 ? '' : 's'}, the order swapped within each; same keep-alive connection; ` +
        `load average ${Math.min(...loads).toFixed(2)}–${Math.max(...loads).toFixed(2)} (1-minute, sampled each run)`,
    });
    figure(`${what}: api CPU, one request`, a.cpuOne, { unit: 'CPU s', digits: 2 });
    figure(`${what}: api CPU, ${FILES} requests`, a.cpuTen, { unit: 'CPU s', digits: 2 });

    // ------------------------------------------------------------------------------------------
    // (b) create of a 100-file batch beside a one-file create

    const sets = warmCreates + config.runs * creates; // of each kind
    const uploads = sets * BATCH_FILES + sets;
    log(`files: uploading ${uploads} small files, ${BATCH_FILES} per request`);
    const ids = [];
    const t0 = http.now();
    let serial = 0;
    while (ids.length < uploads) {
      const n = Math.min(BATCH_FILES, uploads - ids.length);
      const small = Array.from({ length: n }, () => {
        const i = serial++;
        return {
          data: Buffer.from(`content,externalId\nFirst item ${i},f-${i}-1\nSecond item ${i},f-${i}-2\n`),
          fileName: `s-${i}.csv`,
          contentType: 'text/csv',
        };
      });
      const res = await http.uploadMany({ port: api.port, key, files: small, agent });
      check(res.status === 200, `small several-files upload answered ${res.status}: ${res.text.slice(0, 300)}`);
      const got = n === 1 ? [res.json] : res.json.files;
      check(
        got.length === n && got.every((f) => f.itemCount === 2),
        `small several-files upload: ${res.text.slice(0, 300)}`,
      );
      ids.push(...got.map((f) => f.fileId));
    }
    log(`files: ${uploads} small files uploaded in ${((http.now() - t0) / 1000).toFixed(1)} s (load ${load()})`);
    await procs.delay(2000);

    let next = 0;
    const take = (n) => {
      const got = ids.slice(next, next + n);
      next += n;
      return got;
    };
    const createOne = async () => {
      const res = await http.json({
        port: api.port,
        method: 'POST',
        path: '/v1/batch',
        key,
        agent,
        body: { fileId: take(1)[0] },
      });
      check(res.status === 202 && res.json.itemCount === 2, `one-file create answered ${res.status}: ${res.text}`);
      return res.ms;
    };
    const createHundred = async () => {
      const fileIds = take(BATCH_FILES);
      const res = await http.json({ port: api.port, method: 'POST', path: '/v1/batch', key, agent, body: { fileIds } });
      check(
        res.status === 202 && res.json.itemCount === 2 * BATCH_FILES && res.json.fileIds?.length === BATCH_FILES,
        `100-file create answered ${res.status}: ${res.text.slice(0, 300)}`,
      );
      return res.ms;
    };
    /** `n` pairs, the order swapped every pair: the latencies of each kind. */
    const pairs = async (n) => {
      const one = [];
      const hundred = [];
      for (let i = 0; i < n; i++) {
        if (i % 2) {
          hundred.push(await createHundred());
          one.push(await createOne());
        } else {
          one.push(await createOne());
          hundred.push(await createHundred());
        }
      }
      return { one, hundred };
    };

    await pairs(warmCreates);
    const b = { p50One: [], p99One: [], p50Hundred: [], p99Hundred: [], ratio: [] };
    for (let r = 0; r < config.runs; r++) {
      const { one, hundred } = await pairs(creates);
      b.p50One.push(percentile(one, 50));
      b.p99One.push(percentile(one, 99));
      b.p50Hundred.push(percentile(hundred, 50));
      b.p99Hundred.push(percentile(hundred, 99));
      b.ratio.push(percentile(hundred, 50) / percentile(one, 50));
      log(
        `files create run ${r + 1}/${config.runs}: one file p50 ${b.p50One.at(-1).toFixed(1)} / p99 ` +
          `${b.p99One.at(-1).toFixed(1)} ms, ${BATCH_FILES} files p50 ${b.p50Hundred.at(-1).toFixed(1)} / p99 ` +
          `${b.p99Hundred.at(-1).toFixed(1)} ms (load ${load()})`,
      );
    }
    const each = `${creates} creates of each kind, one client, alternating`;
    figure(`create p50, one-file batch (${each})`, b.p50One, { unit: 'ms' });
    figure(`create p99, one-file batch`, b.p99One, { unit: 'ms' });
    figure(`create p50, ${BATCH_FILES}-file batch (fileIds)`, b.p50Hundred, { unit: 'ms' });
    figure(`create p99, ${BATCH_FILES}-file batch (fileIds)`, b.p99Hundred, {
      unit: 'ms',
      note: `two-row files, uploaded ${BATCH_FILES} per request before the first create; one keep-alive connection`,
    });
    figure(`create p50: ${BATCH_FILES}-file / one-file (paired)`, b.ratio, {
      unit: 'ratio',
      digits: 2,
      note: `load average over the phase ${Math.min(...loads).toFixed(2)}–${Math.max(...loads).toFixed(2)} (1-minute, sampled each run)`,
    });
  } finally {
    agent.destroy();
    await api.stop();
  }
};
