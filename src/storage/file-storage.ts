import type { Readable } from 'node:stream';

export const FILE_STORAGE = Symbol('FILE_STORAGE');

/** Buffered text writer to one storage object. A promise from `write` means: wait (backpressure). */
export interface StorageWriter {
  write(text: string): void | Promise<void>;
  /**
   * UTF-8 bytes, copied before the call returns (the caller may reuse `bytes` at once); a promise
   * means "wait before sending more", as for write.
   */
  writeBytes(bytes: Uint8Array): void | Promise<void>;
  /** Throws away what was written so far. */
  reset(): Promise<void>;
  /** Makes the object durable and visible under its key. */
  commit(): Promise<void>;
  /** Removes every trace of the object. Safe to call after commit or twice. */
  abort(): Promise<void>;
}

export interface FileStorage {
  /** False for STORAGE_DRIVER=none: uploads answer 503, direct items still work. */
  readonly configured: boolean;
  /** A local directory for request bodies in transit. */
  spoolDir(): string;
  /** Makes sure the spool directory exists (it is recreated if lost), or throws when storage is gone. */
  prepareSpool(): Promise<void>;
  exists(key: string): Promise<boolean>;
  createWriter(key: string): Promise<StorageWriter>;
  /** The object's bytes; the stream errors with code ENOENT when it does not exist. */
  openRead(key: string, start?: number): Readable;
  delete(key: string): Promise<void>;
  /** Deletes spool files older than `maxAgeMs` (left by a crash mid-request); how many went. */
  sweepSpool(maxAgeMs: number): Promise<number>;
  /** Throws when storage cannot be used (readiness): it must exist and take a write. */
  check(): Promise<void>;
  /** The objects whose keys start with `prefix` (a folder-like prefix ending in '/'), with their sizes. */
  list(prefix: string): Promise<StoredObject[]>;
  /** Deletes every object under `prefix` (ending in '/'); how many went. */
  deletePrefix(prefix: string): Promise<number>;
  /**
   * Stores a byte stream under `key`, replacing any object there, only when exactly `expectedBytes`
   * arrived: fewer or more and nothing is kept (the promise rejects with a PutSizeError).
   */
  putStream(key: string, body: Readable, expectedBytes: number): Promise<{ etag: string }>;
  /**
   * A URL the client can PUT exactly `sizeBytes` bytes to for `key`, valid `expiresInSeconds`; only
   * stores that sign their own URLs (S3). Undefined when the driver has none (local: batchgate signs).
   */
  signedPutUrl?(key: string, sizeBytes: number, expiresInSeconds: number): Promise<string>;
}

export interface StoredObject {
  key: string;
  sizeBytes: number;
}

/** putStream got another number of bytes than it was told to expect; nothing was kept. */
export class PutSizeError extends Error {
  constructor(
    readonly expected: number,
    readonly actual: number,
  ) {
    super(`expected ${expected} bytes, got ${actual}`);
    this.name = 'PutSizeError';
  }
}
