import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { mkdir } from 'node:fs/promises';
import { PassThrough, type Readable, pipeline } from 'node:stream';
import type { S3Config } from '../config/app-config';
import { BufferedWriter } from './buffered-writer';
import { type FileStorage, PutSizeError, type StorageWriter, type StoredObject } from './file-storage';
import { sizeChecked } from './size-checked';
import { sweepOldFiles } from './spool';

/** Objects deleted at once when a prefix is emptied (one DeleteObject each: every S3-compatible store has it). */
const DELETE_CONCURRENCY = 8;

/** Multipart parts of this size (lib-storage's minimum is 5 MiB); at most QUEUE_SIZE of them in memory. */
const PART_BYTES = 8 * 1024 * 1024;
const QUEUE_SIZE = 2;

/**
 * What the service makes of the SDK's errors: a missing object is ENOENT (as on a disk); anything
 * else (the store unreachable, a missing bucket, a 5xx, a refused credential) is a storage fault,
 * EIO, which the api answers with 503 FILE_STORAGE_UNAVAILABLE.
 */
export function storageError(e: unknown, key: string): Error {
  const err = e as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const notFound = err?.name === 'NoSuchKey' || err?.name === 'NotFound' || err?.$metadata?.httpStatusCode === 404;
  if (notFound && err?.name !== 'NoSuchBucket') {
    return Object.assign(new Error(`object ${key} not found`), { code: 'ENOENT' });
  }
  return Object.assign(new Error(`S3 ${err?.name ?? 'error'}: ${err?.message ?? String(e)}`), {
    code: 'EIO',
    cause: e,
  });
}

/** A streamed write: the bytes go through a PassThrough into lib-storage's Upload (one PUT, or multipart). */
class S3Writer extends BufferedWriter {
  protected stream!: PassThrough;
  private upload!: Upload;
  private done!: Promise<unknown>;

  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    private readonly key: string,
  ) {
    super();
    this.start();
  }

  private start(): void {
    this.failure = undefined;
    const body = new PassThrough({ highWaterMark: 1024 * 1024 });
    this.stream = body;
    this.upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key: this.key, Body: body, ContentType: 'application/x-ndjson' },
      partSize: PART_BYTES,
      queueSize: QUEUE_SIZE,
      leavePartsOnError: false,
    });
    this.done = this.upload.done();
    // A failed upload stops reading the PassThrough: fail it too, so a writer waiting for 'drain' wakes.
    this.done.catch((e: unknown) => {
      if (this.stream !== body) return;
      this.failure ??= storageError(e, this.key);
      body.destroy(this.failure);
    });
  }

  private async stop(): Promise<void> {
    const { upload, done, stream } = this;
    stream.destroy();
    await upload.abort().catch(() => undefined);
    await done.catch(() => undefined);
  }

  async reset(): Promise<void> {
    this.discardBuffered();
    await this.stop();
    this.start();
  }

  async commit(): Promise<void> {
    await this.flush();
    this.stream.end();
    try {
      await this.done;
    } catch (e) {
      throw this.failure ?? storageError(e, this.key);
    }
  }

  async abort(): Promise<void> {
    await this.stop();
    // Committed already, or a single PUT that landed before the abort: remove it.
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.key })).catch(() => undefined);
  }
}

/**
 * STORAGE_DRIVER=s3: every object is `S3_PREFIX` + the service's key in `S3_BUCKET`, on AWS or any
 * S3-compatible store. Writes are streamed (lib-storage), reads are streamed GETs (ranged from an
 * offset). The spool of a request in transit stays on this process's local disk.
 */
export class S3FileStorage implements FileStorage {
  readonly configured = true;
  readonly client: S3Client;

  constructor(
    private readonly config: S3Config,
    private readonly spool: string,
  ) {
    const options: S3ClientConfig = {
      region: config.region,
      forcePathStyle: config.forcePathStyle,
      ...(config.endpoint && { endpoint: config.endpoint }),
      // STACK.md: the SDK's default checksums make streamed bodies chunk-encoded (stored as framing by
      // some stores) and bake an empty-body checksum into presigned URLs. Only when an operation needs one.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      maxAttempts: 2,
      // Fail fast like the api's Redis: an unreachable store is a 503 now, not a hung request.
      requestHandler: { connectionTimeout: 2000, requestTimeout: 30_000 },
    };
    this.client = new S3Client(options);
    // Presigned URLs name the endpoint clients reach (S3_PUBLIC_ENDPOINT); signing needs no connection.
    this.signer =
      config.publicEndpoint && config.publicEndpoint !== config.endpoint
        ? new S3Client({ ...options, endpoint: config.publicEndpoint })
        : this.client;
  }

  private readonly signer: S3Client;

  /** The object key in the bucket: nothing outside the prefix is ever read, written or deleted. */
  objectKey(key: string): string {
    return `${this.config.prefix}${key}`;
  }

  async init(): Promise<void> {
    await mkdir(this.spool, { recursive: true });
  }

  spoolDir(): string {
    return this.spool;
  }

  async prepareSpool(): Promise<void> {
    await mkdir(this.spool, { recursive: true });
  }

  async exists(key: string): Promise<boolean> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.config.bucket, Key: this.objectKey(key) }));
      return true;
    } catch (e) {
      const err = storageError(e, key) as Error & { code: string };
      if (err.code === 'ENOENT') return false;
      throw err;
    }
  }

  createWriter(key: string): Promise<StorageWriter> {
    return Promise.resolve(new S3Writer(this.client, this.config.bucket, this.objectKey(key)));
  }

  openRead(key: string, start?: number): Readable {
    const out = new PassThrough({ highWaterMark: 256 * 1024 });
    const abort = new AbortController();
    out.once('close', () => abort.abort());
    this.client
      .send(
        new GetObjectCommand({
          Bucket: this.config.bucket,
          Key: this.objectKey(key),
          ...(start !== undefined && start > 0 && { Range: `bytes=${start}-` }),
        }),
        { abortSignal: abort.signal },
      )
      .then(
        (res) => {
          pipeline(res.Body as Readable, out, (e) => {
            if (e && !out.destroyed) out.destroy(storageError(e, key));
          });
        },
        (e: unknown) => out.destroy(storageError(e, key)),
      );
    return out;
  }

  async delete(key: string): Promise<void> {
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.config.bucket, Key: this.objectKey(key) }));
    } catch (e) {
      throw storageError(e, key);
    }
  }

  /** Readiness: the bucket takes a write (a small object under the prefix, deleted again). */
  async check(): Promise<void> {
    const key = this.objectKey(`.ready/${process.pid}`);
    try {
      await this.client.send(new PutObjectCommand({ Bucket: this.config.bucket, Key: key, Body: 'ok' }));
      await this.client.send(new DeleteObjectCommand({ Bucket: this.config.bucket, Key: key }));
    } catch (e) {
      throw storageError(e, key);
    }
  }

  sweepSpool(maxAgeMs: number): Promise<number> {
    return sweepOldFiles(this.spool, maxAgeMs);
  }

  async list(prefix: string): Promise<StoredObject[]> {
    const found: StoredObject[] = [];
    let token: string | undefined;
    do {
      let page: ListObjectsV2CommandOutput;
      try {
        page = await this.client.send(
          new ListObjectsV2Command({
            Bucket: this.config.bucket,
            Prefix: this.objectKey(prefix),
            ContinuationToken: token,
          }),
        );
      } catch (e) {
        throw storageError(e, prefix);
      }
      for (const o of page.Contents ?? []) {
        if (o.Key) found.push({ key: o.Key.slice(this.config.prefix.length), sizeBytes: o.Size ?? 0 });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return found.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async deletePrefix(prefix: string): Promise<number> {
    const keys = (await this.list(prefix)).map((o) => o.key);
    for (let i = 0; i < keys.length; i += DELETE_CONCURRENCY) {
      await Promise.all(keys.slice(i, i + DELETE_CONCURRENCY).map((k) => this.delete(k)));
    }
    return keys.length;
  }

  /** Streamed to the store (lib-storage); an object of the wrong size is deleted again before the promise settles. */
  async putStream(key: string, body: Readable, expectedBytes: number): Promise<{ etag: string }> {
    const counter = sizeChecked(expectedBytes);
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.config.bucket, Key: this.objectKey(key), Body: body.pipe(counter.stream) },
      partSize: PART_BYTES,
      queueSize: QUEUE_SIZE,
      leavePartsOnError: false,
    });
    body.once('error', (e) => counter.stream.destroy(e));
    try {
      await upload.done();
      counter.assertComplete();
      return { etag: counter.etag() };
    } catch (e) {
      await this.delete(key).catch(() => undefined);
      if (e instanceof PutSizeError || counter.seen() > expectedBytes)
        throw new PutSizeError(expectedBytes, counter.seen());
      throw storageError(e, key);
    }
  }

  /** A presigned PUT with the Content-Length signed: the store itself refuses a body of another size. */
  signedPutUrl(key: string, sizeBytes: number, expiresInSeconds: number): Promise<string> {
    return getSignedUrl(
      this.signer,
      new PutObjectCommand({ Bucket: this.config.bucket, Key: this.objectKey(key), ContentLength: sizeBytes }),
      { expiresIn: expiresInSeconds },
    );
  }

  /**
   * Start-up: a small streamed write must read back byte for byte (STACK.md's checksum trap: a store
   * that keeps the chunk framing answers 200 and stores the wrong bytes). True when it does, false on
   * a mismatch; throws when the store cannot be reached (the caller starts anyway, /ready says why).
   */
  async streamedWriteReadsBack(): Promise<boolean> {
    const key = `.probe/${process.pid}-${Date.now()}.ndjson`;
    const expected = `{"probe":"batchgate","at":"${new Date().toISOString()}"}\n`.repeat(3);
    const writer = await this.createWriter(key);
    try {
      await writer.write(expected);
      await writer.commit();
      const chunks: Buffer[] = [];
      for await (const chunk of this.openRead(key) as AsyncIterable<Buffer>) chunks.push(chunk);
      return Buffer.concat(chunks).toString('utf8') === expected;
    } finally {
      await this.delete(key).catch(() => undefined);
    }
  }
}
