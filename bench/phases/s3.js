'use strict';
/**
 * Phase `s3` (issue 11): upload throughput with STORAGE_DRIVER=s3 against a private s3rver, as a
 * ratio to the local driver measured in the same run.
 *
 * Two fresh api processes on the bench's Redis, each in an empty working directory of its own (as
 * the fleet runs them): one on the local driver, one on s3rver. Both get the same files: the
 * throughput phase's CSV and NDJSON (held in memory, sent with Content-Length) and the memory
 * phase's mid-size CSV (100 MB, quick mode 20 MB; generated while sent). Each file goes to one api
 * and then straight to the other, the order swapped every run, so that a noisy moment on the
 * machine hits both sides of a ratio alike. Every upload is checked and discarded.
 *
 * s3rver runs on the same two cores as the api and the bench: its CPU time is measured beside the
 * api's, since a real S3 endpoint would spend it elsewhere.
 */
const fs = require('node:fs');
const path = require('node:path');
const { randomBytes } = require('node:crypto');
const { startPrivateS3 } = require('../../scripts/private-s3');
const { findFreePort } = require('../../scripts/private-redis');
const { CONTENT_TYPES, check, discard, uploadOk } = require('../api');
const data = require('../data');
const http = require('../http');
const procs = require('../procs');
const { MB, sizeLabel } = require('../stats');

const BUCKET = 'batchgate-bench';
const SIDES = ['local', 's3'];

/** The paths under s3rver's directory that belong to `fileId` (its objects and their metadata). */
function storedFiles(dir, fileId) {
  return fs.readdirSync(dir, { recursive: true }).filter((f) => String(f).includes(fileId));
}

module.exports = async function s3Phase(ctx, { config, figure, log }) {
  const s3Dir = path.join(ctx.tmp, 's3rver');
  const s3 = await ctx.own('s3rver', () => startPrivateS3({ dir: s3Dir, bucket: BUCKET }));
  log(`s3: s3rver pid ${s3.pid} on ${s3.endpoint}`);

  // STORAGE_DIR unset: each api keeps its files (on s3, only the spool of requests in transit)
  // under ./data/uploads of its own empty working directory.
  const base = { ...ctx.env };
  delete base.STORAGE_DIR;
  const apis = {};
  for (const side of SIDES) {
    const cwd = ctx.emptyDir(`api-${side}`);
    const env =
      side === 'local'
        ? { ...base, STORAGE_DRIVER: 'local' }
        : {
            ...base,
            ...s3.env,
            S3_PREFIX: `bench-${randomBytes(4).toString('hex')}/`,
            // Only s3rver's credentials (in the environment, first in the SDK's chain): no shared
            // config or credentials file of whoever runs the bench is read.
            AWS_CONFIG_FILE: path.join(cwd, 'no-aws-config'),
            AWS_SHARED_CREDENTIALS_FILE: path.join(cwd, 'no-aws-credentials'),
          };
    apis[side] = await procs.startApi(
      ctx.dist,
      env,
      await findFreePort(),
      ctx.log(`api-${side}`),
      ctx.nodeArgs('api'),
      {
        label: `api-${side}`,
        cwd,
      },
    );
    log(`s3: api-${side} pid ${apis[side].pid} on port ${apis[side].port}`);
  }

  const key = ctx.keys.enterprise; // the NDJSON file and the mid-size CSV are over the pro plan's 10 MB
  const agent = http.agent(1);
  const cases = [
    { name: 'csv', label: `CSV ${sizeLabel(ctx.files.csv.bytes)}`, file: ctx.files.csv },
    { name: 'ndjson', label: `NDJSON ${sizeLabel(ctx.files.ndjson.bytes)}`, file: ctx.files.ndjson },
    { name: 'mid', label: `CSV ${sizeLabel(config.midBytes)}, generated while sent`, bytes: config.midBytes },
  ];
  const samples = Object.fromEntries(
    cases.map((c) => [c.name, { local: [], s3: [], ratio: [], cpuLocal: [], cpuS3: [], cpuS3rver: [] }]),
  );
  let checkedStore = false;

  /** One upload of `c` to `side`: MB/s, and the CPU seconds the api (and s3rver) spent on it. */
  const uploadTo = async (side, c) => {
    const api = apis[side];
    let stats = c.file;
    const body = c.file
      ? { data: c.file.buffer, fileName: `bench.${c.name}`, contentType: CONTENT_TYPES[c.name] }
      : {
          data: data.generate({ format: 'csv', seed: config.seed + 1, bytes: c.bytes, stats: (s) => (stats = s) }),
          fileName: 'mid.csv',
          contentType: 'text/csv',
        };
    const cpu0 = [procs.cpuOf(api.pid), procs.cpuOf(s3.pid)];
    const res = await uploadOk(api, agent, key, body);
    const cpu1 = [procs.cpuOf(api.pid), procs.cpuOf(s3.pid)];
    check(
      res.json.itemCount === stats.validRows && res.json.validationErrorCount === stats.rows - stats.validRows,
      `s3 phase, upload of ${c.label} to api-${side}: ${res.json.itemCount} items / ` +
        `${res.json.validationErrorCount} errors, expected ${stats.validRows} / ${stats.rows - stats.validRows}`,
    );
    const { fileId } = res.json;
    if (side === 's3' && !checkedStore) {
      // Once: the s3 api really wrote to s3rver, and the discard really deletes there.
      check(storedFiles(s3Dir, fileId).length > 0, `s3 phase: no object of ${fileId} in s3rver's directory`);
      await discard(api, agent, key, fileId);
      const left = storedFiles(s3Dir, fileId);
      check(left.length === 0, `s3 phase: s3rver still holds ${left.join(', ')} after the discard`);
      checkedStore = true;
    } else {
      await discard(api, agent, key, fileId);
    }
    return { rate: stats.bytes / MB / (res.ms / 1000), api: cpu1[0] - cpu0[0], s3rver: cpu1[1] - cpu0[1] };
  };

  try {
    // Both sides get the same warm-up; the mid-size file once (its code paths are the 10 MB files' ones).
    log(`s3: ${config.warmupRounds} warm-up rounds`);
    for (let i = 0; i < config.warmupRounds; i++) {
      for (const c of cases) {
        if (c.name === 'mid' && i > 0) continue;
        for (const side of SIDES) await uploadTo(side, c);
      }
    }
    for (let r = 0; r < config.runs; r++) {
      const order = r % 2 ? ['s3', 'local'] : ['local', 's3'];
      const line = [];
      for (const c of cases) {
        const got = {};
        for (const side of order) got[side] = await uploadTo(side, c);
        const s = samples[c.name];
        s.local.push(got.local.rate);
        s.s3.push(got.s3.rate);
        s.ratio.push(got.s3.rate / got.local.rate);
        s.cpuLocal.push(got.local.api);
        s.cpuS3.push(got.s3.api);
        s.cpuS3rver.push(got.s3.s3rver);
        line.push(`${c.name} ${got.local.rate.toFixed(1)} / ${got.s3.rate.toFixed(1)}`);
      }
      log(`s3 run ${r + 1}/${config.runs} (${order.join(' first, ')}), local / s3 MB/s: ${line.join(', ')}`);
    }
  } finally {
    agent.destroy();
    await Promise.all(Object.values(apis).map((a) => a.stop()));
    // Not left running under the next phase (cleanup would stop it too, at the end).
    await s3.stop();
  }

  for (const c of cases) {
    const s = samples[c.name];
    figure(`upload ${c.label}, local driver`, s.local, { unit: 'MB/s' });
    figure(`upload ${c.label}, s3 driver (s3rver)`, s.s3, { unit: 'MB/s' });
    figure(`upload ${c.label}: s3 / local (paired)`, s.ratio, {
      unit: 'ratio',
      digits: 2,
      target: ['>=', 0.8],
      note: c.name === 'csv' ? 'each file sent to both apis back to back, the order swapped every run' : undefined,
    });
    if (c.name === 'mid') {
      figure(`CPU per ${c.label}: api, local driver`, s.cpuLocal, { unit: 'CPU s', digits: 2 });
      figure(`CPU per ${c.label}: api, s3 driver`, s.cpuS3, { unit: 'CPU s', digits: 2 });
      figure(`CPU per ${c.label}: s3rver`, s.cpuS3rver, {
        unit: 'CPU s',
        digits: 2,
        note: 'user + system time from /proc/PID/stat; s3rver shares the 2 cores with the api and the bench',
      });
    }
  }
};
