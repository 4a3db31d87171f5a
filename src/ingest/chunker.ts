import type { Format } from './types';

const LF = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const LBRACE = 0x7b;
const RBRACE = 0x7d;

/** A piece of a file's UTF-8 text made of whole records, and where it sits in the file. */
export interface Chunk {
  index: number;
  /** The chunk's bytes, in pieces as they were read (views of the reads: copy them out before the next push). */
  parts: Buffer[];
  length: number;
  /** Offset of the chunk's first byte in the file's UTF-8 text. */
  offset: number;
  /** Records before the chunk: CSV records (blank ones included), or JSON array elements. */
  row: number;
  /** LF bytes and CR bytes before the chunk (line numbers). */
  lfBefore: number;
  crBefore: number;
  last: boolean;
}

/** The scan found no record boundary within its limit (a record far larger than a chunk): read in-thread instead. */
export class NoBoundary extends Error {}

function count(parts: Buffer[], byte: number): number {
  let n = 0;
  for (const bytes of parts) {
    let i = bytes.indexOf(byte);
    while (i !== -1) {
      n++;
      i = bytes.indexOf(byte, i + 1);
    }
  }
  return n;
}

/**
 * Cuts a file's text into chunks of whole records as it arrives, without parsing it: a format's
 * scan marks where records end (quotes and nesting tracked with `indexOf` hops), and a chunk is cut
 * at the last mark once `target` bytes are pending. The scan is a fast guess of the parser's own
 * boundaries; the pool thread that parses a chunk checks that it starts and ends on one (see
 * parallel-ingest.ts), so a wrong guess costs a re-read in-thread, never a different answer.
 */
abstract class Chunker {
  private pieces: Buffer[] = [];
  private pendingBytes = 0;
  /** Absolute offset of the first pending byte. */
  private start = 0;
  /** Absolute offset where the next piece starts (bytes scanned so far). */
  protected fed = 0;
  /** Where the chunk being formed starts (past the cuts found but not yet taken). */
  private cutStart = 0;
  private cuts: { end: number; next: number; units: number }[] = [];
  private row = 0;
  private lfBefore = 0;
  private crBefore = 0;
  private index = 0;

  constructor(
    private target: number,
    private readonly nextTarget: number,
    private readonly limit: number,
  ) {}

  /** Scans `piece` (at absolute offset `at`), calling mark() at record ends. */
  protected abstract scan(piece: Buffer, at: number): void;

  /** The absolute offset from which a record end makes a chunk long enough. */
  protected get cutFrom(): number {
    return this.cutStart + this.target;
  }

  /** A record ends at absolute `end`; the next one starts at `next` (`units` records before it). */
  protected mark(end: number, next: number, units: number): void {
    if (end < this.cutFrom) return;
    this.cuts.push({ end, next, units });
    this.cutStart = next;
    this.target = this.nextTarget;
  }

  push(piece: Buffer): Chunk[] {
    if (piece.length === 0) return [];
    this.scan(piece, this.fed);
    this.fed += piece.length;
    this.pieces.push(piece);
    this.pendingBytes += piece.length;
    const out = this.cuts.map((c) => this.take(c.end, c.next, c.units, false));
    this.cuts = [];
    if (this.pendingBytes > this.limit) throw new NoBoundary();
    return out;
  }

  /** The last chunk: whatever is pending (possibly empty, for a file that ends on a record boundary). */
  end(): Chunk {
    return this.take(this.start + this.pendingBytes, this.start + this.pendingBytes, this.row, true);
  }

  private take(end: number, next: number, units: number, last: boolean): Chunk {
    const parts: Buffer[] = [];
    let at = this.start;
    while (this.pieces.length && at < next) {
      const p = this.pieces[0];
      const upTo = Math.min(p.length, end - at);
      if (upTo > 0) parts.push(upTo === p.length ? p : p.subarray(0, upTo));
      if (at + p.length <= next) {
        this.pieces.shift();
        at += p.length;
      } else {
        this.pieces[0] = p.subarray(next - at);
        at = next;
      }
    }
    const chunk: Chunk = {
      index: this.index++,
      parts,
      length: end - this.start,
      offset: this.start,
      row: this.row,
      lfBefore: this.lfBefore,
      crBefore: this.crBefore,
      last,
    };
    // The bytes skipped between two chunks (a JSON comma) hold no line break.
    this.lfBefore += count(parts, LF);
    this.crBefore += count(parts, CR);
    this.row = units;
    this.pendingBytes -= next - this.start;
    this.start = next;
    return chunk;
  }
}

/**
 * CSV: a quote opens a quoted field only at the start of a field (csv-parse with relax_quotes), `""`
 * inside one is a quote, and a line break (LF, CRLF or CR) outside quotes ends a record.
 */
class CsvChunker extends Chunker {
  private quoted = false;
  /** In a quoted field, the last byte seen was a quote (a close, or the first half of `""`). */
  private quoteSeen = false;
  private afterCr = false;
  private last = -1;
  private records = 0;

  constructor(
    private readonly delimiter: number,
    target: number,
    nextTarget: number,
    limit: number,
  ) {
    super(target, nextTarget, limit);
  }

  protected scan(b: Buffer, at: number): void {
    const n = b.length;
    let i = 0;
    let nq = -2;
    let nl = -2;
    let nr = -2;
    while (i < n) {
      if (this.afterCr) {
        this.afterCr = false;
        this.records++;
        if (b[i] === LF) {
          this.mark(at + i + 1, at + i + 1, this.records);
          i++;
          continue;
        }
        this.mark(at + i, at + i, this.records);
        continue;
      }
      if (this.quoteSeen) {
        this.quoteSeen = false;
        if (b[i] === QUOTE) {
          i++; // `""`: still quoted
          continue;
        }
        this.quoted = false;
        continue;
      }
      if (this.quoted) {
        const j = b.indexOf(QUOTE, i);
        if (j === -1) {
          i = n;
          break;
        }
        i = j + 1;
        this.quoteSeen = true;
        continue;
      }
      if (nq !== -1 && nq < i) nq = b.indexOf(QUOTE, i);
      if (nl !== -1 && nl < i) nl = b.indexOf(LF, i);
      if (nr !== -1 && nr < i) nr = b.indexOf(CR, i);
      const q = nq === -1 ? n : nq;
      const l = nl === -1 ? n : nl;
      const r = nr === -1 ? n : nr;
      if (q === n && l === n && r === n) {
        i = n;
        break;
      }
      if (l < q && l < r) {
        this.records++;
        this.mark(at + l + 1, at + l + 1, this.records);
        i = l + 1;
      } else if (r < q) {
        this.afterCr = true;
        i = r + 1;
      } else {
        const prev = q > 0 ? b[q - 1] : this.last;
        if (prev === -1 || prev === this.delimiter || prev === LF || prev === CR) this.quoted = true;
        i = q + 1;
      }
    }
    this.last = b[n - 1];
  }
}

/** NDJSON: every LF ends a record. */
class NdjsonChunker extends Chunker {
  protected scan(b: Buffer, at: number): void {
    for (;;) {
      const from = Math.max(0, this.cutFrom - 1 - at);
      if (from >= b.length) return;
      const j = b.indexOf(LF, from);
      if (j === -1) return;
      this.mark(at + j + 1, at + j + 1, 0);
    }
  }
}

/**
 * A JSON document that is a top-level array: a comma outside strings at the array's own level ends
 * an element. The chunk ends before the comma, and the next starts after it.
 */
class JsonArrayChunker extends Chunker {
  /** -1 before the array's `[`; 0 inside it; -2 after its `]`. */
  private depth = -1;
  private inString = false;
  /** Backslashes just before the end of the last piece, inside a string. */
  private backslashes = 0;
  private elements = 0;

  protected scan(b: Buffer, at: number): void {
    const n = b.length;
    let i = 0;
    while (i < n) {
      if (this.depth === -2) return;
      if (this.inString) {
        const j = b.indexOf(QUOTE, i);
        if (j === -1) {
          let k = n - 1;
          while (k >= i && b[k] === BACKSLASH) k--;
          this.backslashes = k < i ? this.backslashes + (n - i) : n - 1 - k;
          i = n;
          break;
        }
        let k = j - 1;
        while (k >= i && b[k] === BACKSLASH) k--;
        const run = k < i ? j - i + (i === 0 ? this.backslashes : 0) : j - 1 - k;
        this.backslashes = 0;
        i = j + 1;
        if (run % 2 === 0) this.inString = false;
        continue;
      }
      const c = b[i];
      if (c === QUOTE) {
        this.inString = true;
        this.backslashes = 0;
      } else if (c === LBRACE || c === LBRACKET) this.depth++;
      else if (c === RBRACE || c === RBRACKET) {
        this.depth--;
        if (this.depth === -1) {
          this.depth = -2;
          return;
        }
      } else if (c === COMMA && this.depth === 0) {
        this.elements++;
        this.mark(at + i, at + i + 1, this.elements);
      }
      i++;
    }
  }
}

export interface ChunkerOptions {
  format: Format;
  delimiter?: string;
  /** The first chunk's size (CSV: small, it is read in-thread for the header). */
  firstBytes: number;
  chunkBytes: number;
  /** Pending bytes without a boundary past which the scan gives up (NoBoundary). */
  limit: number;
}

export function chunkerFor(o: ChunkerOptions): { push(piece: Buffer): Chunk[]; end(): Chunk } {
  if (o.format === 'csv') return new CsvChunker(o.delimiter!.charCodeAt(0), o.firstBytes, o.chunkBytes, o.limit);
  if (o.format === 'ndjson') return new NdjsonChunker(o.firstBytes, o.chunkBytes, o.limit);
  return new JsonArrayChunker(o.firstBytes, o.chunkBytes, o.limit);
}
