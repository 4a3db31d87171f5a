'use strict';
/**
 * `npm start`: the api with an in-process worker on one machine, finding a Redis on its own:
 * REDIS_CLUSTER_NODES or REDIS_URL if set, else a Redis already on 127.0.0.1:6379, else a private persistent
 * redis-server under ./data/redis on a free port, else one line saying how to get one.
 */
const { spawn } = require('node:child_process');
const os = require('node:os');
const path = require('node:path');
const { NODE_FLAGS } = require('./node-flags');
const { pingRedis, startPrivateRedis } = require('./private-redis');

const ROOT = path.resolve(__dirname, '..');
const DEFAULT_REDIS = { host: '127.0.0.1', port: 6379 };
const NO_REDIS_MESSAGE =
  'batchgate needs Redis: install it (apt-get install -y redis-server) or run "docker compose up -d redis", or set REDIS_URL.';

async function resolveRedis() {
  // A cluster is the app's to reach (REDIS_URL is not read then): nothing to find or start.
  if (process.env.REDIS_CLUSTER_NODES?.trim()) return {};
  if (process.env.REDIS_URL) return { url: process.env.REDIS_URL };

  if (await pingRedis(DEFAULT_REDIS.host, DEFAULT_REDIS.port, 1000)) {
    const url = `redis://${DEFAULT_REDIS.host}:${DEFAULT_REDIS.port}`;
    console.log(`batchgate: using the Redis already running at ${url}`);
    return { url };
  }

  const dir = path.join(ROOT, 'data', 'redis');
  try {
    // Own process group: Ctrl-C must reach only the app, which still needs Redis while it shuts down.
    const redis = await startPrivateRedis({ dir, persistent: true, ownProcessGroup: true });
    console.log(`batchgate: started a private Redis at ${redis.url} (data in ${path.relative(ROOT, dir)}/)`);
    return { url: redis.url, redis };
  } catch (err) {
    if (err && err.code === 'ENOREDIS') {
      console.error(NO_REDIS_MESSAGE);
      process.exit(1);
    }
    throw err;
  }
}

function exitCodeOf(code, signal) {
  if (code !== null) return code;
  return 128 + (os.constants.signals[signal] ?? 0);
}

async function main() {
  // Until the app runs, a signal only needs to stop a private Redis we may have started.
  let app;
  let stopRequested;
  const onSignal = (signal) => {
    stopRequested ??= signal;
    if (app && app.exitCode === null && app.signalCode === null) app.kill(signal);
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, onSignal);

  const { url, redis } = await resolveRedis();
  if (stopRequested) {
    if (redis) await redis.stop();
    process.exit(exitCodeOf(null, stopRequested));
  }
  const env = { ...process.env, ...(url && { REDIS_URL: url }) };
  env.WORKER_IN_PROCESS ??= 'true';

  // Own process group for the same reason as Redis: a terminal's Ctrl-C reaches this process
  // only, and is forwarded once, so the app drains once. The IPC channel is the app's tie to this
  // process: should the launcher die without forwarding anything (SIGKILL), the channel closes and
  // the app shuts down as on SIGTERM (src/main.ts) instead of keeping the port as an orphan.
  app = spawn(process.execPath, [...NODE_FLAGS, path.join(ROOT, 'dist', 'main.js')], {
    cwd: ROOT,
    env,
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
    detached: true,
  });

  const guard = redis && guardPrivateRedis(redis, app.pid);

  const exitCode = await new Promise((resolve) => {
    app.once('error', (err) => {
      console.error(`batchgate: could not start the app: ${err.message}`);
      resolve(1);
    });
    app.once('exit', (code, signal) => resolve(exitCodeOf(code, signal)));
  });

  if (guard) await guard.release();
  if (redis) await redis.stop();
  process.exit(exitCode);
}

/**
 * SIGKILL of this process would leave our private redis-server running (it sits in a process group
 * of its own): scripts/redis-guard.js, tied to us by an IPC channel, stops it then, after the app.
 */
function guardPrivateRedis(redis, appPid) {
  const guard = spawn(process.execPath, [path.join(__dirname, 'redis-guard.js'), redis.pid, redis.port, appPid], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    detached: true,
  });
  guard.on('error', (err) => console.error(`batchgate: could not start the Redis guard: ${err.message}`));
  guard.unref();
  guard.channel?.unref();
  return {
    release: () =>
      new Promise((resolve) => {
        if (!guard.connected) return resolve();
        guard.send('release', () => resolve());
      }),
  };
}

main().catch((err) => {
  console.error(`batchgate: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
