'use strict';
/**
 * A private S3-speaking server (s3rver, an npm devDependency) on 127.0.0.1, for the tests and the
 * local fleet: its own data directory, a free port, the bucket created at start. It checks no
 * signatures and lacks some operations (shared/STACK.md); the storage contract spec covers those
 * against a real endpoint when one is given.
 */
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');

const READY_TIMEOUT_MS = 15_000;

/** The credentials s3rver accepts (it checks none); every client of it uses these. */
const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

function findFreePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function answers(port) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * @param {{ dir: string, bucket: string }} options
 * @returns {Promise<{ endpoint: string, port: number, bucket: string, env: Record<string,string>, stop(): Promise<void>, pid: number }>}
 */
async function startPrivateS3({ dir, bucket }) {
  fs.mkdirSync(dir, { recursive: true });
  const port = await findFreePort();
  const bin = require.resolve('s3rver/bin/s3rver.js');
  // Paginated listing needs the legacy OpenSSL provider on Node 17+ (shared/STACK.md).
  const child = spawn(
    process.execPath,
    [
      '--openssl-legacy-provider',
      bin,
      '-d',
      path.resolve(dir),
      '-a',
      '127.0.0.1',
      '-p',
      String(port),
      '--silent',
      '--no-vhost-buckets',
      '--configure-bucket',
      bucket,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout.on('data', (c) => (output = (output + c).slice(-4096)));
  child.stderr.on('data', (c) => (output = (output + c).slice(-4096)));
  let exited = false;
  child.once('exit', () => (exited = true));
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!(await answers(port))) {
    if (exited || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`s3rver did not start on port ${port}: ${output.trim() || '(no output)'}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    port,
    bucket,
    pid: child.pid,
    env: {
      STORAGE_DRIVER: 's3',
      S3_BUCKET: bucket,
      S3_ENDPOINT: endpoint,
      S3_FORCE_PATH_STYLE: 'true',
      S3_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
    },
    stop: () =>
      new Promise((resolve) => {
        if (exited) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 3000).unref();
      }),
  };
}

module.exports = { startPrivateS3, S3RVER_CREDENTIALS };
