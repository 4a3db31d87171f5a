'use strict';
/**
 * Phase `cluster` (issue 11): the create and worker figures on a private 3-master Redis Cluster,
 * beside a standalone Redis started fresh for the phase, in the same run.
 *
 * Each side has its own api and two worker processes, each in an empty working directory of its own
 * (as the fleet runs them), on the local storage driver with a STORAGE_DIR shared by that side's
 * processes: storage is the same on both sides, so the ratios are Redis alone. Runs alternate
 * between the sides, the order swapped every run, so a noisy moment hits both alike.
 *
 * - Workers first (nothing else is queued then): one batch of `workerItems` (the worker phase's
 *   shape: one batch is one job, so one worker runs it while the other idles), and the same number
 *   of items as two batches of half the size created together, one per worker. WORKER_CONCURRENCY=1
 *   makes each worker take one batch at a time, so the two batches go to different workers.
 * - Then, with the workers stopped (no one drains the created batches, as in the create phase):
 *   the create phase's load, `creates` POST /v1/batch from 50 concurrent clients on distinct
 *   fileIds, after the same warm-up.
 */
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { startPrivateCluster } = require('../../scripts/private-cluster');
const { findFreePort, startPrivateRedis } = require('../../scripts/private-redis');
const { check, createBatch, createMany, uploadOk, uploadSmall, waitCompleted } = require('../api');
const data = require('../data');
const http = require('../http');
const procs = require('../procs');

const SIDES = ['standalone', 'cluster'];
const WORKERS = 2;
const MASTERS = 3;

const sum = (xs) => xs.reduce((a, b) => a + b, 0);

module.exports = async function clusterPhase(ctx, { config, figure, fewer, log }) {
  const standalone = await ctx.own('standalone redis-server', () =>
    startPrivateRedis({ dir: path.join(ctx.tmp, 'redis-standalone'), persistent: false }),
  );
  const cluster = await ctx.own('redis cluster', () =>
    startPrivateCluster({ dir: path.join(ctx.tmp, 'cluster'), masters: MASTERS }),
  );
  log(`cluster: standalone redis-server on ${standalone.url}; ${MASTERS}-master cluster on ${cluster.urls}`);

  const base = { ...ctx.env, QUEUE_PREFIX: 'bench', WORKER_CONCURRENCY: '1' };
  delete base.REDIS_URL;
  const sides = {
    standalone: {
      redisPids: [standalone.pid],
      env: { ...base, REDIS_URL: standalone.url, STORAGE_DIR: path.join(ctx.tmp, 'storage-standalone') },
    },
    cluster: {
      redisPids: cluster.pids,
      env: { ...base, REDIS_CLUSTER_NODES: cluster.urls, STORAGE_DIR: path.join(ctx.tmp, 'storage-cluster') },
    },
  };
  const logs = [];
  const logFile = (name) => {
    logs.push({ name, file: ctx.log(name) });
    return ctx.log(name);
  };
  for (const name of SIDES) {
    const label = `api-${name}`;
    sides[name].api = await procs.startApi(
      ctx.dist,
      sides[name].env,
      await findFreePort(),
      logFile(label),
      ctx.nodeArgs('api'),
      {
        label,
        cwd: ctx.emptyDir(label),
      },
    );
    log(`cluster: ${label} pid ${sides[name].api.pid} on port ${sides[name].api.port}`);
  }

  const s = {
    single: { standalone: [], cluster: [], ratio: [] },
    pair: { standalone: [], cluster: [], ratio: [] },
    scale: { standalone: [], cluster: [] },
    workerShare: [],
    workerCpu: { standalone: [], cluster: [] },
    p50: { standalone: [], cluster: [] },
    p99: { standalone: [], cluster: [] },
    rate: { standalone: [], cluster: [], ratio: [] },
    apiCpu: { standalone: [], cluster: [] },
    redisCpu: { standalone: [], cluster: [] },
  };
  const order = (r) => (r % 2 ? [...SIDES].reverse() : SIDES);
  let keysPerMaster = '';

  try {
    // -- Workers ---------------------------------------------------------------------------------
    const key = ctx.keys.enterprise;
    const agent = http.agent(4);
    try {
      for (const name of SIDES) {
        sides[name].workers = [];
        for (let i = 1; i <= WORKERS; i++) {
          const label = `worker-${name}-${i}`;
          sides[name].workers.push(
            await procs.startWorker(ctx.dist, sides[name].env, logFile(label), ctx.nodeArgs('worker'), {
              label,
              cwd: ctx.emptyDir(label),
            }),
          );
        }
        log(`cluster: ${name} workers pid ${sides[name].workers.map((w) => w.pid).join(', ')}`);
      }
      const uploadItems = async (api, rows, seed) => {
        const up = await uploadOk(api, agent, key, {
          data: data.generate({ format: 'csv', seed, rows, invalidRate: 0 }),
          fileName: 'items.csv',
          contentType: 'text/csv',
        });
        check(up.json.itemCount === rows, `cluster phase: worker upload has ${up.json.itemCount} items, not ${rows}`);
        return up.json.fileId;
      };
      /** `batches` batches of `items / batches` items each, created together; items/s from the first create to the last completed. */
      const runBatches = async (name, items, batches, seed) => {
        const { api, workers } = sides[name];
        const per = items / batches;
        const fileIds = [];
        for (let b = 0; b < batches; b++) fileIds.push(await uploadItems(api, per, seed + b));
        const cpu0 = workers.map((w) => procs.cpuOf(w.pid));
        const t0 = http.now();
        const ids = [];
        for (const [b, fileId] of fileIds.entries()) ids.push(await createBatch(api, agent, key, fileId, `bench ${b}`));
        await Promise.all(ids.map((id) => waitCompleted(api, agent, key, id, per)));
        const ms = http.now() - t0;
        const cpu = workers.map((w, i) => procs.cpuOf(w.pid) - cpu0[i]);
        return { rate: items / (ms / 1000), share: Math.min(...cpu) / sum(cpu), cpuPer1000: (sum(cpu) * 1e6) / items };
      };

      const W = config.workerItems;
      log('cluster: worker warm-up');
      for (const name of SIDES) {
        await runBatches(name, W / 10, 1, config.seed + 5);
        await runBatches(name, W / 10, WORKERS, config.seed + 6);
      }
      for (let r = 0; r < config.workerRuns; r++) {
        const one = {};
        const two = {};
        // The worker phase's files (same seeds) for the single batch.
        for (const name of order(r)) one[name] = await runBatches(name, W, 1, config.seed + 10 + r);
        for (const name of order(r)) two[name] = await runBatches(name, W, WORKERS, config.seed + 20 + WORKERS * r);
        for (const name of SIDES) {
          s.single[name].push(one[name].rate);
          s.pair[name].push(two[name].rate);
          s.scale[name].push(two[name].rate / one[name].rate);
          s.workerShare.push(two[name].share);
          s.workerCpu[name].push(one[name].cpuPer1000);
        }
        s.single.ratio.push(one.cluster.rate / one.standalone.rate);
        s.pair.ratio.push(two.cluster.rate / two.standalone.rate);
        log(
          `cluster worker run ${r + 1}/${config.workerRuns}, standalone / cluster items/s: ` +
            `1 batch ${Math.round(one.standalone.rate)} / ${Math.round(one.cluster.rate)}, ` +
            `${WORKERS} batches on ${WORKERS} workers ${Math.round(two.standalone.rate)} / ${Math.round(two.cluster.rate)} ` +
            `(smaller worker's CPU share ${two.standalone.share.toFixed(2)} / ${two.cluster.share.toFixed(2)})`,
        );
      }
    } finally {
      agent.destroy();
      await Promise.all(SIDES.flatMap((name) => (sides[name].workers || []).map((w) => w.stop())));
    }

    // -- Creates ---------------------------------------------------------------------------------
    const pro = ctx.keys.pro;
    const warm = config.warmupRounds * config.creates;
    const total = warm + config.runs * config.creates;
    const ids = {};
    for (const name of SIDES) {
      log(`cluster: uploading ${total} small files to api-${name}`);
      ids[name] = await uploadSmall(sides[name].api, pro, total, 8);
    }
    await procs.delay(2000);
    const slice = (name, i) => ids[name].slice(i * config.creates, (i + 1) * config.creates);
    for (let i = 0; i < config.warmupRounds; i++) {
      for (const name of SIDES) await createMany(sides[name].api, pro, slice(name, i), config.createConcurrency);
    }
    for (let r = 0; r < config.runs; r++) {
      const got = {};
      for (const name of order(r)) {
        const { api, redisPids } = sides[name];
        const cpu0 = [procs.cpuOf(api.pid), sum(redisPids.map(procs.cpuOf))];
        got[name] = await createMany(api, pro, slice(name, config.warmupRounds + r), config.createConcurrency);
        const cpu1 = [procs.cpuOf(api.pid), sum(redisPids.map(procs.cpuOf))];
        s.p50[name].push(got[name].p50);
        s.p99[name].push(got[name].p99);
        s.rate[name].push(got[name].rate);
        s.apiCpu[name].push(((cpu1[0] - cpu0[0]) * 1000) / config.creates);
        s.redisCpu[name].push(((cpu1[1] - cpu0[1]) * 1000) / config.creates);
      }
      s.rate.ratio.push(got.cluster.rate / got.standalone.rate);
      log(
        `cluster create run ${r + 1}/${config.runs}, standalone / cluster: ` +
          `p50 ${got.standalone.p50.toFixed(1)} / ${got.cluster.p50.toFixed(1)} ms, ` +
          `p99 ${got.standalone.p99.toFixed(1)} / ${got.cluster.p99.toFixed(1)} ms, ` +
          `${Math.round(got.standalone.rate)} / ${Math.round(got.cluster.rate)} creates/s`,
      );
    }
    // Where the data went: keys are hash-tagged per org ({orgId}) and BullMQ's per queue ({bench}),
    // so one org's creates touch one master for its keys and one for the queue.
    keysPerMaster = cluster.ports
      .map((port) => execFileSync('redis-cli', ['-p', String(port), 'DBSIZE'], { encoding: 'utf8' }).trim())
      .join(' / ');
  } finally {
    await Promise.all(SIDES.map((name) => sides[name].api.stop()));
    // Not left running under a later phase (cleanup would stop them too, at the end).
    await Promise.all([cluster.stop(), standalone.stop()]);
  }

  // A cluster-unsafe command would have failed somewhere in there: checked (after the figures, so
  // that they are still printed), and error-level lines counted.
  const read = (file) => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '');
  const crossslot = logs.filter((l) => /CROSSSLOT/.test(read(l.file))).map((l) => l.name);
  const errors = logs
    .map((l) => ({ name: l.name, n: (read(l.file).match(/"level":50/g) || []).length }))
    .filter((x) => x.n);
  const errorNote = errors.length
    ? `error-level log lines: ${errors.map((x) => `${x.name} ${x.n}`).join(', ')}`
    : 'no error-level log line in any api or worker of the phase';

  // -- Figures ---------------------------------------------------------------------------------------
  const items = config.workerItems.toLocaleString('en-US');
  const half = (config.workerItems / WORKERS).toLocaleString('en-US');
  const workerNote =
    config.workerRuns < config.runs
      ? fewer(config.workerRuns, `each run uploads and processes 4 × ${items} rows`)
      : undefined;
  figure(`worker, one ${items}-item batch, standalone Redis`, s.single.standalone, {
    unit: 'items/s',
    digits: 0,
    note: workerNote,
  });
  figure(`worker, one ${items}-item batch, ${MASTERS}-master cluster`, s.single.cluster, {
    unit: 'items/s',
    digits: 0,
  });
  figure('worker, one batch: cluster / standalone (paired)', s.single.ratio, { unit: 'ratio', digits: 2 });
  figure(`worker, ${WORKERS} × ${half}-item batches on ${WORKERS} workers, standalone`, s.pair.standalone, {
    unit: 'items/s',
    digits: 0,
  });
  figure(`worker, ${WORKERS} × ${half}-item batches on ${WORKERS} workers, cluster`, s.pair.cluster, {
    unit: 'items/s',
    digits: 0,
    target: ['>=', 50_000],
    note:
      `WORKER_CONCURRENCY=1, so each worker takes one of the two batches; the smaller worker's share of the ` +
      `two workers' CPU time was ${Math.min(...s.workerShare).toFixed(2)}–${Math.max(...s.workerShare).toFixed(2)} (0.5 = even)`,
  });
  figure(`worker, ${WORKERS} workers: cluster / standalone (paired)`, s.pair.ratio, { unit: 'ratio', digits: 2 });
  figure(`worker scaling, ${WORKERS} workers / 1, standalone`, s.scale.standalone, { unit: 'ratio', digits: 2 });
  figure(`worker scaling, ${WORKERS} workers / 1, cluster`, s.scale.cluster, { unit: 'ratio', digits: 2 });
  for (const name of SIDES) {
    figure(`worker CPU per 1,000 items, one batch (${name})`, s.workerCpu[name], { unit: 'CPU ms', digits: 1 });
  }

  const what = `${config.creates} creates, ${config.createConcurrency} concurrent`;
  for (const name of SIDES) {
    const where = name === 'cluster' ? `${MASTERS}-master cluster` : 'standalone Redis';
    figure(`create p50 (${what}), ${where}`, s.p50[name], { unit: 'ms' });
    figure(`create p99 (${what}), ${where}`, s.p99[name], { unit: 'ms', target: ['<=', 25] });
    figure(`creates per second (${what}), ${where}`, s.rate[name], {
      unit: 'creates/s',
      digits: 0,
      target: ['>=', 1000],
      note: name === 'cluster' ? `keys per master at the end: ${keysPerMaster}` : undefined,
    });
  }
  figure('creates per second: cluster / standalone (paired)', s.rate.ratio, {
    unit: 'ratio',
    digits: 2,
    note: errorNote,
  });
  for (const name of SIDES) {
    figure(`CPU per create, api (${name})`, s.apiCpu[name], { unit: 'CPU ms', digits: 2 });
    figure(
      `CPU per create, Redis (${name}${name === 'cluster' ? `, ${MASTERS} masters together` : ''})`,
      s.redisCpu[name],
      {
        unit: 'CPU ms',
        digits: 3,
      },
    );
  }

  check(!crossslot.length, `cluster phase: CROSSSLOT in the logs of ${crossslot.join(', ')}`);
};
