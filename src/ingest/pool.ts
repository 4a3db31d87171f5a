import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { ownBuffer } from './byte-writer';
import type { ChunkResult, ChunkTask } from './chunk-task';

/** A pool thread died (crashed, ran out of memory, was terminated) while it held a chunk of an upload. */
export class PoolThreadDied extends Error {
  constructor(why: string) {
    super(`an ingest pool thread died: ${why}`);
    this.name = 'PoolThreadDied';
  }
}

/** A chunk the thread could not read as the file's own (a reason to read the file in-thread). */
export class ChunkRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ChunkRefused';
  }
}

interface Job {
  task: ChunkTask;
  resolve(result: ChunkResult): void;
  reject(e: Error): void;
}

interface Thread {
  worker: Worker;
  jobs: Map<number, Job>;
  dead: boolean;
}

/** Chunks a thread holds at once: one being read, one waiting, so a thread never idles on the round trip. */
const PER_THREAD = 2;
/**
 * A thread's young generation, in MB. V8's default (16 MB semi-spaces: about 34 MB a thread once
 * busy) is most of what a thread adds to the process's peak RSS; a chunk's rows die young. 4 MB
 * keeps the api's peak RSS growth under 40 MB (8 MB: 40-57 MB), for about 15 % more CPU per byte
 * than 8 or 16 MB (bench/RESULTS.md, issue 14).
 * The process's `--max-semi-space-size` (scripts/node-flags.js) wins over this where it is lower:
 * V8 flags are process-wide, and with 2 MB semi-spaces a thread collects as often as with 4 here
 * (824 young collections per 100 MB of CSV either way; 16 here without the flag: 191).
 */
const YOUNG_MB = 4;
/** A thread's old generation by default: a lower limit makes V8 collect it sooner (rows of up to a few MB). */
export const DEFAULT_HEAP_MB = 64;
/** Buffers kept for reuse (chunks in, lines out), beyond which a returned buffer is left to the GC. */
const KEPT_BUFFERS = 64;

/** The worker's entry: the build's .js, or (specs run from the TypeScript sources) the .ts through a transpiling hook. */
function workerScript(): { script: string; eval: boolean } {
  const js = join(__dirname, 'pool-worker.js');
  if (existsSync(js)) return { script: js, eval: false };
  const ts = join(__dirname, 'pool-worker.ts');
  const typescript = require.resolve('typescript');
  const hook = `
    const ts = require(${JSON.stringify(typescript)});
    const fs = require('node:fs');
    require.extensions['.ts'] = (m, file) => m._compile(ts.transpileModule(fs.readFileSync(file, 'utf8'), {
      fileName: file,
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
    }).outputText, file);
    require(${JSON.stringify(ts)});`;
  return { script: hook, eval: true };
}

/**
 * worker_threads that read and validate chunks of large files (ingest's parallel path), started
 * once and shared by every upload: chunks queue in order of arrival, each thread holds at most
 * PER_THREAD. A plain class: the api and the worker process each make one (a Nest provider in the
 * api, see src/ingest-pool/), and `ingest()` uses the one installed with `setDefaultIngestPool`.
 * A thread that dies rejects the chunks it held with PoolThreadDied and is replaced.
 * Emits `dispatch` (thread's Worker, chunk index) as a chunk is handed to a thread, and `inThread`
 * (why) when ingest gave a file back to the in-thread read.
 */
export class IngestPool extends EventEmitter {
  private readonly threads: Thread[] = [];
  private readonly queue: Job[] = [];
  private nextId = 0;
  private closed = false;
  private readonly free: ArrayBuffer[] = [];
  private warmSources: string[] = [];

  readonly size: number;
  /** Files with fewer UTF-8 bytes are read in-thread (ingest's `parallelMinBytes` option overrides it). */
  readonly minBytes?: number;
  /** About this much text per chunk (ingest's `chunkBytes` option overrides it). */
  readonly chunkBytes?: number;

  /** Each thread's old-generation limit, in MB. */
  readonly heapMb: number;

  constructor(options: { threads?: number; minBytes?: number; chunkBytes?: number; heapMb?: number } = {}) {
    super();
    this.size = options.threads ?? availableParallelism();
    this.heapMb = options.heapMb ?? DEFAULT_HEAP_MB;
    this.minBytes = options.minBytes;
    this.chunkBytes = options.chunkBytes;
    for (let i = 0; i < this.size; i++) this.threads.push(this.spawn());
  }

  /** The threads' Workers (for figures: their ids, their resource usage). */
  get workers(): Worker[] {
    return this.threads.map((t) => t.worker);
  }

  run(task: ChunkTask): Promise<ChunkResult> {
    if (this.closed) return Promise.reject(new PoolThreadDied('the pool is closed'));
    return new Promise<ChunkResult>((resolve, reject) => {
      this.queue.push({ task, resolve, reject });
      this.pump();
    });
  }

  /**
   * Has every thread (and every thread started later in place of one that died) compile these item
   * schemas and read a few made-up rows, so that a thread is at its working size before the first
   * upload (ItemSchema.source of each schema).
   */
  warm(schemaSources: string[]): void {
    this.warmSources = schemaSources;
    for (const t of this.threads) t.worker.postMessage({ warm: schemaSources });
  }

  /**
   * A buffer of at least `size` bytes, reused: the chunks and their lines go back and forth between
   * the threads in the same few buffers, so that a file of any size allocates about the same memory
   * (a new 1 MB buffer per chunk is external memory that only a full GC gives back).
   */
  takeBuffer(size: number): Uint8Array {
    let best = -1;
    for (let i = 0; i < this.free.length; i++) {
      const b = this.free[i];
      if (b.byteLength >= size && (best === -1 || b.byteLength < this.free[best].byteLength)) best = i;
    }
    if (best === -1) return ownBuffer(size);
    const [buffer] = this.free.splice(best, 1);
    return new Uint8Array(buffer);
  }

  /** Gives a buffer (a view of a whole ArrayBuffer from takeBuffer or a thread) back for reuse. */
  giveBuffer(view: Uint8Array): void {
    const buffer = view.buffer as ArrayBuffer;
    if (buffer.byteLength === 0 || this.free.includes(buffer)) return;
    if (this.free.length >= KEPT_BUFFERS) this.free.shift();
    this.free.push(buffer);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.reject(new PoolThreadDied('the pool is closed'));
    await Promise.all(this.threads.map((t) => t.worker.terminate()));
  }

  private spawn(): Thread {
    const { script, eval: isEval } = workerScript();
    const worker = new Worker(script, {
      eval: isEval,
      resourceLimits: { maxYoungGenerationSizeMb: YOUNG_MB, maxOldGenerationSizeMb: this.heapMb },
    });
    const thread: Thread = { worker, jobs: new Map(), dead: false };
    worker.unref();
    if (this.warmSources?.length) worker.postMessage({ warm: this.warmSources });
    worker.on('message', (m: { id: number; result?: ChunkResult; error?: string }) => {
      const job = thread.jobs.get(m.id);
      if (!job) return;
      thread.jobs.delete(m.id);
      if (m.result) job.resolve(m.result);
      else job.reject(new ChunkRefused(m.error ?? 'refused'));
      this.pump();
    });
    const died = (why: string) => {
      if (thread.dead) return;
      thread.dead = true;
      const jobs = [...thread.jobs.values()];
      thread.jobs.clear();
      for (const job of jobs) job.reject(new PoolThreadDied(why));
      const at = this.threads.indexOf(thread);
      if (!this.closed && at !== -1) {
        this.threads[at] = this.spawn();
        this.emit('replaced', at);
        this.pump();
      }
    };
    worker.on('error', (e) => died(e.message));
    worker.on('exit', (code) => died(`exit code ${code}`));
    return thread;
  }

  private pump(): void {
    while (this.queue.length) {
      let best: Thread | undefined;
      for (const t of this.threads) {
        if (!t.dead && t.jobs.size < PER_THREAD && (!best || t.jobs.size < best.jobs.size)) best = t;
      }
      if (!best) return;
      const job = this.queue.shift()!;
      const id = this.nextId++;
      best.jobs.set(id, job);
      // The chunk and the buffers for its lines move to the thread (takeBuffer's own ArrayBuffers).
      const { chunk, out } = job.task;
      best.worker.postMessage({ id, task: job.task }, [
        chunk.bytes.buffer as ArrayBuffer,
        out.items.buffer as ArrayBuffer,
        out.rejected.buffer as ArrayBuffer,
      ]);
      this.emit('dispatch', best.worker, job.task.chunk.index);
    }
  }
}

let installed: IngestPool | undefined;

/** The pool `ingest()` uses when its options name none (undefined: every file is read in-thread). */
export function setDefaultIngestPool(pool: IngestPool | undefined): void {
  installed = pool;
}

export function defaultIngestPool(): IngestPool | undefined {
  return installed;
}
