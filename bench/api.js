'use strict';
/**
 * The service's API as the phases use it: checked uploads and discards, many small uploads, timed
 * creates from concurrent clients, and a batch created and polled until it ends. Every answer is
 * checked: a figure is only taken from requests that did what they should.
 */
const http = require('./http');
const { percentile } = require('./stats');

const CONTENT_TYPES = { csv: 'text/csv', ndjson: 'application/x-ndjson', json: 'application/json' };
const FINAL = ['completed', 'failed', 'cancelled'];

function check(condition, message) {
  if (!condition) throw new Error(message);
}

function delay(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** An upload that must answer 200; with `expected` ({ rows, validRows }), its counts are checked too. */
async function uploadOk(api, agent, key, opts, expected) {
  const res = await http.upload({ port: api.port, key, agent, ...opts });
  check(res.status === 200, `upload of ${opts.fileName} answered ${res.status}: ${res.text.slice(0, 500)}`);
  if (expected) {
    check(
      res.json.itemCount === expected.validRows && res.json.validationErrorCount === expected.rows - expected.validRows,
      `upload of ${opts.fileName}: ${res.json.itemCount} items / ${res.json.validationErrorCount} errors, ` +
        `expected ${expected.validRows} / ${expected.rows - expected.validRows}`,
    );
  }
  return res;
}

async function discard(api, agent, key, fileId) {
  const res = await http.json({ port: api.port, method: 'DELETE', path: `/v1/batch/upload/${fileId}`, key, agent });
  check(res.status === 204, `discard answered ${res.status}`);
}

const smallCsv = (i) => Buffer.from(`content,externalId\nFirst item ${i},c-${i}-1\nSecond item ${i},c-${i}-2\n`);

/** `n` two-row uploads from `concurrency` clients; resolves with their fileIds in order. */
async function uploadSmall(api, key, n, concurrency) {
  const agent = http.agent(concurrency);
  const ids = [];
  let next = 0;
  try {
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < n) {
          const i = next++;
          const res = await uploadOk(api, agent, key, {
            data: smallCsv(i),
            fileName: 's.csv',
            contentType: 'text/csv',
          });
          ids[i] = res.json.fileId;
        }
      }),
    );
  } finally {
    agent.destroy();
  }
  return ids;
}

/** POST /v1/batch on each of `ids` from `concurrency` clients: { p50, p99 } in ms and creates/s. */
async function createMany(api, key, ids, concurrency) {
  const agent = http.agent(concurrency);
  const latencies = [];
  let next = 0;
  try {
    // Each client opens its connection first (keep-alive, as API clients do): the figure is the
    // create itself, not 50 TCP handshakes landing at once.
    await Promise.all(
      Array.from({ length: concurrency }, () => http.request({ port: api.port, path: '/health', agent })),
    );
    const t0 = http.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < ids.length) {
          const fileId = ids[next++];
          const res = await http.json({
            port: api.port,
            method: 'POST',
            path: '/v1/batch',
            key,
            agent,
            body: { fileId },
          });
          check(res.status === 202, `create answered ${res.status}: ${res.text.slice(0, 300)}`);
          latencies.push(res.ms);
        }
      }),
    );
    const seconds = (http.now() - t0) / 1000;
    return { p50: percentile(latencies, 50), p99: percentile(latencies, 99), rate: ids.length / seconds };
  } finally {
    agent.destroy();
  }
}

/** `n` GET /health from `concurrency` keep-alive clients: { p50, p99 } in ms (the reference for create latency). */
async function healthMany(api, n, concurrency) {
  const agent = http.agent(concurrency);
  const latencies = [];
  let next = 0;
  try {
    await Promise.all(
      Array.from({ length: concurrency }, () => http.request({ port: api.port, path: '/health', agent })),
    );
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next++ < n) {
          const res = await http.request({ port: api.port, path: '/health', agent });
          check(res.status === 200, `GET /health answered ${res.status}`);
          latencies.push(res.ms);
        }
      }),
    );
    return { p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
  } finally {
    agent.destroy();
  }
}

/** POST /v1/batch on an uploaded file; resolves with the batch id. */
async function createBatch(api, agent, key, fileId, name) {
  const created = await http.json({
    port: api.port,
    method: 'POST',
    path: '/v1/batch',
    key,
    agent,
    body: { fileId, name },
  });
  check(created.status === 202, `create answered ${created.status}: ${created.text}`);
  return created.json.id;
}

/**
 * Polls GET /v1/batch/{id} every 50 ms until the batch ends; checks that it completed with
 * `items` succeeded. Resolves with the batch.
 */
async function waitCompleted(api, agent, key, id, items, timeoutMs = 20 * 60_000) {
  const deadline = Date.now() + timeoutMs;
  let batch;
  for (;;) {
    const res = await http.json({ port: api.port, method: 'GET', path: `/v1/batch/${id}`, key, agent });
    check(res.status === 200, `GET batch answered ${res.status}`);
    batch = res.json;
    if (FINAL.includes(batch.status)) break;
    check(
      Date.now() < deadline,
      `batch ${id} not finished after ${timeoutMs / 60_000} minutes (${batch.processedCount} done)`,
    );
    await delay(50);
  }
  check(
    batch.status === 'completed' && batch.succeededCount === items,
    `batch ${id} ended ${batch.status} with ${batch.succeededCount} succeeded: ${JSON.stringify(batch.error)}`,
  );
  return batch;
}

module.exports = {
  CONTENT_TYPES,
  check,
  uploadOk,
  discard,
  uploadSmall,
  createMany,
  healthMany,
  createBatch,
  waitCompleted,
};
