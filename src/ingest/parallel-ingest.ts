import type { Readable } from 'node:stream';
import type { RowError } from '../common/row-error';
import type { Peekable } from './byte-stages';
import { type ChunkPlace, type ChunkResult, type ChunkTask, runChunk } from './chunk-task';
import { type Chunk, chunkerFor } from './chunker';
import type { LineEnding } from './csv-offsets';
import { detectDelimiter } from './detect';
import { DEFAULT_MAX_RECORD_BYTES, type IngestOptions, noValidRows, openText } from './open-text';
import { type IngestPool, PoolThreadDied } from './pool';
import { IngestError, type IngestSink, type IngestSummary } from './types';
import { FileTally, finishTally } from './validate-records';

/**
 * Files with fewer UTF-8 bytes than this are read in-thread: below it, cutting and handing over
 * chunks costs more than a second core gives back (measured: bench/RESULTS.md, issue 14).
 */
export const PARALLEL_MIN_BYTES = 2 * 1024 * 1024;
/** About this much text per chunk (whole records). */
export const CHUNK_BYTES = 1024 * 1024;
/** A CSV file's first chunk, read in-thread for its header and line ending: small, so the pool starts early. */
const FIRST_CSV_CHUNK_BYTES = 64 * 1024;

/** Why the parallel read gave up on a file: the in-thread read answers it. */
class InThread extends Error {}
/** A file the pool does not read (small, or a JSON document that is not an array). */
class NotForThePool extends InThread {}

/** An upload's chunks in the pool, in file order: at most `limit` at once (backpressure toward the reader). */
class InFlight {
  private readonly queue: { chunk: ChunkPlace; result: Promise<ChunkResult> }[] = [];
  constructor(readonly limit: number) {}
  get full(): boolean {
    return this.queue.length >= this.limit;
  }
  get size(): number {
    return this.queue.length;
  }
  add(chunk: ChunkPlace, result: Promise<ChunkResult>): void {
    result.catch(() => undefined); // awaited in order by next(); never an unhandled rejection
    this.queue.push({ chunk, result });
  }
  next() {
    return this.queue.shift();
  }
}

/** A sink without `lines` gets the chunk's items and rejected rows one by one, as the in-thread read gives them. */
async function writeLines(sink: IngestSink, items: Uint8Array, rejected: Uint8Array): Promise<void> {
  if (sink.lines) {
    const pending = sink.lines(items, rejected);
    if (pending) await pending;
    return;
  }
  for (const line of eachLine(items)) {
    const { row, item } = JSON.parse(line) as { row: number; item: Record<string, unknown> };
    const pending = sink.item(row, item);
    if (pending) await pending;
  }
  for (const line of eachLine(rejected)) {
    const { raw, ...error } = JSON.parse(line) as RowError & { raw: unknown };
    const pending = sink.rejected(error, raw);
    if (pending) await pending;
  }
}

function* eachLine(bytes: Uint8Array): Generator<string> {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  while (at < text.length) {
    const end = text.indexOf(0x0a, at);
    yield text.toString('utf8', at, end);
    at = end + 1;
  }
}

const OPEN = '['.charCodeAt(0);
const CLOSE = ']'.charCodeAt(0);

/**
 * ingest() on every core: the main thread reads the bytes through the same stages as the in-thread
 * read (gunzip, byte limit, encoding), cuts the text into chunks of whole records (chunker.ts),
 * and hands them to the pool; the chunks' lines come back and are written in file order, and
 * their tallies merged in order into the file's (the capped error list, the summary, the counts).
 *
 * Undefined means "read this file in-thread": it is small, or of a shape the pool does not read (a
 * JSON object with "items"), or something went differently than the in-thread read would have it
 * go (a CSV or JSON syntax error, a record larger than a chunk, bytes that are not UTF-8, a file
 * over its byte limit, a chunk that was not on record boundaries): the sink is reset, and the
 * in-thread read gives the answer, which is then the same by construction.
 * A pool thread that dies fails the upload: IngestError `unavailable` (503).
 */
export async function ingestParallel(
  open: () => Readable,
  options: IngestOptions,
  sink: IngestSink,
  pool: IngestPool,
): Promise<IngestSummary | undefined> {
  let wrote = false;
  let stages: { bytes: Peekable; raw: Readable } | undefined;
  const inFlight = new InFlight(pool.size * 2);
  try {
    const { text, head, format, parsing } = await openText(open, options, options.encoding, (o) => (stages = o));
    if (format === 'json' && head.toString('latin1').trimStart()[0] !== '[') throw new NotForThePool('not an array');
    const minBytes = options.parallelMinBytes ?? pool.minBytes ?? PARALLEL_MIN_BYTES;
    if ((await text.fill(minBytes)) < minBytes) throw new NotForThePool('small');
    const maxRecordBytes = options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
    const errorColumns: string[] = [];
    const csv = format === 'csv';
    let header: string[] | undefined;
    let lineEnding: LineEnding | undefined;
    if (csv) {
      Object.assign(parsing, { delimiter: detectDelimiter(head), lineEnding: 'none' });
    }
    const chunkBytes = options.chunkBytes ?? pool.chunkBytes ?? CHUNK_BYTES;
    const chunker = chunkerFor({
      format,
      delimiter: parsing.delimiter,
      firstBytes: csv ? Math.min(FIRST_CSV_CHUNK_BYTES, chunkBytes) : chunkBytes,
      chunkBytes,
      limit: 4 * Math.max(chunkBytes, maxRecordBytes),
    });
    const tally = new FileTally();
    let expectedRow = 0;
    /** The chunk copied into a reused buffer (a JSON chunk made an array of its own), and buffers for its lines. */
    const taskOf = (chunk: Chunk): ChunkTask => {
      const before = format === 'json' && chunk.index > 0 ? 1 : 0;
      const after = format === 'json' && !chunk.last ? 1 : 0;
      const size = before + chunk.length + after;
      const slot = pool.takeBuffer(Math.max(size, chunkBytes + chunkBytes / 4));
      let at = 0;
      if (before) slot[at++] = OPEN;
      for (const part of chunk.parts) {
        slot.set(part, at);
        at += part.length;
      }
      if (after) slot[at++] = CLOSE;
      const { parts: _parts, length: _length, ...place } = chunk;
      return {
        format,
        schema: options.schema.source!,
        maxRecordBytes,
        delimiter: parsing.delimiter,
        lineEnding,
        header,
        chunk: { ...place, bytes: slot.subarray(0, size) },
        out: { items: pool.takeBuffer(2 * chunkBytes), rejected: pool.takeBuffer(64 * 1024) },
      };
    };
    const merge = async (chunk: ChunkPlace, result: ChunkResult) => {
      // Each chunk must start where the one before it ended (CSV and JSON rows; NDJSON counts lines).
      if (format !== 'ndjson' && chunk.index > 0 && chunk.row !== expectedRow) throw new InThread('rows');
      expectedRow = result.endRow;
      tally.merge(result.tally);
      if (result.items.length || result.rejected.length) wrote = true;
      await writeLines(sink, result.items, result.rejected);
      pool.giveBuffer(result.items);
      pool.giveBuffer(result.rejected);
      pool.giveBuffer(result.input);
    };
    const settleOne = async () => {
      const head = inFlight.next()!;
      let result: ChunkResult;
      try {
        result = await head.result;
      } catch (e) {
        if (e instanceof PoolThreadDied) throw e;
        throw new InThread((e as Error).message);
      }
      await merge(head.chunk, result);
    };
    let first: Chunk | undefined;
    const dispatch = async (chunk: Chunk) => {
      if (csv && chunk.index === 0 && !chunk.last) {
        // Held until the next chunk is cut: csv-parse ends a record before the end of its input
        // only with two more bytes after its line break, which decides the first line ending.
        first = chunk;
        return;
      }
      if (first) {
        const held = first;
        first = undefined;
        if (chunk.last && chunk.length < 4) throw new InThread('a header and almost nothing');
        await readFirst(held);
      }
      if (csv && chunk.index === 0) await readFirst(chunk);
      else {
        const task = taskOf(chunk);
        const { bytes: _bytes, ...place } = task.chunk;
        inFlight.add(place, pool.run(task));
        while (inFlight.full) await settleOne();
      }
    };
    const readFirst = async (chunk: Chunk) => {
      // The header and the line ending, found as the in-thread read finds them.
      const result = await runChunk(taskOf(chunk), options.schema, {
        onHeader: (h) => {
          header = h;
          parsing.header = h;
          errorColumns.push(...h);
        },
        onLineEnding: (l) => {
          lineEnding = l;
          parsing.lineEnding = l;
        },
      }).catch((e: Error) => {
        throw new InThread(e.message);
      });
      if (!header || !lineEnding) throw new InThread('no header in the first chunk');
      await merge(chunk, result);
    };

    for await (const piece of text) {
      for (const chunk of chunker.push(piece)) await dispatch(chunk);
    }
    await dispatch(chunker.end());
    while (inFlight.size) await settleOne();
    const counts = finishTally(tally, csv, errorColumns, noValidRows);
    return { format, parsing, errorColumns, ...counts };
  } catch (e) {
    while (inFlight.size) await inFlight.next()!.result.catch(() => undefined);
    if (e instanceof PoolThreadDied) {
      throw new IngestError('unavailable', 'File storage is temporarily unavailable.');
    }
    // A file with no valid row, tallied here, is answered here (the same error the in-thread read throws).
    if (
      e instanceof IngestError &&
      e.code === 'file_parsing_failed' &&
      e.extra.validationErrorCount !== undefined &&
      !(e instanceof InThread)
    ) {
      throw e;
    }
    if (wrote) await sink.reset();
    // A small file, or a JSON object, is the in-thread read's by design; anything else is told.
    if (!(e instanceof NotForThePool)) pool.emit('inThread', (e as Error).message);
    return undefined;
  } finally {
    if (stages) {
      await stages.bytes.close();
      stages.raw.destroy();
    }
  }
}
