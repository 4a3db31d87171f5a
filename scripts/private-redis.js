'use strict';
/**
 * A private redis-server on 127.0.0.1, for `npm start` without a Redis and for the test run.
 * Node built-ins only: this must work before and without `npm install`.
 */
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');

const READY_TIMEOUT_MS = 10_000;
const STOP_GRACE_MS = 5_000;
const OUTPUT_TAIL_BYTES = 8 * 1024;
// Another process may take the port between findFreePort() closing it and redis-server binding it.
const PORT_ATTEMPTS = 3;

/** @returns {Promise<number>} a port that was free on 127.0.0.1 a moment ago */
function findFreePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('could not read a free port'))));
    });
  });
}

/**
 * Sends one inline command and resolves with the first match of `pattern` in the reply, or
 * undefined on refusal, timeout or a reply that closes without matching. Never rejects.
 * @returns {Promise<RegExpMatchArray | undefined>}
 */
function queryRedis(host, port, command, pattern, timeoutMs) {
  return new Promise((resolve) => {
    let reply = '';
    let settled = false;
    const socket = net.connect({ host, port });
    const finish = (match) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(match);
    };
    const timer = setTimeout(() => finish(undefined), timeoutMs);
    socket.setEncoding('utf8');
    socket.once('connect', () => socket.write(`${command}\r\n`));
    socket.on('data', (chunk) => {
      reply += chunk;
      const match = reply.match(pattern);
      // An error reply (-LOADING, -NOAUTH...) is one line: stop waiting once it is complete.
      if (match || (reply.startsWith('-') && reply.includes('\r\n'))) finish(match ?? undefined);
    });
    socket.once('error', () => finish(undefined));
    socket.once('close', () => finish(undefined));
  });
}

/**
 * True when `host:port` answers `+PONG` to PING. Refused, -LOADING, -NOAUTH or silence: false.
 * @returns {Promise<boolean>}
 */
async function pingRedis(host, port, timeoutMs) {
  return (await queryRedis(host, port, 'PING', /^\+PONG\r\n/, timeoutMs)) !== undefined;
}

/** The pid of the redis-server answering on `port`, so we never mistake another one for ours. */
async function redisProcessId(port, timeoutMs) {
  const match = await queryRedis('127.0.0.1', port, 'INFO server', /process_id:(\d+)\r\n/, timeoutMs);
  return match ? Number(match[1]) : undefined;
}

/** @returns {string | undefined} the absolute path of an executable named `name` on PATH */
function findOnPath(name) {
  for (const dir of (process.env.PATH || '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) return candidate;
    } catch {
      // not here; keep looking
    }
  }
  return undefined;
}

function noRedisError() {
  const err = new Error('redis-server was not found on PATH');
  err.code = 'ENOREDIS';
  return err;
}

function redisArgs(port, dir, persistent) {
  // prettier-ignore
  return [
    '--port', String(port),
    '--bind', '127.0.0.1',
    '--dir', dir,
    '--maxmemory-policy', 'noeviction', // BullMQ requires it: evicted job keys corrupt queues
    '--save', '',
    '--appendonly', persistent ? 'yes' : 'no',
    '--daemonize', 'no',
    '--protected-mode', 'yes',
  ];
}

/**
 * Starts redis-server and resolves once it answers PING.
 * @param {{ dir: string, port?: number, persistent?: boolean, ownProcessGroup?: boolean }} options
 *   `port` omitted or 0: a free port is picked (and re-picked if someone else grabs it first).
 *   `ownProcessGroup`: keep Ctrl-C in a terminal from reaching redis-server, so the caller decides
 *   when it stops (after the app that uses it has shut down).
 * @returns {Promise<{ url: string, port: number, pid: number, stop(): Promise<void> }>}
 */
async function startPrivateRedis({ dir, port, persistent = false, ownProcessGroup = false }) {
  const executable = findOnPath('redis-server');
  if (!executable) throw noRedisError();
  fs.mkdirSync(dir, { recursive: true });

  const attempts = port ? 1 : PORT_ATTEMPTS;
  for (let attempt = 1; ; attempt++) {
    const chosenPort = port || (await findFreePort());
    try {
      return await launch(executable, chosenPort, path.resolve(dir), persistent, ownProcessGroup);
    } catch (err) {
      const portTaken = err && err.portTaken;
      if (!portTaken || attempt >= attempts) throw err;
    }
  }
}

async function launch(executable, port, dir, persistent, ownProcessGroup) {
  const child = spawn(executable, redisArgs(port, dir, persistent), {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: ownProcessGroup,
  });

  // redis-server logs to stdout and reports argument errors on stderr; keep a bounded tail of
  // both for error messages, and keep draining them so a full pipe never blocks redis-server.
  let output = '';
  const collect = (chunk) => {
    output = (output + chunk.toString('utf8')).slice(-OUTPUT_TAIL_BYTES);
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);

  let exitInfo;
  const exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      exitInfo = { code, signal };
      resolve();
    });
  });
  let spawnError;
  child.once('error', (err) => {
    spawnError = err;
  });

  // If our process exits without calling stop() (a crash, process.exit), don't leave an orphan.
  const killOnExit = () => {
    if (!exitInfo) child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);

  const describe = () => `redis-server output:\n${output.trim() || '(none)'}`;
  const deadline = Date.now() + READY_TIMEOUT_MS;
  try {
    for (;;) {
      if (spawnError) {
        throw spawnError.code === 'ENOENT' ? noRedisError() : spawnError;
      }
      if (exitInfo) {
        const err = new Error(
          `redis-server exited before it was ready on port ${port} ` +
            `(code ${exitInfo.code}, signal ${exitInfo.signal}).\n${describe()}`,
        );
        err.portTaken = /address already in use/i.test(output);
        throw err;
      }
      const pid = (await pingRedis('127.0.0.1', port, 500)) ? await redisProcessId(port, 1000) : undefined;
      if (pid === child.pid) break;
      if (pid !== undefined) {
        const err = new Error(`port ${port} is answered by another redis-server (pid ${pid}), not ours`);
        err.portTaken = true;
        throw err;
      }
      if (Date.now() >= deadline) {
        throw new Error(
          `redis-server did not answer PING on port ${port} within ${READY_TIMEOUT_MS} ms.\n${describe()}`,
        );
      }
      await delay(50);
    }
  } catch (err) {
    await stopChild(child, exited, () => exitInfo);
    process.removeListener('exit', killOnExit);
    throw err;
  }

  let stopping;
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    pid: child.pid,
    stop() {
      stopping ??= stopChild(child, exited, () => exitInfo).finally(() => process.removeListener('exit', killOnExit));
      return stopping;
    },
  };
}

async function stopChild(child, exited, getExitInfo) {
  if (getExitInfo() || child.exitCode !== null || child.pid === undefined) return;
  child.kill('SIGTERM');
  let timer;
  const timedOut = new Promise((resolve) => {
    timer = setTimeout(() => resolve(true), STOP_GRACE_MS);
  });
  const forced = await Promise.race([exited.then(() => false), timedOut]);
  clearTimeout(timer);
  if (forced) {
    child.kill('SIGKILL');
    await exited;
  }
}

function delay(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

module.exports = { findFreePort, startPrivateRedis, pingRedis, redisProcessId, findOnPath };
