import { constants, createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { access, mkdir, open, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { dirname, join, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BufferedWriter } from './buffered-writer';
import type { FileStorage, StorageWriter, StoredObject } from './file-storage';
import { sizeChecked } from './size-checked';
import { sweepOldFiles } from './spool';

/** Files being written end in this; listings never show them. */
const PARTIAL = '.partial';

class LocalWriter extends BufferedWriter {
  protected stream: WriteStream;
  /** A file stream's write callback comes once the bytes are in the file. */
  protected override readonly reusesBuffers = true;

  constructor(
    private readonly partial: string,
    private readonly final: string,
  ) {
    super();
    this.stream = this.openStream();
  }

  private openStream(): WriteStream {
    const stream = createWriteStream(this.partial, { flags: 'w' });
    stream.on('error', (e) => (this.failure = e));
    return stream;
  }

  async reset(): Promise<void> {
    this.discardBuffered();
    await this.close();
    this.stream = this.openStream();
    await once(this.stream, 'open');
  }

  async commit(): Promise<void> {
    await this.flush();
    this.stream.end();
    await once(this.stream, 'finish');
    this.check();
    // fsync before rename: the token that points at this object is written next, and must not
    // outlive a power cut that loses the data.
    const handle = await open(this.partial, 'r+');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(this.partial, this.final);
  }

  /**
   * Destroys the stream and waits until it has closed, which is only once its open is done: a file
   * refused at its first bytes is aborted while the stream may still be opening, and that open would
   * otherwise create the partial file after the rm (or truncate it after a reset).
   */
  private async close(): Promise<void> {
    if (this.stream.closed) return;
    const closed = new Promise<void>((resolve) => this.stream.once('close', () => resolve()));
    this.stream.destroy();
    await closed;
  }

  async abort(): Promise<void> {
    await this.close();
    await rm(this.partial, { force: true });
    await rm(this.final, { force: true });
  }
}

/** STORAGE_DRIVER=local: objects are files under STORAGE_DIR (a shared volume when api and workers are apart). */
export class LocalFileStorage implements FileStorage {
  readonly configured = true;

  constructor(private readonly root: string) {}

  async init(): Promise<void> {
    await mkdir(this.spoolDir(), { recursive: true });
  }

  spoolDir(): string {
    return join(this.root, '.spool');
  }

  private path(key: string): string {
    const full = resolve(this.root, key);
    if (!full.startsWith(this.root + sep)) throw new Error(`storage key escapes the storage directory: ${key}`);
    return full;
  }

  /**
   * The spool directory is recreated if it was lost, but never the storage root: a vanished volume
   * must show as unavailable (503, /ready down), not be papered over with an empty directory.
   */
  async prepareSpool(): Promise<void> {
    const root = await stat(this.root);
    if (!root.isDirectory()) throw Object.assign(new Error(`${this.root} is not a directory`), { code: 'ENOTDIR' });
    await mkdir(this.spoolDir()).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'EEXIST') throw e;
    });
  }

  async exists(key: string): Promise<boolean> {
    return stat(this.path(key)).then(
      () => true,
      (e: NodeJS.ErrnoException) => {
        if (e.code === 'ENOENT') return false;
        throw e;
      },
    );
  }

  async createWriter(key: string): Promise<StorageWriter> {
    const final = this.path(key);
    await mkdir(dirname(final), { recursive: true });
    const writer = new LocalWriter(`${final}${PARTIAL}`, final);
    return writer;
  }

  openRead(key: string, start?: number): Readable {
    return createReadStream(this.path(key), { start, highWaterMark: 256 * 1024 });
  }

  /** The object, and what a writer killed mid-way left beside it. */
  async delete(key: string): Promise<void> {
    const path = this.path(key);
    await rm(path, { force: true });
    await rm(`${path}${PARTIAL}`, { force: true });
  }

  async check(): Promise<void> {
    await this.prepareSpool();
    await access(this.root, constants.W_OK);
    const probe = join(this.spoolDir(), `.ready-${process.pid}`);
    await writeFile(probe, '');
    await rm(probe, { force: true });
  }

  /** Deletes spooled request bodies older than `maxAgeMs`: leftovers of a crash mid-upload. */
  sweepSpool(maxAgeMs: number): Promise<number> {
    return sweepOldFiles(this.spoolDir(), maxAgeMs);
  }

  /** The files directly in the prefix's directory (a prefix is a directory here), sorted by key. */
  async list(prefix: string): Promise<StoredObject[]> {
    const dir = this.path(prefix);
    const names = await readdir(dir).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return [] as string[];
      throw e;
    });
    const found: StoredObject[] = [];
    for (const name of names.filter((n) => !n.endsWith(PARTIAL)).sort()) {
      const info = await stat(join(dir, name)).catch(() => undefined);
      if (info?.isFile()) found.push({ key: `${prefix}${name}`, sizeBytes: info.size });
    }
    return found;
  }

  async deletePrefix(prefix: string): Promise<number> {
    const dir = this.path(prefix);
    const names = await readdir(dir).catch(() => [] as string[]);
    await rm(dir, { recursive: true, force: true });
    return names.length;
  }

  /**
   * Written to a file of its own beside the key and renamed over it only once exactly the expected
   * bytes arrived (and are on disk): two PUTs of one part never mix, and a short one leaves nothing.
   */
  async putStream(key: string, body: Readable, expectedBytes: number): Promise<{ etag: string }> {
    const final = this.path(key);
    await mkdir(dirname(final), { recursive: true });
    const partial = `${final}.${randomBytes(6).toString('hex')}${PARTIAL}`;
    const counter = sizeChecked(expectedBytes);
    const out = createWriteStream(partial, { flags: 'wx' });
    // Opened before a byte is taken: a stream destroyed while its open is under way creates the file after the cleanup.
    await once(out, 'open');
    try {
      // Piped rather than put in the pipeline: a refused body is left unread for the caller to answer
      // (a pipeline would destroy it, and a request's socket with it, before any answer could go out).
      body.once('error', (e) => counter.stream.destroy(e));
      body.pipe(counter.stream);
      await pipeline(counter.stream, out);
      counter.assertComplete();
      const handle = await open(partial, 'r+');
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(partial, final);
      return { etag: counter.etag() };
    } catch (e) {
      // Not events.once: it rejects on the 'error' the destroyed stream emits first, skipping the rm.
      if (!out.closed) await new Promise<void>((resolve) => out.once('close', () => resolve()).destroy());
      await rm(partial, { force: true });
      throw e;
    }
  }
}

/** STORAGE_DRIVER=none: file uploads are refused with 503; the direct `items` path still works. */
export class NoFileStorage implements FileStorage {
  readonly configured = false;
  sweepSpool(): Promise<number> {
    return Promise.resolve(0);
  }
  spoolDir(): string {
    throw new Error('file storage is not configured');
  }
  prepareSpool(): Promise<void> {
    return Promise.reject(new Error('file storage is not configured'));
  }
  exists(): Promise<boolean> {
    return Promise.resolve(false);
  }
  createWriter(): Promise<StorageWriter> {
    return Promise.reject(new Error('file storage is not configured'));
  }
  openRead(): Readable {
    throw new Error('file storage is not configured');
  }
  delete(): Promise<void> {
    return Promise.resolve();
  }
  check(): Promise<void> {
    return Promise.resolve();
  }
  list(): Promise<StoredObject[]> {
    return Promise.resolve([]);
  }
  deletePrefix(): Promise<number> {
    return Promise.resolve(0);
  }
  putStream(): Promise<{ etag: string }> {
    return Promise.reject(new Error('file storage is not configured'));
  }
}
