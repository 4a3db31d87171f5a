/**
 * The bytes of one value as they arrive in pieces of chunks, kept up to a limit: a longer value is
 * dropped as soon as it crosses it (whether it spans reads or arrives within one), so memory is
 * bounded by the limit, never the value.
 */
export class BoundedText {
  private parts: Buffer[] = [];
  private bytes = 0;
  private over = false;

  constructor(private readonly maxBytes: number) {}

  add(chunk: Buffer, from: number, to: number): void {
    if (this.over) return;
    this.bytes += to - from;
    if (this.bytes > this.maxBytes) {
      this.over = true;
      this.parts = [];
      this.bytes = 0;
    } else this.parts.push(chunk.subarray(from, to));
  }

  get oversized(): boolean {
    return this.over;
  }

  /** The value as text, or undefined when it was over the limit; starts afresh. */
  take(): string | undefined {
    const parts = this.parts;
    const text = this.over
      ? undefined
      : parts.length === 1
        ? parts[0].toString('utf8')
        : Buffer.concat(parts).toString('utf8');
    this.parts = [];
    this.bytes = 0;
    this.over = false;
    return text;
  }
}
