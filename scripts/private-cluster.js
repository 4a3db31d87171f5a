'use strict';
/**
 * A private Redis Cluster on 127.0.0.1 (`redis-server --cluster-enabled yes` processes, each in a
 * fresh directory), for the tests and the local fleet. Facts in shared/STACK.md: each node needs its
 * bus port (port + 10000) free; `redis-cli --cluster create` returning is not readiness, so every
 * node is polled for `cluster_state:ok`. Node built-ins only.
 */
const { execFile, spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const { findOnPath } = require('./private-redis');

const READY_TIMEOUT_MS = 30_000;

function portFree(port) {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A port whose bus port (port + 10000) is free too. */
async function freeNodePort() {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 35000);
    if ((await portFree(port)) && (await portFree(port + 10000))) return port;
  }
  throw new Error('no free port pair for a cluster node');
}

function cli(args, timeoutMs = 15_000) {
  return new Promise((resolve, reject) => {
    execFile('redis-cli', args, { timeout: timeoutMs }, (err, stdout, stderr) => {
      if (err) reject(new Error(`redis-cli ${args.join(' ')}: ${stderr || stdout || err.message}`));
      else resolve(stdout);
    });
  });
}

/**
 * @param {{ dir: string, masters?: number, replicas?: number, nodeTimeoutMs?: number }} options
 * @returns {Promise<{ nodes: string[], urls: string, ports: number[], pids: number[], kill(port: number): void, stop(): Promise<void> }>}
 */
async function startPrivateCluster({ dir, masters = 3, replicas = 0, nodeTimeoutMs = 5000 }) {
  if (!findOnPath('redis-server') || !findOnPath('redis-cli')) {
    const err = new Error('redis-server and redis-cli are needed on PATH for a private cluster');
    err.code = 'ENOREDIS';
    throw err;
  }
  const count = masters * (1 + replicas);
  const children = new Map();
  const ports = [];
  const stop = async () => {
    await Promise.all(
      [...children.values()].map(
        (child) =>
          new Promise((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGKILL');
          }),
      ),
    );
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < count; i++) {
      const port = await freeNodePort();
      const nodeDir = path.join(dir, `node-${port}`);
      fs.mkdirSync(nodeDir, { recursive: true });
      const child = spawn(
        'redis-server',
        [
          '--port',
          String(port),
          '--bind',
          '127.0.0.1',
          '--dir',
          nodeDir,
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          'nodes.conf',
          '--cluster-node-timeout',
          String(nodeTimeoutMs),
          '--maxmemory-policy',
          'noeviction',
          '--save',
          '',
          '--appendonly',
          'no',
          '--protected-mode',
          'yes',
        ],
        { stdio: 'ignore' },
      );
      children.set(port, child);
      ports.push(port);
    }
    for (const port of ports) {
      const deadline = Date.now() + READY_TIMEOUT_MS;
      while ((await cli(['-p', String(port), 'PING']).catch(() => '')).trim() !== 'PONG') {
        if (Date.now() > deadline) throw new Error(`cluster node ${port} did not answer`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    await cli(
      [
        '--cluster',
        'create',
        ...ports.map((p) => `127.0.0.1:${p}`),
        '--cluster-replicas',
        String(replicas),
        '--cluster-yes',
      ],
      60_000,
    );
    for (const port of ports) {
      const deadline = Date.now() + READY_TIMEOUT_MS;
      while (!/cluster_state:ok/.test(await cli(['-p', String(port), 'CLUSTER', 'INFO']).catch(() => ''))) {
        if (Date.now() > deadline) throw new Error(`cluster node ${port} never reached cluster_state:ok`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    if (replicas > 0) await replicasReady(ports, masters * replicas);
  } catch (err) {
    await stop();
    throw err;
  }
  const nodes = ports.map((p) => `redis://127.0.0.1:${p}`);
  return {
    nodes,
    urls: nodes.join(','),
    ports,
    pids: ports.map((p) => children.get(p).pid),
    /** SIGKILLs one node (a failover test's master). */
    kill: (port) => children.get(port)?.kill('SIGKILL'),
    stop,
  };
}

/** The ports of the cluster's masters that serve slots, from CLUSTER NODES on `port`. */
async function masterPorts(port) {
  const text = await cli(['-p', String(port), 'CLUSTER', 'NODES']);
  return text
    .split('\n')
    .map((l) => l.split(' '))
    .filter((f) => f.length > 8 && f[2].split(',').includes('master') && !f[2].includes('fail'))
    .map((f) => Number(/:(\d+)@/.exec(f[1])?.[1]))
    .filter(Boolean);
}

/**
 * `--cluster create` assigns replicas after it returns: wait until every node sees `expected`
 * replicas and each replica's link to its master is up (else a killed master has no one to fail over to).
 */
async function replicasReady(ports, expected) {
  // Ready when every master that serves slots has its replicas connected (what a failover needs).
  const perMaster = expected / Math.max(1, (await masterPorts(ports[0])).length);
  const deadline = Date.now() + 2 * READY_TIMEOUT_MS;
  for (;;) {
    const masters = await masterPorts(ports[0]).catch(() => []);
    let ok = masters.length > 0;
    for (const port of masters) {
      const info = await cli(['-p', String(port), 'INFO', 'replication']).catch(() => '');
      const connected = Number(/connected_slaves:(\d+)/.exec(info)?.[1] ?? 0);
      if (connected < perMaster || !/slave0:.*state=online/.test(info)) ok = false;
    }
    if (ok) return;
    if (Date.now() > deadline) throw new Error('cluster replicas never came up');
    await new Promise((r) => setTimeout(r, 100));
  }
}

module.exports = { startPrivateCluster, masterPorts };
