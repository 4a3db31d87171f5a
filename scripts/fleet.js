'use strict';
/**
 * The fleet on one machine, with one command (`npm run fleet`): a private s3rver and a 3-master
 * Redis Cluster, then 2 api processes and 2 worker processes of dist/, each in an empty working
 * directory of its own, as they would run on separate machines. Ctrl-C stops everything and removes
 * what it made. For trying the scale-out path; production uses real S3 and Redis Cluster.
 */
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { randomBytes } = require('node:crypto');
const { NODE_FLAGS } = require('./node-flags');
const { startPrivateCluster } = require('./private-cluster');
const { startPrivateS3 } = require('./private-s3');

const DIST = path.join(__dirname, '..', 'dist');
const APIS = Number(process.env.FLEET_APIS || 2);
const WORKERS = Number(process.env.FLEET_WORKERS || 2);
const BASE_PORT = Number(process.env.PORT || 3000);

function portFree(port) {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

async function main() {
  if (!fs.existsSync(path.join(DIST, 'main.js'))) throw new Error('dist/ is missing: run `npm run build` first');
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'batchgate-fleet-'));
  const children = [];
  let stopping = false;
  const s3 = await startPrivateS3({ dir: path.join(root, 's3'), bucket: 'batchgate' });
  const cluster = await startPrivateCluster({ dir: path.join(root, 'cluster') });
  const key = process.env.API_KEYS ? undefined : `fleet_${randomBytes(12).toString('base64url')}`;
  const env = {
    ...process.env,
    ...s3.env,
    REDIS_CLUSTER_NODES: cluster.urls,
    API_KEYS: process.env.API_KEYS || `${key}:dev:pro`,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
  const stop = async (code) => {
    if (stopping) return;
    stopping = true;
    await Promise.all(
      children.map((c) => new Promise((r) => (c.exitCode !== null ? r() : (c.once('exit', r), c.kill('SIGTERM'))))),
    );
    await cluster.stop();
    await s3.stop();
    fs.rmSync(root, { recursive: true, force: true });
    process.exit(code);
  };
  process.once('SIGINT', () => void stop(0));
  process.once('SIGTERM', () => void stop(0));

  const run = (name, script, extra) => {
    const cwd = path.join(root, name);
    fs.mkdirSync(cwd);
    const child = spawn(process.execPath, [...NODE_FLAGS, path.join(DIST, script)], {
      cwd,
      env: { ...env, ...extra },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const prefix = (chunk) => chunk.toString().replace(/^(?=.)/gm, `[${name}] `);
    child.stdout.on('data', (c) => process.stdout.write(prefix(c)));
    child.stderr.on('data', (c) => process.stderr.write(prefix(c)));
    child.once('exit', (code) => {
      if (!stopping) {
        console.error(`fleet: ${name} exited (${code}); stopping the fleet`);
        void stop(1);
      }
    });
    children.push(child);
  };
  const urls = [];
  for (let i = 0, port = BASE_PORT; i < APIS; port++) {
    if (!(await portFree(port))) continue;
    run(`api-${i + 1}`, 'main.js', { PORT: String(port), LOG_FORMAT: 'json' });
    urls.push(`http://127.0.0.1:${port}`);
    i++;
  }
  for (let i = 0; i < WORKERS; i++) run(`worker-${i + 1}`, 'worker.js', { LOG_FORMAT: 'json' });
  console.log(
    [
      '',
      `batchgate fleet: ${APIS} api + ${WORKERS} worker processes on Redis Cluster ${cluster.urls}`,
      `  storage: s3rver at ${s3.endpoint}, bucket batchgate`,
      ...urls.map((u, i) => `  api ${i + 1}: ${u} (dashboard ${u}/dashboard)`),
      ...(key ? [`  API key (org "dev", plan "pro"): ${key}`] : []),
      '  Ctrl-C stops everything.',
      '',
    ].join('\n'),
  );
}

main().catch((e) => {
  console.error(`fleet: ${e.message}`);
  process.exit(1);
});
