import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type { StorageWriter } from './file-storage';

/** Bytes are gathered in a buffer of this size, and handed to the stream when it is full. */
const BUFFER_BYTES = 64 * 1024;
/** Written buffers kept for reuse, at most (the stream holds one or two at a time: backpressure). */
const SPARE_BUFFERS = 4;

/**
 * The text-to-bytes half of every driver's writer: each text is copied in as it comes (UTF-8, as a
 * stream would encode it), so the many small strings of an upload die young instead of waiting in a
 * list; only the buffer waits. A full buffer goes to `stream`, and `write` returns a promise only when
 * the stream asks to wait (backpressure). Drivers say where the stream goes and what commit means.
 */
export abstract class BufferedWriter implements StorageWriter {
  protected abstract stream: Writable;
  /**
   * Whether a buffer may be filled again once the stream's write callback came: true only where the
   * stream is done with a buffer by then (a file stream, whose callback follows the write to the
   * file); a stream that passes buffers on to a reader keeps them longer.
   */
  protected readonly reusesBuffers: boolean = false;
  private buffer: Buffer = Buffer.allocUnsafe(BUFFER_BYTES);
  private used = 0;
  /** Buffers the stream has written, to gather into again (reusesBuffers). */
  private readonly spare: Buffer[] = [];
  /** The first error of the stream or of what it feeds; thrown by the next write or commit. */
  protected failure: Error | undefined;

  write(text: string): void | Promise<void> {
    const room = BUFFER_BYTES - this.used;
    // A UTF-16 code unit takes at most 3 bytes in UTF-8: count the bytes only when it may not fit.
    if (text.length * 3 <= room || Buffer.byteLength(text) <= room) {
      this.used += this.buffer.write(text, this.used);
      if (this.used < BUFFER_BYTES) return;
      return this.flush();
    }
    return this.flush(text);
  }

  writeBytes(bytes: Uint8Array): void | Promise<void> {
    this.check();
    let more = true;
    let at = 0;
    while (at < bytes.length) {
      const n = Math.min(BUFFER_BYTES - this.used, bytes.length - at);
      this.buffer.set(bytes.subarray(at, at + n), this.used);
      this.used += n;
      at += n;
      if (this.used === BUFFER_BYTES) {
        more = this.handOver(this.buffer) && more;
        this.buffer = this.nextBuffer();
        this.used = 0;
      }
    }
    if (!more) return this.drained();
  }

  /**
   * Gives the stream `buffer` (its first `length` bytes). Without reuse every full buffer is a new
   * ArrayBuffer that dies after its write, and a long upload's dead ones pile up between the main
   * thread's full collections (bench/RESULTS.md, issue 14).
   */
  private handOver(buffer: Buffer, length = buffer.length): boolean {
    const bytes = length === buffer.length ? buffer : buffer.subarray(0, length);
    if (!this.reusesBuffers) return this.stream.write(bytes);
    return this.stream.write(bytes, (err) => {
      if (!err && this.spare.length < SPARE_BUFFERS) this.spare.push(buffer);
    });
  }

  private nextBuffer(): Buffer {
    return this.spare.pop() ?? Buffer.allocUnsafe(BUFFER_BYTES);
  }

  private async drained(): Promise<void> {
    await once(this.stream, 'drain');
    this.check();
  }

  protected check(): void {
    const failure = this.failure;
    if (failure) throw failure;
  }

  /** Hands the gathered bytes, then `text` if given, to the stream (in order, before any await). */
  protected async flush(text?: string): Promise<void> {
    this.check();
    let more = true;
    if (this.used > 0) {
      more = this.handOver(this.buffer, this.used);
      // The stream keeps what it was given until it is written: gather into another buffer.
      this.buffer = this.nextBuffer();
      this.used = 0;
    }
    if (text !== undefined) {
      if (Buffer.byteLength(text) > BUFFER_BYTES) more = this.stream.write(text) && more;
      else this.used = this.buffer.write(text, 0);
    }
    // once() rejects if 'error' comes first, and leaves no listener behind either way.
    if (!more) await once(this.stream, 'drain');
    this.check();
  }

  /** Forgets the bytes gathered and not yet handed over (for reset). */
  protected discardBuffered(): void {
    this.used = 0;
  }

  abstract reset(): Promise<void>;
  abstract commit(): Promise<void>;
  abstract abort(): Promise<void>;
}
