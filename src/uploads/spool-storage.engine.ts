import type { Request } from 'express';
import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, pipeline } from 'node:stream';
import type { StorageEngine } from 'multer';
import { BODY_IDLE } from '../http/body-idle-timeout';
import { payloadTooLarge } from '../errors/errors';

/** The uploaded file as it waits on disk: counted, hashed, never held in memory. */
export interface SpooledFile {
  path: string;
  size: number;
  sha256: string;
  originalname: string;
  mimetype: string;
  /** The part's position among the request's file parts, in arrival order (0-based). */
  index: number;
  /** The part passed the plan's per-file limit: its bytes were read and dropped, nothing is spooled. */
  tooLarge?: boolean;
}

export const CLIENT_ABORTED = 'client_aborted';

/**
 * A multer storage engine that streams each file part to a spool file, counting and hashing as it
 * goes. A part past the plan's per-file limit is read on and dropped (API.md: it is answered in
 * `errors` with 413 while the next part is still read); past the whole request's limit
 * (`maxFileBytes` × `maxFilesPerRequest`) the engine stops at once and tells `onFailure` (multer
 * itself would drain the whole body before reporting).
 *
 * Spooling, then parsing from the spool, lets the `schema`/`format`/`encoding` fields come after the
 * file part in any order, and lets a file that turns out not to be UTF-8 be read again as windows-1252.
 */
export class SpoolStorageEngine implements StorageEngine {
  private readonly inFlight = new Set<Promise<void>>();
  /** Whether a `file` part arrived: tells "no file field" from "a stray extra file part". */
  sawFile = false;

  /** Bytes of every file part so far. */
  private total = 0;
  /** File parts seen so far. */
  private parts = 0;

  constructor(
    private readonly dir: string,
    private readonly maxBytes: number,
    private readonly maxTotalBytes: number,
    private readonly onFailure: (error: Error) => void,
  ) {}

  _handleFile(
    req: Request,
    file: Express.Multer.File,
    cb: (error?: unknown, info?: Partial<SpooledFile>) => void,
  ): void {
    this.sawFile = true;
    const index = this.parts++;
    const path = join(this.dir, randomUUID());
    const hash = createHash('sha256');
    let size = 0;
    let tooLarge = false;
    const max = this.maxBytes;
    const overTotal = (n: number) => (this.total += n) > this.maxTotalBytes;
    const meter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        size += chunk.length;
        if (overTotal(chunk.length)) {
          done(payloadTooLarge(max));
          return;
        }
        if (size > max) tooLarge = true;
        if (tooLarge) {
          done(); // read on, keep nothing
          return;
        }
        hash.update(chunk);
        done(null, chunk);
      },
    });
    // busboy does not always notice a client that goes away mid-part; the request does.
    const onClose = () => {
      if (!req.complete)
        meter.destroy(
          Object.assign(new Error('The client closed the connection mid-upload'), { code: CLIENT_ABORTED }),
        );
    };
    req.once('close', onClose);
    // BODY_IDLE_TIMEOUT_SECONDS passed with no byte: fail the part, so the spool file is removed.
    const onIdle = (error: Error) => meter.destroy(error);
    req.once(BODY_IDLE, onIdle);
    let done!: () => void;
    const finished = new Promise<void>((resolve) => (done = resolve));
    this.inFlight.add(finished);
    void finished.then(() => this.inFlight.delete(finished));
    pipeline(file.stream, meter, createWriteStream(path), (err) => {
      req.off('close', onClose);
      req.off(BODY_IDLE, onIdle);
      if (err) {
        // Removed before anyone is told, so no answer can be seen while the partial file still exists.
        void rm(path, { force: true }).finally(() => {
          done();
          this.onFailure(err);
          cb(err);
        });
        return;
      }
      if (tooLarge) {
        void rm(path, { force: true }).finally(() => {
          done();
          cb(null, { path: '', size, sha256: '', tooLarge: true, index });
        });
        return;
      }
      done();
      cb(null, { path, size, sha256: hash.digest('hex'), index });
    });
  }

  /**
   * Resolves when no file part is being written or cleaned up (a failed request leaves nothing
   * behind), or after `maxMs` at the latest: an answer is never held hostage by a stuck stream.
   */
  async idle(maxMs = 2000): Promise<void> {
    const deadline = Date.now() + maxMs;
    while (this.inFlight.size && Date.now() < deadline) {
      await Promise.race([Promise.all([...this.inFlight]), new Promise((r) => setTimeout(r, deadline - Date.now()))]);
    }
  }

  _removeFile(_req: Request, file: Express.Multer.File, cb: (error: Error | null) => void): void {
    if (!file.path) return cb(null);
    rm(file.path, { force: true }).then(
      () => cb(null),
      (e: Error) => cb(e),
    );
  }
}
