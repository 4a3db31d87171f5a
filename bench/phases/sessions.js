'use strict';
/**
 * Phase `sessions` (issue 13): a large CSV (1 GB; quick mode 50 MB) through an upload session on the
 * local driver, parts sent 4 at a time, then validated by a worker process, against the direct upload
 * of the same file in the same run (the ratio is paired run by run, the order swapped every run).
 *
 * Each side has processes of its own, started fresh for the phase: the direct side one api; the
 * session side one api and one worker, whose peak RSS growth (VmHWM after − idle) is the memory
 * figure. The file is written to disk once and read from there by both sides (the bench client
 * holds at most 4 parts of 16 MiB).
 */
const fs = require('node:fs');
const path = require('node:path');
const { findFreePort } = require('../../scripts/private-redis');
const { check, discard } = require('../api');
const data = require('../data');
const http = require('../http');
const procs = require('../procs');
const { MB, sizeLabel } = require('../stats');

const PARALLEL_PARTS = 4;

async function readPart(handle, offset, size) {
  const buf = Buffer.allocUnsafe(size);
  let done = 0;
  while (done < size) {
    const { bytesRead } = await handle.read(buf, done, size - done, offset + done);
    if (bytesRead === 0) throw new Error('file ended early');
    done += bytesRead;
  }
  return buf;
}

/** The whole session: create, parts 4 at a time, complete with Prefer: wait until ready. Times in ms. */
async function viaSession(api, key, file, bytes) {
  const agent = http.agent(PARALLEL_PARTS + 1);
  const started = http.now();
  try {
    const created = await http.json({
      port: api.port,
      method: 'POST',
      path: '/v1/uploads',
      key,
      agent,
      body: { files: [{ filename: 'big.csv', sizeBytes: bytes, contentType: 'text/csv' }] },
    });
    check(created.status === 201, `POST /v1/uploads answered ${created.status}: ${created.text.slice(0, 300)}`);
    const s = created.json.data[0];
    const handle = await fs.promises.open(file, 'r');
    try {
      const queue = [...s.parts];
      const sender = async () => {
        for (let p = queue.shift(); p; p = queue.shift()) {
          const body = await readPart(handle, (p.partNumber - 1) * s.partSize, p.sizeBytes);
          const url = new URL(p.url);
          const res = await http.request({
            port: Number(url.port),
            method: 'PUT',
            path: url.pathname + url.search,
            body,
            agent,
          });
          check(res.status === 200, `PUT part ${p.partNumber} answered ${res.status}: ${res.text.slice(0, 300)}`);
        }
      };
      await Promise.all(Array.from({ length: PARALLEL_PARTS }, sender));
    } finally {
      await handle.close();
    }
    const sent = http.now();
    let state;
    for (;;) {
      const res = await http.request({
        port: api.port,
        method: 'POST',
        path: `/v1/uploads/${s.uploadId}/complete`,
        headers: { Authorization: `Bearer ${key}`, Prefer: 'wait=60' },
        agent,
      });
      check(res.status === 200 || res.status === 202, `complete answered ${res.status}: ${res.text.slice(0, 300)}`);
      state = res.json;
      if (state.status !== 'validating') break;
    }
    check(state.status === 'ready', `the session ended ${state.status}: ${JSON.stringify(state.error)}`);
    const end = http.now();
    return {
      ms: end - started,
      sendMs: sent - started,
      validateMs: end - sent,
      fileId: state.fileId,
      result: state.result,
    };
  } finally {
    agent.destroy();
  }
}

async function direct(api, key, file) {
  const agent = http.agent(1);
  try {
    const res = await http.upload({
      port: api.port,
      key,
      data: fs.createReadStream(file, { highWaterMark: 1024 * 1024 }),
      fileName: 'big.csv',
      contentType: 'text/csv',
      agent,
    });
    check(res.status === 200, `direct upload answered ${res.status}: ${res.text.slice(0, 300)}`);
    return { ms: res.ms, fileId: res.json.fileId, result: res.json };
  } finally {
    agent.destroy();
  }
}

module.exports = async function sessionsPhase(ctx, { config, figure, fewer, log }) {
  const bytesTarget = config.bigBytes;
  const file = path.join(ctx.dataDir, 'session-big.csv');
  const stats = await data.writeGenerated(file, { format: 'csv', seed: config.seed + 7, bytes: bytesTarget });
  const bytes = stats.bytes;
  log(`sessions: ${sizeLabel(bytes)} CSV of ${stats.rows} rows on disk`);
  const key = ctx.keys.enterprise;
  const start = async (label) =>
    procs.startApi(ctx.dist, ctx.env, await findFreePort(), ctx.log(label), ctx.nodeArgs('api'), { label });
  const apiDirect = await start('api-direct');
  const apiSession = await start('api-session');
  const worker = await procs.startWorker(ctx.dist, ctx.env, ctx.log('worker-session'), ctx.nodeArgs('worker'), {
    label: 'worker-session',
  });
  await procs.delay(1000);
  const idle = { api: procs.memoryOf(apiSession.pid).peak, worker: procs.memoryOf(worker.pid).peak };
  const s = { session: [], direct: [], ratio: [], ready: [], validate: [], apiGrowth: [], workerGrowth: [] };
  const runs = Math.max(1, config.bigRuns);
  try {
    for (let r = 0; r < runs; r++) {
      const order = r % 2 === 0 ? ['direct', 'session'] : ['session', 'direct'];
      const got = {};
      for (const side of order) {
        got[side] =
          side === 'direct' ? await direct(apiDirect, key, file) : await viaSession(apiSession, key, file, bytes);
      }
      check(
        got.session.result.itemCount === got.direct.result.itemCount &&
          got.session.result.validationErrorCount === got.direct.result.validationErrorCount,
        'the session and the direct upload disagree on the counts',
      );
      await discard(apiDirect, http.agent(1), key, got.direct.fileId);
      await discard(apiSession, http.agent(1), key, got.session.fileId);
      s.direct.push(bytes / MB / (got.direct.ms / 1000));
      s.session.push(bytes / MB / (got.session.ms / 1000));
      s.ratio.push(s.session.at(-1) / s.direct.at(-1));
      s.ready.push(got.session.ms / 1000);
      s.validate.push(got.session.validateMs / 1000);
      s.apiGrowth.push((procs.memoryOf(apiSession.pid).peak - idle.api) / MB);
      s.workerGrowth.push((procs.memoryOf(worker.pid).peak - idle.worker) / MB);
      log(
        `sessions run ${r + 1}/${runs}: direct ${s.direct.at(-1).toFixed(1)} MB/s, session ${s.session.at(-1).toFixed(1)} MB/s ` +
          `(sent in ${(got.session.sendMs / 1000).toFixed(1)} s, ready ${s.validate.at(-1).toFixed(1)} s later), ` +
          `RSS growth api ${s.apiGrowth.at(-1).toFixed(1)} MB, worker ${s.workerGrowth.at(-1).toFixed(1)} MB`,
      );
    }
  } finally {
    await Promise.all([apiDirect.stop(), apiSession.stop(), worker.stop()]);
    fs.rmSync(file, { force: true });
  }
  const note = runs < config.runs ? fewer(runs, `each ${sizeLabel(bytes)} run takes long`) : undefined;
  figure(`direct upload CSV ${sizeLabel(bytes)} (same file, same run)`, s.direct, { unit: 'MB/s', note });
  figure(`upload session CSV ${sizeLabel(bytes)}, 4 parallel parts, create → ready`, s.session, { unit: 'MB/s', note });
  figure('**upload session / direct upload** (paired, same run)', s.ratio, {
    unit: 'ratio',
    digits: 2,
    target: ['>=', 0.9],
  });
  figure(`upload session: time to ready`, s.ready, { unit: 's' });
  figure('upload session: validation after the last part (complete → ready)', s.validate, { unit: 's' });
  figure('upload session: api peak RSS growth', s.apiGrowth, { unit: 'MB', target: ['<=', 40] });
  figure('upload session: worker peak RSS growth (validation)', s.workerGrowth, { unit: 'MB', target: ['<=', 40] });
};
