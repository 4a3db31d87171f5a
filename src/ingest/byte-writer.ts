/**
 * Lines written as UTF-8 into a buffer that is handed in and handed back (the ingest pool recycles
 * its buffers between the main thread and the pool threads), grown when a chunk's lines need more.
 * Every line is a short string that dies young; no chunk-sized string is ever made.
 */
export class ByteWriter {
  private buf: Buffer;
  private used = 0;

  constructor(initial: Uint8Array) {
    this.buf = Buffer.from(initial.buffer, initial.byteOffset, initial.byteLength);
  }

  write(text: string): void {
    const room = this.buf.length - this.used;
    if (text.length * 3 > room) {
      const need = Buffer.byteLength(text);
      if (need > room) this.grow(this.used + need);
    }
    this.used += this.buf.write(text, this.used);
  }

  private grow(min: number): void {
    // Its own ArrayBuffer (never Node's shared pool): it is moved between threads.
    const bigger = Buffer.from(new ArrayBuffer(Math.max(min, this.buf.length * 2)));
    this.buf.copy(bigger, 0, 0, this.used);
    this.buf = bigger;
  }

  /** The bytes written, a view of the whole buffer's start. */
  bytes(): Buffer {
    return this.buf.subarray(0, this.used);
  }
}

/** A view of a whole ArrayBuffer of at least `size` bytes. */
export function ownBuffer(size: number): Uint8Array {
  return new Uint8Array(new ArrayBuffer(size));
}
