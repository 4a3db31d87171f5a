'use strict';
/**
 * A small HTTP client on node:http for the benchmark: keep-alive agents with a fixed socket count,
 * multipart uploads streamed with backpressure (a generated 1 GB file is never held in memory), and
 * timings taken around the whole exchange. Only 127.0.0.1 is ever contacted.
 */
const http = require('node:http');
const { randomBytes } = require('node:crypto');

const HOST = '127.0.0.1';

function agent(maxSockets) {
  return new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
}

function now() {
  return Number(process.hrtime.bigint()) / 1e6;
}

/**
 * One request; resolves with { status, text, json, ms } once the whole response is read.
 * `body` is a Buffer or string (sent with Content-Length) or an iterable of Buffers (chunked).
 * A request with a fixed body (or none) whose reused keep-alive socket turns out closed by the server
 * (its idle timeout ran out while a baseline ran: EPIPE or ECONNRESET before any answer) is sent
 * once more on a new socket, as Node's documentation advises (`request.reusedSocket`).
 */
function request(opts) {
  const replayable = opts.body === undefined || typeof opts.body === 'string' || Buffer.isBuffer(opts.body);
  return requestOnce(opts).catch((e) => {
    if (replayable && e.reusedSocket && (e.code === 'EPIPE' || e.code === 'ECONNRESET')) return requestOnce(opts);
    throw e;
  });
}

function requestOnce({ port, method = 'GET', path, headers = {}, body, agent: a, timeoutMs = 600_000 }) {
  return new Promise((resolve, reject) => {
    const started = now();
    const fixed = typeof body === 'string' || Buffer.isBuffer(body);
    const req = http.request(
      {
        host: HOST,
        port,
        method,
        path,
        agent: a,
        headers: fixed ? { ...headers, 'Content-Length': Buffer.byteLength(body) } : headers,
      },
      (res) => {
        const parts = [];
        res.on('data', (c) => parts.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(parts).toString('utf8');
          let json;
          try {
            json = text ? JSON.parse(text) : undefined;
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode, text, json, ms: now() - started });
        });
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${path}: no answer within ${timeoutMs} ms`)));
    req.on('error', (e) => reject(Object.assign(e, { reusedSocket: req.reusedSocket })));
    if (body === undefined) req.end();
    else if (fixed) req.end(body);
    else sendIterable(req, body).catch((e) => req.destroy(e));
  });
}

/** Writes an iterable of Buffers, waiting for 'drain' whenever the socket buffer is full. */
async function sendIterable(req, chunks) {
  for await (const chunk of chunks) {
    if (!req.write(chunk)) {
      await new Promise((resolve, reject) => {
        const onDrain = () => {
          req.off('error', onError);
          resolve();
        };
        const onError = (e) => {
          req.off('drain', onDrain);
          reject(e);
        };
        req.once('drain', onDrain);
        req.once('error', onError);
      });
    }
  }
  req.end();
}

/**
 * POST /v1/batch/upload with the file as the multipart part `file`. `data` is a Buffer (sent with
 * Content-Length) or an iterable (or async iterable: a file stream) of Buffers (sent chunked).
 * Resolves with { status, json, ms } where ms runs from the first byte sent to the end of the answer.
 */
function upload({ port, key, data, fileName, contentType, agent: a }) {
  const boundary = `----batchgate-bench-${randomBytes(8).toString('hex')}`;
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${fileName}"\r\n` +
      `Content-Type: ${contentType}\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const headers = { Authorization: `Bearer ${key}`, 'Content-Type': `multipart/form-data; boundary=${boundary}` };
  const body = Buffer.isBuffer(data)
    ? Buffer.concat([head, data, tail])
    : data[Symbol.asyncIterator]
      ? (async function* () {
          yield head;
          yield* data;
          yield tail;
        })()
      : (function* () {
          yield head;
          yield* data;
          yield tail;
        })();
  return request({ port, method: 'POST', path: '/v1/batch/upload', headers, body, agent: a });
}

/**
 * POST /v1/batch/upload with several file parts, all named `file`, in one request (API.md, "Several
 * files"). `files` is [{ data: Buffer, fileName, contentType }]; the body is sent with Content-Length.
 */
function uploadMany({ port, key, files, agent: a }) {
  const boundary = `----batchgate-bench-${randomBytes(8).toString('hex')}`;
  const parts = [];
  for (const f of files) {
    parts.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${f.fileName}"\r\n` +
          `Content-Type: ${f.contentType}\r\n\r\n`,
      ),
      f.data,
      Buffer.from('\r\n'),
    );
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  const headers = { Authorization: `Bearer ${key}`, 'Content-Type': `multipart/form-data; boundary=${boundary}` };
  return request({ port, method: 'POST', path: '/v1/batch/upload', headers, body: Buffer.concat(parts), agent: a });
}

function json({ port, method, path, key, body, agent: a }) {
  const headers = key ? { Authorization: `Bearer ${key}` } : {};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  return request({
    port,
    method,
    path,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    agent: a,
  });
}

module.exports = { agent, request, upload, uploadMany, json, now };
