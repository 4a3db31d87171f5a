'use strict';
/**
 * The processes the benchmark starts: the api (`node dist/main.js`) and a worker
 * (`node dist/worker.js`), each with its own environment, stopped by pid when done. Everything
 * started here is tracked so that run.js can stop it even when a phase fails.
 */
const { execFileSync, spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const http = require('./http');
const { NODE_FLAGS } = require('../scripts/node-flags');

const ROOT = path.resolve(__dirname, '..');
const OUTPUT_TAIL = 16 * 1024;
const READY_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 15_000;

const running = new Set();
/** Set by stopAll(): a phase still running after a failure or Ctrl-C starts nothing new. */
let closed = false;

function delay(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The last `bytes` of a file, as text ('' if it cannot be read). */
function tail(file, bytes) {
  let fd;
  try {
    fd = fs.openSync(file, 'r');
    const size = fs.fstatSync(fd).size;
    const length = Math.min(size, bytes);
    const buf = Buffer.alloc(length);
    fs.readSync(fd, buf, 0, length, size - length);
    return buf.toString('utf8');
  } catch {
    return '';
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/**
 * Starts `node <script>` with its output (the JSON request logs too) going to `logFile`, as it
 * would go to a log collector in production: not through a pipe that this busy process must drain.
 * `cwd` defaults to the repository; the fleet-shaped phases give each process an empty one.
 */
function startNode(script, env, label, logFile, nodeArgs = [], cwd = ROOT) {
  if (closed) throw new Error(`${label}: not started, the bench is stopping`);
  const out = fs.openSync(logFile, 'a');
  let child;
  try {
    child = spawn(process.execPath, [...NODE_FLAGS, ...nodeArgs, script], { cwd, env, stdio: ['ignore', out, out] });
  } finally {
    fs.closeSync(out);
  }
  const output = () => tail(logFile, OUTPUT_TAIL);
  let exitInfo;
  const exited = new Promise((resolve) =>
    child.once('exit', (code, signal) => {
      exitInfo = { code, signal };
      running.delete(proc);
      resolve();
    }),
  );
  let spawnError;
  child.once('error', (e) => (spawnError = e));
  const proc = {
    label,
    pid: child.pid,
    output: () => (spawnError ? `${output()}\n${spawnError.message}` : output()),
    exited: () => exitInfo,
    /** Resolves once the output matches `pattern`; rejects if the process exits first or after `ms`. */
    async waitFor(pattern, ms) {
      const deadline = Date.now() + ms;
      while (!pattern.test(output())) {
        if (exitInfo)
          throw new Error(`${label} exited (${JSON.stringify(exitInfo)}) before it was ready\n${proc.output()}`);
        if (Date.now() > deadline) throw new Error(`${label}: not ready within ${ms} ms\n${proc.output()}`);
        await delay(100);
      }
    },
    /** SIGTERM, then SIGKILL after a grace period. */
    async stop() {
      if (exitInfo || child.pid === undefined) return;
      child.kill('SIGTERM');
      const forced = await Promise.race([exited.then(() => false), delay(STOP_GRACE_MS).then(() => true)]);
      if (forced) {
        child.kill('SIGKILL');
        await exited;
      }
    },
    kill() {
      if (!exitInfo && child.pid !== undefined) child.kill('SIGKILL');
    },
  };
  running.add(proc);
  return proc;
}

/**
 * The api (`<dist>/main.js`) on `port`; resolves once GET /ready answers 200.
 * `opts`: { label, cwd } (default 'api', the repository).
 */
async function startApi(dist, env, port, logFile, nodeArgs, opts = {}) {
  const label = opts.label || 'api';
  const proc = startNode(
    path.join(dist, 'main.js'),
    { ...env, PORT: String(port) },
    label,
    logFile,
    nodeArgs,
    opts.cwd,
  );
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (proc.exited()) throw new Error(`${label} exited before it was ready\n${proc.output()}`);
    const res = await http.request({ port, path: '/ready', timeoutMs: 2000 }).catch(() => undefined);
    if (res && res.status === 200) break;
    if (Date.now() > deadline) {
      await proc.stop();
      throw new Error(`${label} not ready within ${READY_TIMEOUT_MS} ms\n${proc.output()}`);
    }
    await delay(100);
  }
  proc.port = port;
  return proc;
}

/** A worker process (`<dist>/worker.js`); resolves once it says it has started. `opts` as for startApi. */
async function startWorker(dist, env, logFile, nodeArgs, opts = {}) {
  const proc = startNode(path.join(dist, 'worker.js'), env, opts.label || 'worker', logFile, nodeArgs, opts.cwd);
  try {
    await proc.waitFor(/worker started/, READY_TIMEOUT_MS);
  } catch (e) {
    await proc.stop();
    throw e;
  }
  return proc;
}

/** Peak resident set size (VmHWM) and current RSS of a process, in bytes. */
function memoryOf(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name) => {
    const m = status.match(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm'));
    if (!m) throw new Error(`/proc/${pid}/status has no ${name}`);
    return Number(m[1]) * 1024;
  };
  return { peak: kb('VmHWM'), rss: kb('VmRSS') };
}

/**
 * CPU time (user + system) a process has used so far, in seconds, from /proc/PID/stat; with
 * `mainThread`, only its main thread's (/proc/PID/task/PID/stat: the thread whose id is the pid).
 */
let ticksPerSecond;
function cpuOf(pid, { mainThread = false } = {}) {
  ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  const stat = fs.readFileSync(mainThread ? `/proc/${pid}/task/${pid}/stat` : `/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (in parentheses, which may hold spaces): utime and stime are 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
}

/** Stops every process still running (SIGTERM, then SIGKILL) and refuses new ones; `hard` kills at once. */
async function stopAll(hard = false) {
  closed = true;
  const procs = [...running];
  if (hard) procs.forEach((p) => p.kill());
  else await Promise.all(procs.map((p) => p.stop()));
}

module.exports = { startApi, startWorker, memoryOf, cpuOf, stopAll, delay, ROOT };
