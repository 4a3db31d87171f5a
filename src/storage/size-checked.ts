import { createHash } from 'node:crypto';
import { Transform } from 'node:stream';
import { PutSizeError } from './file-storage';

/**
 * A pass-through that counts the bytes and takes their MD5 (the ETag S3 gives a single PUT), and
 * fails the stream the moment more than `expected` bytes came: a body too long is never read whole.
 * `assertComplete` after the end throws when fewer came.
 */
export function sizeChecked(expected: number) {
  const md5 = createHash('md5');
  let seen = 0;
  const stream = new Transform({
    transform(chunk: Buffer, _enc, done) {
      seen += chunk.length;
      if (seen > expected) return done(new PutSizeError(expected, seen));
      md5.update(chunk);
      done(null, chunk);
    },
  });
  return {
    stream,
    assertComplete(): void {
      if (seen !== expected) throw new PutSizeError(expected, seen);
    },
    etag: () => `"${md5.digest('hex')}"`,
    seen: () => seen,
  };
}
