'use strict';
/** jest globalTeardown: stops the private redis-server of test/global-setup.js and removes its files. */
const fs = require('node:fs');

module.exports = async function globalTeardown() {
  const redis = globalThis.__BATCHGATE_REDIS__;
  if (!redis) return;
  globalThis.__BATCHGATE_REDIS__ = undefined;
  try {
    await redis.stop();
  } finally {
    fs.rmSync(redis.dir, { recursive: true, force: true });
  }
};
