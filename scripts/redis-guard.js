'use strict';
/**
 * Stops the private redis-server of `npm start` if scripts/start.js dies without stopping it
 * (SIGKILL, a crash): otherwise that redis-server would live on, holding ./data/redis, and the next
 * `npm start` would start a second one on the same directory.
 *
 * Usage (by scripts/start.js only): node redis-guard.js REDIS_PID REDIS_PORT APP_PID, with an IPC
 * channel to the launcher. 'release' from the launcher: it stops Redis itself, so we just exit.
 * The channel closing without it: wait for the app to end (it shuts down on its own when its own
 * channel to the launcher closes, and needs Redis while it drains), then stop Redis.
 */
const { redisProcessId } = require('./private-redis');

const [redisPid, redisPort, appPid] = process.argv.slice(2).map(Number);
const APP_WAIT_MS = 120_000;
const REDIS_STOP_MS = 5_000;

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until(done, ms) {
  const deadline = Date.now() + ms;
  while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  return done();
}

async function stopRedis() {
  await until(() => !alive(appPid), APP_WAIT_MS);
  // Only the redis-server we were told about: its pid must still answer on its port.
  if ((await redisProcessId(redisPort, 1000)) !== redisPid) return;
  process.kill(redisPid, 'SIGTERM');
  if (!(await until(() => !alive(redisPid), REDIS_STOP_MS))) process.kill(redisPid, 'SIGKILL');
  console.error(`batchgate: the npm start launcher is gone: stopped its private Redis (pid ${redisPid})`);
}

let released = false;
process.on('message', (message) => {
  if (message === 'release') {
    released = true;
    process.exit(0);
  }
});
process.once('disconnect', () => {
  if (released) return;
  stopRedis().then(
    () => process.exit(0),
    (err) => {
      console.error(`batchgate: could not stop the private Redis (pid ${redisPid}): ${err.message}`);
      process.exit(1);
    },
  );
});
