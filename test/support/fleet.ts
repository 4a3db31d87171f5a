import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from './wait';

const DIST = join(__dirname, '..', '..', 'dist');

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface FleetProcess {
  name: string;
  child: ChildProcess;
  /** The api's base URL (apis only). */
  url?: string;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * Processes of the service as it ships (`node dist/main.js`, `node dist/worker.js`), each in an
 * empty working directory of its own, so none can depend on another's disk. Their output is kept
 * for the test to read (and shown when something fails).
 */
export class Fleet {
  readonly processes: FleetProcess[] = [];
  output = '';

  constructor(private readonly env: Record<string, string>) {}

  private spawn(name: string, script: string, env: Record<string, string>): FleetProcess {
    const cwd = mkdtempSync(join(tmpdir(), `batchgate-${name}-`));
    const child = spawn(process.execPath, [join(DIST, script)], {
      cwd,
      env: { PATH: process.env.PATH ?? '', ...this.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const collect = (c: Buffer) => (this.output += c.toString().replace(/^(?=.)/gm, `[${name}] `));
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('exit', (code, signal) => (this.output += `[${name}] exited code=${code} signal=${signal}\n`));
    const proc: FleetProcess = {
      name,
      child,
      kill: async (signal = 'SIGKILL') => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill(signal);
        await once(child, 'exit');
      },
    };
    this.processes.push(proc);
    return proc;
  }

  async api(name: string, env: Record<string, string> = {}): Promise<FleetProcess> {
    const port = await freePort();
    const proc = this.spawn(name, 'main.js', { PORT: String(port), ...env });
    proc.url = `http://127.0.0.1:${port}`;
    try {
      await waitFor(
        () =>
          fetch(`${proc.url}/ready`).then(
            (r) => r.status,
            () => 0,
          ),
        (s) => s === 200,
        30_000,
        100,
      );
    } catch (e) {
      throw new Error(`${name} did not become ready: ${(e as Error).message}\n${this.output.slice(-4000)}`);
    }
    return proc;
  }

  async worker(name: string, env: Record<string, string> = {}): Promise<FleetProcess> {
    const proc = this.spawn(name, 'worker.js', env);
    try {
      await waitFor(
        () => Promise.resolve(this.output),
        (out) => new RegExp(`\\[${name}\\] .*worker started`).test(out),
        30_000,
        50,
      );
    } catch {
      throw new Error(`${name} did not start:\n${this.output.slice(-4000)}`);
    }
    return proc;
  }

  async stop(): Promise<void> {
    await Promise.all(this.processes.map((p) => p.kill('SIGKILL')));
  }
}
