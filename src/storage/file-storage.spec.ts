import { DeleteObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { Readable } from 'node:stream';
import { isInfrastructureError } from '../errors/infrastructure';
import type { FileStorage } from './file-storage';
import { LocalFileStorage } from './local-file-storage';
import { S3FileStorage } from './s3-file-storage';

/**
 * What the storage interface promises, run against every driver: the local directory, s3rver
 * (started by test/global-setup.js), and, when BATCHGATE_S3_CONTRACT_BUCKET is set, a real S3
 * endpoint from the environment (S3_ENDPOINT, S3_REGION, S3_FORCE_PATH_STYLE and the SDK's
 * credential chain) for what s3rver does not check. No client is mocked.
 */
interface Driver {
  name: string;
  make(): Promise<{ storage: FileStorage; done(): Promise<void>; listed?(): Promise<string[]> }>;
}

async function read(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks).toString('utf8');
}

function s3Driver(
  name: string,
  env: { bucket: string; endpoint?: string; region?: string; pathStyle: boolean },
): Driver {
  return {
    name,
    async make() {
      const spool = await mkdtemp(join(tmpdir(), 'batchgate-spool-'));
      const prefix = `spec-${randomBytes(4).toString('hex')}/`;
      const config = {
        bucket: env.bucket,
        prefix,
        region: env.region ?? 'us-east-1',
        endpoint: env.endpoint,
        forcePathStyle: env.pathStyle,
      };
      const storage = new S3FileStorage(config, spool);
      await storage.init();
      const listAll = async () => {
        const out = await storage.client.send(new ListObjectsV2Command({ Bucket: env.bucket, Prefix: prefix }));
        return (out.Contents ?? []).map((o) => o.Key!);
      };
      return {
        storage,
        listed: listAll,
        async done() {
          for (const key of await listAll())
            await storage.client.send(new DeleteObjectCommand({ Bucket: env.bucket, Key: key }));
          storage.client.destroy();
          await rm(spool, { recursive: true, force: true });
        },
      };
    },
  };
}

const drivers: Driver[] = [
  {
    name: 'local',
    async make() {
      const dir = await mkdtemp(join(tmpdir(), 'batchgate-storage-'));
      const storage = new LocalFileStorage(dir);
      await storage.init();
      // Every file on disk, partial ones included (the spool aside).
      const listed = async () =>
        (await readdir(dir, { recursive: true, withFileTypes: true }))
          .filter((e) => e.isFile() && !join(e.parentPath, e.name).includes('/.spool'))
          .map((e) => relative(dir, join(e.parentPath, e.name)));
      return { storage, done: () => rm(dir, { recursive: true, force: true }), listed };
    },
  },
  s3Driver('s3 (s3rver)', {
    bucket: process.env.BATCHGATE_TEST_S3_BUCKET ?? 'batchgate-test',
    endpoint: process.env.BATCHGATE_TEST_S3_ENDPOINT,
    pathStyle: true,
  }),
];
if (process.env.BATCHGATE_S3_CONTRACT_BUCKET) {
  drivers.push(
    s3Driver('s3 (real endpoint from the environment)', {
      bucket: process.env.BATCHGATE_S3_CONTRACT_BUCKET,
      endpoint: process.env.S3_ENDPOINT || undefined,
      region: process.env.S3_REGION || undefined,
      pathStyle: process.env.S3_FORCE_PATH_STYLE === 'true',
    }),
  );
}

describe.each(drivers)('FileStorage: $name', (driver) => {
  let storage: FileStorage;
  let done: () => Promise<void>;
  let listed: (() => Promise<string[]>) | undefined;
  beforeAll(async () => {
    ({ storage, done, listed } = await driver.make());
  });
  afterAll(() => done());

  it('writes in small and large pieces, commits, and reads back byte for byte', async () => {
    const writer = await storage.createWriter('org-a/f_1.items.ndjson');
    let expected = '';
    for (let i = 0; i < 20_000; i++) {
      const line = `{"row":${i},"item":{"content":"é ${'x'.repeat(i % 300)}"}}\n`;
      expected += line;
      const wait = writer.write(line);
      if (wait) await wait;
    }
    const big = 'y'.repeat(200_000) + '\n'; // bigger than the writer's buffer
    expected += big;
    await writer.write(big);
    await writer.commit();
    expect(await storage.exists('org-a/f_1.items.ndjson')).toBe(true);
    expect(await read(storage.openRead('org-a/f_1.items.ndjson'))).toBe(expected);
  });

  it('keeps every byte of bytes and texts written in turn (buffers the stream wrote are filled again)', async () => {
    const writer = await storage.createWriter('org-a/mixed.ndjson');
    const expected = createHash('sha256');
    let total = 0;
    for (let i = 0; total < 6 * 1024 * 1024; i++) {
      // Random bytes (any stale byte of a reused buffer would show) in sizes from 1 byte to 300 KB.
      const bytes = randomBytes([1, 777, 64 * 1024, 65 * 1024, 300 * 1024][i % 5]);
      const text = `${i} ${'t'.repeat(i % 97)}\n`;
      expected.update(bytes).update(text);
      total += bytes.length + text.length;
      const a = writer.writeBytes(bytes);
      if (a) await a;
      const b = writer.write(text);
      if (b) await b;
    }
    await writer.commit();
    const got = createHash('sha256');
    let length = 0;
    for await (const c of storage.openRead('org-a/mixed.ndjson') as AsyncIterable<Buffer>) {
      got.update(c);
      length += c.length;
    }
    expect(length).toBe(total);
    expect(got.digest('hex')).toBe(expected.digest('hex'));
  });

  it('streams an object over one multipart part (9 MiB) with bounded waits', async () => {
    const writer = await storage.createWriter('org-a/big.ndjson');
    const line = `${'z'.repeat(1023)}\n`;
    for (let i = 0; i < 9 * 1024; i++) {
      const wait = writer.write(line);
      if (wait) await wait;
    }
    await writer.commit();
    const back = await read(storage.openRead('org-a/big.ndjson'));
    expect(back.length).toBe(9 * 1024 * 1024);
    expect(back === line.repeat(9 * 1024)).toBe(true);
  });

  it('reads from an offset', async () => {
    const writer = await storage.createWriter('org-a/offset.txt');
    await writer.write('0123456789');
    await writer.commit();
    expect(await read(storage.openRead('org-a/offset.txt', 4))).toBe('456789');
  });

  it('forgets what was written before a reset', async () => {
    const writer = await storage.createWriter('org-a/reset.txt');
    await writer.write('first try\n');
    await writer.reset();
    await writer.write('second try\n');
    await writer.commit();
    expect(await read(storage.openRead('org-a/reset.txt'))).toBe('second try\n');
  });

  it('leaves nothing behind when aborted, before or after commit', async () => {
    const before = await storage.createWriter('org-a/aborted.txt');
    await before.write('never kept');
    await before.abort();
    expect(await storage.exists('org-a/aborted.txt')).toBe(false);
    const after = await storage.createWriter('org-a/aborted2.txt');
    await after.write('kept, then removed');
    await after.commit();
    await after.abort();
    expect(await storage.exists('org-a/aborted2.txt')).toBe(false);
  });

  it('answers ENOENT for a missing object, and deletes twice without complaint', async () => {
    await expect(read(storage.openRead('org-a/nope.txt'))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await storage.exists('org-a/nope.txt')).toBe(false);
    await storage.delete('org-a/nope.txt');
    const writer = await storage.createWriter('org-a/del.txt');
    await writer.write('x');
    await writer.commit();
    await storage.delete('org-a/del.txt');
    await storage.delete('org-a/del.txt');
    expect(await storage.exists('org-a/del.txt')).toBe(false);
  });

  it('puts a stream of exactly the expected size, replacing what was there; any other size keeps nothing', async () => {
    const prefix = `parts-${randomBytes(4).toString('hex')}/`;
    const key = `${prefix}part-00001`;
    const ten = Buffer.from('0123456789');
    const { etag } = await storage.putStream(key, Readable.from([ten]), 10);
    expect(etag).toBe(`"${createHash('md5').update(ten).digest('hex')}"`);
    await storage.putStream(key, Readable.from([Buffer.from('abcdefghij')]), 10);
    expect(await read(storage.openRead(key))).toBe('abcdefghij');
    await expect(
      storage.putStream(`${prefix}part-00002`, Readable.from([ten, Buffer.from('more')]), 10),
    ).rejects.toMatchObject({
      name: 'PutSizeError',
      expected: 10,
    });
    await expect(
      storage.putStream(`${prefix}part-00003`, Readable.from([ten.subarray(0, 4)]), 10),
    ).rejects.toMatchObject({
      name: 'PutSizeError',
      actual: 4,
    });
    expect(await storage.list(prefix)).toEqual([{ key, sizeBytes: 10 }]);
    if (listed) expect((await listed()).filter((k) => k.includes(prefix))).toHaveLength(1);
    expect(await storage.deletePrefix(prefix)).toBe(1);
    expect(await storage.list(prefix)).toEqual([]);
    if (listed) expect((await listed()).filter((k) => k.includes(prefix))).toEqual([]);
  });

  it('is ready, and sweeps only old spool files', async () => {
    await storage.check();
    await storage.prepareSpool();
    expect(await storage.sweepSpool(60_000)).toBe(0);
  });

  if (driver.name.startsWith('s3')) {
    it('keeps every object under its prefix', async () => {
      const keys = await listed!();
      expect(keys.length).toBeGreaterThan(0);
      const prefix = (storage as S3FileStorage).objectKey('');
      for (const key of keys) expect(key.startsWith(prefix)).toBe(true);
    });

    it('reads a small streamed write back byte for byte (the checksum trap)', async () => {
      expect(await (storage as S3FileStorage).streamedWriteReadsBack()).toBe(true);
    });
  }
});

describe('S3FileStorage with the store unreachable', () => {
  const down = new S3FileStorage(
    {
      bucket: 'batchgate-test',
      prefix: 'down/',
      region: 'us-east-1',
      endpoint: 'http://127.0.0.1:9',
      forcePathStyle: true,
    },
    join(tmpdir(), `batchgate-spool-down-${process.pid}`),
  );
  afterAll(() => down.client.destroy());

  it('fails every operation as a storage fault (503), never a hang', async () => {
    const writer = await down.createWriter('o/x.txt');
    await writer.write('hello');
    const failures = await Promise.allSettled([
      writer.commit(),
      down.exists('o/x.txt'),
      read(down.openRead('o/x.txt')),
      down.check(),
      down.delete('o/x.txt'),
    ]);
    for (const f of failures) {
      expect(f.status).toBe('rejected');
      expect(isInfrastructureError((f as PromiseRejectedResult).reason)).toBe(true);
    }
    await writer.abort();
  });

  it('fails as a storage fault when the bucket does not exist', async () => {
    const noBucket = new S3FileStorage(
      {
        bucket: 'no-such-bucket-here',
        prefix: '',
        region: 'us-east-1',
        endpoint: process.env.BATCHGATE_TEST_S3_ENDPOINT,
        forcePathStyle: true,
      },
      join(tmpdir(), `batchgate-spool-nob-${process.pid}`),
    );
    try {
      await expect(noBucket.check()).rejects.toMatchObject({ code: 'EIO' });
      const writer = await noBucket.createWriter('x.txt');
      await writer.write('x');
      await expect(writer.commit()).rejects.toMatchObject({ code: 'EIO' });
      await expect(read(noBucket.openRead('x.txt'))).rejects.toMatchObject({ code: 'EIO' });
    } finally {
      noBucket.client.destroy();
    }
  });
});
