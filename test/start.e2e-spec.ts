import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testRedisUrl } from './support/app';
import { runToExit } from './support/run-to-exit';
import { waitFor } from './support/wait';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { findFreePort } = require('../scripts/private-redis') as { findFreePort(): Promise<number> };

const ROOT = join(__dirname, '..');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** `npm start`'s launcher (scripts/start.js) with the run's private Redis, never 6379. */
describe('npm start launcher', () => {
  let launcher: ChildProcess;
  let appPid: number | undefined;
  let port: number;
  let storageDir: string;
  let out = '';

  beforeEach(async () => {
    if (!existsSync(join(ROOT, 'dist', 'main.js'))) throw new Error('dist/main.js is missing: `npm test` builds it');
    port = await findFreePort();
    storageDir = await mkdtemp(join(tmpdir(), 'batchgate-start-'));
    out = '';
    launcher = spawn(process.execPath, [join(ROOT, 'scripts', 'start.js')], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH,
        PORT: String(port),
        REDIS_URL: testRedisUrl(),
        QUEUE_PREFIX: `bgtest-start-${port}`,
        STORAGE_DIR: storageDir,
        API_KEYS: 'start-test-key-1:startorg:pro',
        LOG_FORMAT: 'json',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    launcher.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    launcher.stderr!.on('data', (c: Buffer) => (out += c.toString()));
    // The app's own pid, from its start-up line (pino writes pid on every line).
    const line = await waitFor(
      () => Promise.resolve(out.split('\n').find((l) => l.includes('"api listening on'))),
      (l) => l !== undefined,
      20000,
    );
    appPid = (JSON.parse(line!) as { pid: number }).pid;
    expect(appPid).not.toBe(launcher.pid);
  });

  afterEach(async () => {
    if (launcher.exitCode === null && launcher.signalCode === null) launcher.kill('SIGKILL');
    if (appPid && alive(appPid)) process.kill(appPid, 'SIGKILL');
    await rm(storageDir, { recursive: true, force: true });
  });

  it('takes the app down with it when the launcher is SIGKILLed: no orphan holds the port', async () => {
    expect(await portAnswers(port)).toBe(true);
    launcher.kill('SIGKILL');
    await once(launcher, 'exit');
    const started = Date.now();
    await waitFor(
      () => Promise.resolve(alive(appPid!)),
      (a) => !a,
      8000,
      50,
    );
    expect(Date.now() - started).toBeLessThan(8000);
    expect(await portAnswers(port)).toBe(false);
    expect(out).toContain('the npm start launcher is gone: shutting down');
  });

  it('still drains cleanly on SIGTERM: the app shuts down once and the launcher exits with the signal', async () => {
    launcher.kill('SIGTERM');
    const [code, signal] = (await once(launcher, 'exit')) as [number | null, string | null];
    expect(signal ?? code).toBe(128 + 15);
    expect(alive(appPid!)).toBe(false);
    expect(out).toContain('SIGTERM: draining');
    expect(out).not.toContain('shutdown did not finish');
  });
});

/** API.md: "A bad configuration stops the process at start with one line naming the variable". */
describe('a bad configuration', () => {
  const start = (entry: 'main' | 'worker', env: Record<string, string>) =>
    runToExit(
      join(ROOT, 'dist', `${entry}.js`),
      { PATH: process.env.PATH, PORT: '0', API_KEYS: 'config-key-123:o:pro', ...env },
      ROOT,
    );

  it.each([
    [{ REDIS_URL: 'redis://127.0.0.1:99999' }, 'REDIS_URL'],
    [{ REDIS_URL: 'redis://user:p%zz@127.0.0.1:6390' }, 'REDIS_URL'],
    [{ REDIS_CLUSTER_NODES: ',' }, 'REDIS_CLUSTER_NODES'],
    [{ REDIS_CLUSTER_NODES: 'redis://127.0.0.1:abc' }, 'REDIS_CLUSTER_NODES'],
    [
      { STORAGE_DRIVER: 's3', S3_BUCKET: 'bkt', S3_ENDPOINT: 'http://127.0.0.1:9', STORAGE_DIR: '/dev/null/x' },
      'STORAGE_DIR',
    ],
  ])('%j: the api and the worker exit 1 with one line naming %s', async (env, name) => {
    for (const entry of ['main', 'worker'] as const) {
      const { code, out } = await start(entry, env);
      expect([entry, code, out.trim().split('\n')]).toEqual([
        entry,
        1,
        [expect.stringMatching(new RegExp(`^batchgate: configuration error: ${name}`))],
      ]);
    }
  });
});
