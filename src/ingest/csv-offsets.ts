/** Byte offsets the CSV reader keeps beside csv-parse: where physical lines start, and where NUL bytes are. */

export type LineEnding = 'crlf' | 'lf' | 'cr' | 'none';

const LF = 0x0a;
const CR = 0x0d;

/**
 * Physical line numbers from byte offsets. csv-parse's own `info.lines` drifts after quoted CRLFs,
 * but `info.bytes` (the offset where a record ends) is exact: we note where line breaks are as bytes
 * go in, and a record that starts at byte S starts on line 1 + (breaks before S).
 *
 * The byte that ends a physical line (LF for LF and CRLF files, CR for old Mac files) is read from
 * the delimiter that ends the first record, wherever it is (the first line may be longer than the
 * sniffed head), as csv-parse found it (its quote rules, relaxed quotes included). The bytes up to
 * it are held until then: the first record, within csv-parse's record limit.
 */
export class LineIndex {
  private offsets: number[] = [];
  private head = 0;
  private fed = 0;
  private breaksBefore = 0;
  private lineBreak: number | undefined;
  private held: Buffer[] = [];

  constructor(private readonly onLineEnding: (lineEnding: LineEnding) => void) {}

  /** Starts mid-file: the line ending is known, `breaksBefore` line breaks lie before byte `offset`. */
  resume(lineEnding: LineEnding, offset: number, breaksBefore: number): void {
    this.lineBreak = lineEnding === 'cr' ? CR : LF;
    this.fed = offset;
    this.breaksBefore = breaksBefore;
  }

  note(chunk: Buffer): void {
    if (this.lineBreak === undefined) this.held.push(chunk);
    else this.index(chunk);
  }

  /** The first record ends at `end` (its delimiter included): its last bytes say what a line end is. */
  firstRecordEnd(end: number): void {
    if (this.lineBreak !== undefined) return;
    const last = this.heldByte(end - 1);
    this.decide(last === LF ? (this.heldByte(end - 2) === CR ? 'crlf' : 'lf') : last === CR ? 'cr' : 'none');
  }

  /** The end of the input: a file without records. */
  end(): void {
    if (this.lineBreak === undefined) this.decide('none');
  }

  private heldByte(offset: number): number | undefined {
    let base = this.fed;
    for (const chunk of this.held) {
      if (offset < base) return undefined;
      if (offset < base + chunk.length) return chunk[offset - base];
      base += chunk.length;
    }
    return undefined;
  }

  private decide(lineEnding: LineEnding): void {
    this.lineBreak = lineEnding === 'cr' ? CR : LF;
    this.onLineEnding(lineEnding);
    const held = this.held;
    this.held = [];
    for (const chunk of held) this.index(chunk);
  }

  private index(chunk: Buffer): void {
    const lineBreak = this.lineBreak!;
    let i = chunk.indexOf(lineBreak);
    while (i !== -1) {
      this.offsets.push(this.fed + i);
      i = chunk.indexOf(lineBreak, i + 1);
    }
    this.fed += chunk.length;
  }

  lineAt(offset: number): number {
    while (this.head < this.offsets.length && this.offsets[this.head] < offset) {
      this.head++;
      this.breaksBefore++;
    }
    if (this.head > 4096) {
      this.offsets = this.offsets.slice(this.head);
      this.head = 0;
    }
    return this.breaksBefore + 1;
  }
}

/**
 * Where NUL bytes are, so that a record holding one is a row error (API.md: a NUL byte is refused
 * as binary only in the first bytes of a file without a `format`). Found with indexOf (memchr) per
 * chunk; records are asked about in order.
 */
export class NulIndex {
  private offsets: number[] = [];
  private head = 0;
  private fed = 0;

  resume(offset: number): void {
    this.fed = offset;
  }

  note(chunk: Buffer): void {
    let i = chunk.indexOf(0);
    while (i !== -1) {
      this.offsets.push(this.fed + i);
      i = chunk.indexOf(0, i + 1);
    }
    this.fed += chunk.length;
  }

  /** Whether a NUL byte lies in [start, end). */
  within(start: number, end: number): boolean {
    if (this.head === this.offsets.length) return false;
    while (this.head < this.offsets.length && this.offsets[this.head] < start) this.head++;
    if (this.head > 4096) {
      this.offsets = this.offsets.slice(this.head);
      this.head = 0;
    }
    return this.head < this.offsets.length && this.offsets[this.head] < end;
  }
}
