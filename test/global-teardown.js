'use strict';
/** jest globalTeardown: stops the private redis-server and s3rver of test/global-setup.js and removes their files. */
const fs = require('node:fs');

module.exports = async function globalTeardown() {
  const s3 = globalThis.__BATCHGATE_S3__;
  if (s3) {
    globalThis.__BATCHGATE_S3__ = undefined;
    await s3.stop().finally(() => fs.rmSync(s3.dir, { recursive: true, force: true }));
  }
  const redis = globalThis.__BATCHGATE_REDIS__;
  if (!redis) return;
  globalThis.__BATCHGATE_REDIS__ = undefined;
  try {
    await redis.stop();
  } finally {
    fs.rmSync(redis.dir, { recursive: true, force: true });
  }
};
