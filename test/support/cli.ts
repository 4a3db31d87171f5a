import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { once } from 'node:events';
import { type IncomingMessage, type Server, type ServerResponse, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

/** The `batchgate` command as a user runs it: node bin/batchgate.js, the build in dist/. */
export const BIN = join(__dirname, '..', '..', 'bin', 'batchgate.js');
export const ESC = '\x1b[';

export interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface Running {
  child: ChildProcessWithoutNullStreams;
  /** What it printed so far. */
  readonly stdout: string;
  readonly stderr: string;
  /** Its end; rejects when a piped output holds an ANSI escape (piped: plain text only). */
  done: Promise<Run>;
}

/** Spawns the CLI with only these variables (PATH added): nothing of the developer's own config. */
export function spawnCli(args: string[], env: Record<string, string | undefined>, nodeArgs: string[] = []): Running {
  const started = Date.now();
  const child = spawn(process.execPath, [...nodeArgs, BIN, ...args], {
    cwd: env.HOME,
    env: { PATH: process.env.PATH, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  child.stdin.end();
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const done = new Promise<Run>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const run = { code, signal, stdout, stderr, ms: Date.now() - started };
      if (stdout.includes(ESC) || stderr.includes(ESC)) reject(new Error(`ANSI codes in piped output:\n${stderr}`));
      else resolve(run);
    });
  });
  return {
    child,
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    done,
  };
}

/** One request that went through the proxy. */
export interface ProxyEntry {
  seq: number;
  method: string;
  /** The path without its query. */
  path: string;
  /** PUT /v1/uploads/{id}/parts/{n}: the session and the part. */
  uploadId?: string;
  part?: number;
  authorization: boolean;
  /** The status answered (0 while in flight; -1 held, never answered). */
  status: number;
}

/** What the proxy does with a part PUT: forward it, answer 500 after reading it, hold it, or spoil its signature. */
export type PartAction = 'forward' | 'fail' | 'hold' | 'tamper';

/**
 * A real HTTP proxy in front of the app, logging every request. The local driver builds its part
 * URLs from the request's Host, so with BATCHGATE_URL pointing here the parts come through it too;
 * `onPart` decides each part PUT's fate (the nth PUT of a part is `count`).
 */
export class PartProxy {
  readonly log: ProxyEntry[] = [];
  onPart: (e: ProxyEntry, count: number) => PartAction = () => 'forward';
  private readonly held: ServerResponse[] = [];
  private server?: Server;
  url = '';

  constructor(private readonly target: string) {}

  async start(): Promise<this> {
    this.server = createServer((req, res) => this.handle(req, res));
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  /** The part PUTs logged after entry `since` (a seq), as [part, status]. */
  puts(since = 0): [number, number][] {
    return this.log.filter((e) => e.seq > since && e.part !== undefined).map((e) => [e.part!, e.status]);
  }

  get seq(): number {
    return this.log.length;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://proxy');
    const m = /^\/v1\/uploads\/([^/]+)\/parts\/(\d+)$/.exec(url.pathname);
    const entry: ProxyEntry = {
      seq: this.log.length + 1,
      method: req.method ?? '',
      path: url.pathname,
      authorization: req.headers.authorization !== undefined,
      status: 0,
    };
    if (m && req.method === 'PUT') {
      entry.uploadId = m[1];
      entry.part = Number(m[2]);
    }
    this.log.push(entry);
    const count = this.log.filter((e) => e.uploadId === entry.uploadId && e.part === entry.part).length;
    const action = entry.part !== undefined ? this.onPart(entry, count) : 'forward';
    if (action === 'fail') {
      req.resume();
      req.on('end', () => {
        entry.status = 500;
        res.writeHead(500, { 'Content-Type': 'text/plain' });
        res.end('the proxy failed this part on purpose');
      });
      return;
    }
    if (action === 'hold') {
      entry.status = -1;
      req.resume();
      this.held.push(res);
      return;
    }
    let path = req.url ?? '/';
    if (action === 'tamper')
      path = path.replace(/signature=([^&])/, (_, c: string) => `signature=${c === 'A' ? 'B' : 'A'}`);
    const target = new URL(this.target);
    const upstream = request(
      { host: target.hostname, port: target.port, path, method: req.method, headers: req.headers },
      (answer) => {
        entry.status = answer.statusCode ?? 502;
        res.writeHead(entry.status, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.on('error', () => upstream.destroy());
    req.pipe(upstream);
  }

  async close(): Promise<void> {
    for (const res of this.held) res.destroy();
    if (!this.server) return;
    this.server.closeAllConnections();
    this.server.close();
    await once(this.server, 'close');
  }
}
