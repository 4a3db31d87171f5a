import { EventEmitter } from 'node:events';
import { type FileHandle, open } from 'node:fs/promises';
import { Readable, Writable } from 'node:stream';

/** The size of each read of a spool file, finished or being written (ingest's reads of a spooled part). */
export const SPOOL_READ_BYTES = 256 * 1024;

/** The spool file's part failed or was dropped (over the plan's limit): its bytes are not the file's. */
export class SpoolAbandoned extends Error {}

/**
 * A part's spool file while it is written: bytes written so far, and whether the part ended. Its
 * `follow()` streams read the file from the start as it grows, so that ingest can read a part
 * while the rest of it is still arriving (UploadSpeculation), and read it again from the start
 * (the windows-1252 restart). Nothing is held in memory beyond one read.
 */
export class SpoolFile extends EventEmitter {
  written = 0;
  /** The part's size and sha256, once it is all written. */
  digest?: { sizeBytes: number; sha256: string };
  private state: 'writing' | 'done' | 'failed' = 'writing';
  private failure?: Error;

  constructor(readonly path: string) {
    super();
    this.setMaxListeners(0);
  }

  /** The part's bytes are all written. */
  finish(digest: { sizeBytes: number; sha256: string }): void {
    if (this.state !== 'writing') return;
    this.digest = digest;
    this.state = 'done';
    this.emit('change');
  }

  /** The part failed, or its bytes are dropped: readers following it fail with SpoolAbandoned. */
  fail(why: string): void {
    if (this.state !== 'writing') return;
    this.state = 'failed';
    this.failure = new SpoolAbandoned(why);
    this.emit('change');
  }

  /** The writable end: each chunk is on disk (counted in `written`) before the next is taken. */
  writable(): Writable {
    return new SpoolWriter(this);
  }

  /** The file from its start, waiting for bytes not yet written; ends with the part, fails if it does. */
  follow(): Readable {
    return new SpoolFollower(this);
  }

  /** Where the part is: 'failed' with the reason. */
  get progress(): { state: 'writing' | 'done' } | { state: 'failed'; failure: Error } {
    return this.state === 'failed' ? { state: 'failed', failure: this.failure! } : { state: this.state };
  }
}

class SpoolWriter extends Writable {
  private fh?: FileHandle;

  constructor(private readonly spool: SpoolFile) {
    super({ highWaterMark: 64 * 1024 });
  }

  override _construct(cb: (error?: Error | null) => void): void {
    open(this.spool.path, 'w').then((h) => {
      this.fh = h;
      cb();
    }, cb);
  }

  override _writev(chunks: { chunk: Buffer }[], cb: (error?: Error | null) => void): void {
    void (async () => {
      let bufs = chunks.map((c) => c.chunk);
      let left = bufs.reduce((n, b) => n + b.length, 0);
      while (left > 0) {
        const { bytesWritten } = await this.fh!.writev(bufs);
        this.spool.written += bytesWritten;
        left -= bytesWritten;
        if (left > 0) bufs = rest(bufs, bytesWritten);
      }
      this.spool.emit('change');
    })().then(() => cb(), cb);
  }

  override _final(cb: (error?: Error | null) => void): void {
    const fh = this.fh!;
    this.fh = undefined;
    fh.close().then(() => cb(), cb);
  }

  override _destroy(err: Error | null, cb: (error?: Error | null) => void): void {
    const fh = this.fh;
    this.fh = undefined;
    if (!fh) return cb(err);
    fh.close().then(
      () => cb(err),
      () => cb(err),
    );
  }
}

class SpoolFollower extends Readable {
  private fh?: FileHandle;
  private pos = 0;

  constructor(private readonly spool: SpoolFile) {
    super({ highWaterMark: SPOOL_READ_BYTES });
  }

  override _construct(cb: (error?: Error | null) => void): void {
    open(this.spool.path, 'r').then((h) => {
      this.fh = h;
      cb();
    }, cb);
  }

  override _read(): void {
    if (this.destroyed) return;
    const progress = this.spool.progress;
    if (progress.state === 'failed') return void this.destroy(progress.failure);
    const ready = this.spool.written - this.pos;
    // Whole reads of SPOOL_READ_BYTES, the last one shorter: the chunks a read of the finished
    // file gives, so that nothing downstream depends on how fast the part arrived.
    if (ready >= SPOOL_READ_BYTES || (progress.state === 'done' && ready > 0)) {
      const want = Math.min(SPOOL_READ_BYTES, ready);
      this.fh!.read(Buffer.allocUnsafe(want), 0, want, this.pos).then(
        ({ bytesRead, buffer }) => {
          this.pos += bytesRead;
          this.push(bytesRead === buffer.length ? buffer : buffer.subarray(0, bytesRead));
        },
        (e: Error) => this.destroy(e),
      );
    } else if (progress.state === 'done') this.push(null);
    else this.spool.once('change', () => this._read());
  }

  override _destroy(err: Error | null, cb: (error?: Error | null) => void): void {
    const fh = this.fh;
    this.fh = undefined;
    if (!fh) return cb(err);
    fh.close().then(
      () => cb(err),
      () => cb(err),
    );
  }
}

/** `bufs` without its first `n` bytes. */
function rest(bufs: Buffer[], n: number): Buffer[] {
  const out: Buffer[] = [];
  for (const b of bufs) {
    if (n >= b.length) n -= b.length;
    else {
      out.push(n ? b.subarray(n) : b);
      n = 0;
    }
  }
  return out;
}
