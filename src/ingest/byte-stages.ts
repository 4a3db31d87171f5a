import { isUtf8 } from 'node:buffer';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { EncodingName } from './detect';
import { tooLargeSentence } from '../common/format';
import { IngestError } from './types';

/** Thrown by the UTF-8 stage when the bytes are not UTF-8: ingest restarts reading windows-1252. */
export class NotUtf8 extends Error {}

/** The first `n` bytes of a stream (fewer if it is shorter); the stream is closed afterwards. */
export async function readHead(stream: Readable, n: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let len = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      parts.push(chunk);
      len += chunk.length;
      if (len >= n) break;
    }
  } finally {
    stream.destroy();
  }
  return Buffer.concat(parts).subarray(0, n);
}

/** Gunzips; truncated or corrupt gzip data is the file's fault (400), not ours. */
export function gunzip(raw: Readable): Readable {
  const z = createGunzip();
  raw.on('error', (e) => z.destroy(e));
  return raw.pipe(z);
}

export async function* counted(
  src: AsyncIterable<Buffer>,
  maxBytes: number,
  compressed: boolean,
): AsyncGenerator<Buffer> {
  let total = 0;
  try {
    for await (const chunk of src) {
      total += chunk.length;
      if (total > maxBytes) {
        throw new IngestError('payload_too_large', tooLargeSentence(maxBytes), [], {
          decompressed: compressed,
        });
      }
      yield chunk;
    }
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (compressed && (code === 'Z_BUF_ERROR' || code === 'Z_DATA_ERROR' || code === 'Z_STREAM_ERROR')) {
      throw new IngestError('file_parsing_failed', 'The gzip data is truncated or corrupt');
    }
    throw e;
  }
}

/** A stream whose first bytes can be looked at before it is read. */
export class Peekable {
  private readonly buffered: Buffer[] = [];
  private done = false;

  constructor(private readonly it: AsyncIterator<Buffer>) {}

  static of(src: AsyncIterable<Buffer>): Peekable {
    return new Peekable(src[Symbol.asyncIterator]());
  }

  /** Reads ahead as fill(n) does; everything buffered, as one buffer. */
  async peek(n: number): Promise<Buffer> {
    await this.fill(n);
    return Buffer.concat(this.buffered);
  }

  /** Reads ahead until `n` bytes are buffered or the stream ends; how many are buffered. */
  async fill(n: number): Promise<number> {
    let len = this.buffered.reduce((a, b) => a + b.length, 0);
    while (len < n && !this.done) {
      const r = await this.it.next();
      if (r.done) this.done = true;
      else {
        this.buffered.push(r.value);
        len += r.value.length;
      }
    }
    return len;
  }

  /** Drops the first `n` bytes (a BOM). Only within what was peeked. */
  skip(n: number): void {
    let rest = n;
    while (rest > 0 && this.buffered.length) {
      const first = this.buffered[0];
      if (first.length <= rest) {
        rest -= first.length;
        this.buffered.shift();
      } else {
        this.buffered[0] = first.subarray(rest);
        rest = 0;
      }
    }
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Buffer> {
    while (this.buffered.length) yield this.buffered.shift()!;
    if (this.done) return;
    for (;;) {
      const r = await this.it.next();
      if (r.done) return;
      yield r.value;
    }
  }

  async close(): Promise<void> {
    await this.it.return?.();
  }
}

/** Where the last, possibly incomplete, UTF-8 sequence of a chunk starts (chunk.length when complete). */
function completeUpTo(chunk: Buffer): number {
  const end = chunk.length;
  for (let back = 1; back <= Math.min(3, end); back++) {
    const b = chunk[end - back];
    if ((b & 0xc0) === 0x80) continue; // continuation byte: keep looking for the lead
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return need > back ? end - back : end;
  }
  return end;
}

/** UTF-8 bytes pass through untouched (csv-parse reads bytes), checked with the native validator. */
async function* utf8Checked(src: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  let carry: Buffer | undefined;
  for await (const input of src) {
    const chunk = carry ? Buffer.concat([carry, input]) : input;
    carry = undefined;
    const cut = completeUpTo(chunk);
    const body = cut === chunk.length ? chunk : chunk.subarray(0, cut);
    if (!isUtf8(body)) throw new NotUtf8();
    if (cut < chunk.length) carry = Buffer.from(chunk.subarray(cut));
    if (body.length) yield body;
  }
  if (carry) throw new NotUtf8();
}

/** Other encodings are decoded to text and re-encoded as UTF-8 for the readers. */
async function* transcoded(src: AsyncIterable<Buffer>, encoding: EncodingName): AsyncGenerator<Buffer> {
  const decoder = new TextDecoder(encoding, { fatal: false, ignoreBOM: false });
  for await (const chunk of src) {
    const text = decoder.decode(chunk, { stream: true });
    if (text) yield Buffer.from(text, 'utf8');
  }
  const tail = decoder.decode();
  if (tail) yield Buffer.from(tail, 'utf8');
}

export function toUtf8(src: AsyncIterable<Buffer>, encoding: EncodingName): AsyncGenerator<Buffer> {
  return encoding === 'utf-8' ? utf8Checked(src) : transcoded(src, encoding);
}
