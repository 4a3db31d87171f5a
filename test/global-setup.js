'use strict';
/**
 * jest globalSetup: a private, throw-away redis-server on a free port for the whole run, so tests
 * never see (or flush) the developer's Redis on 6379. Workers inherit process.env from here.
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { startPrivateRedis } = require('../scripts/private-redis');
const { startPrivateS3 } = require('../scripts/private-s3');

module.exports = async function globalSetup() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'batchgate-test-redis-'));
  let redis;
  try {
    redis = await startPrivateRedis({ dir, persistent: false });
  } catch (err) {
    fs.rmSync(dir, { recursive: true, force: true });
    if (err && err.code === 'ENOREDIS') {
      throw new Error(
        'The tests need redis-server on PATH (they start a private one on a free port, never 6379): ' +
          'install it with "apt-get install -y redis-server" (Debian/Ubuntu) or "brew install redis" (macOS).',
      );
    }
    throw err;
  }
  process.env.REDIS_URL = redis.url;
  process.env.BATCHGATE_TEST_REDIS_URL = redis.url;
  globalThis.__BATCHGATE_REDIS__ = { dir, stop: redis.stop };

  // A private S3-speaking server (s3rver) for the s3 driver's specs, beside the Redis.
  const s3Dir = fs.mkdtempSync(path.join(os.tmpdir(), 'batchgate-test-s3-'));
  const s3 = await startPrivateS3({ dir: s3Dir, bucket: 'batchgate-test' });
  process.env.BATCHGATE_TEST_S3_ENDPOINT = s3.endpoint;
  process.env.BATCHGATE_TEST_S3_BUCKET = s3.bucket;
  globalThis.__BATCHGATE_S3__ = { dir: s3Dir, stop: s3.stop };
  // In-process apps on the s3 driver take credentials from the SDK's default chain, as in production:
  // give that chain s3rver's, unless a real endpoint's contract run brought its own.
  if (!process.env.BATCHGATE_S3_CONTRACT_BUCKET) {
    process.env.AWS_ACCESS_KEY_ID = 'S3RVER';
    process.env.AWS_SECRET_ACCESS_KEY = 'S3RVER';
  }
  // The SDK warns once per process that releases after January 2027 need Node 22 (the pin is older).
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
};
