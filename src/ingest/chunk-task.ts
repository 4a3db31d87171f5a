import { ByteWriter } from './byte-writer';
import { readCsv } from './csv-reader';
import type { LineEnding } from './csv-offsets';
import type { Chunk } from './chunker';
import { readJson } from './json-reader';
import { readNdjson } from './ndjson-reader';
import type { ItemSchema } from './schema-registry';
import { itemLine, rejectedLine } from './sink-lines';
import type { SourceRecord } from './source-record';
import type { Format } from './types';
import { type PartTally, PartTallyKeeper, RowLoop } from './validate-records';

/** What a pool thread is asked: one chunk of whole records, and what it needs to read them as the file's. */
export interface ChunkTask {
  format: Format;
  /** The item schema's JSON text (a thread compiles each schema once, keyed by this text). */
  schema: string;
  maxRecordBytes: number;
  delimiter?: string;
  lineEnding?: LineEnding;
  header?: string[];
  /** The chunk's bytes (a JSON chunk with `[` before and `]` after, but at the file's own start and end). */
  chunk: ChunkPlace & { bytes: Uint8Array };
  /** Buffers to write the lines into: handed back in the result (grown if they were too small). */
  out: { items: Uint8Array; rejected: Uint8Array };
}

/** Where a chunk sits in the file (a Chunk without its bytes). */
export type ChunkPlace = Omit<Chunk, 'parts' | 'length'>;

/** A chunk's answer: its valid items and rejected rows as the upload's NDJSON lines, and its tally. */
export interface ChunkResult {
  index: number;
  /** The valid items' lines (UTF-8), a view of the start of the task's `out.items` buffer or a bigger one. */
  items: Uint8Array;
  rejected: Uint8Array;
  /** The task's chunk bytes, handed back for reuse. */
  input: Uint8Array;
  tally: PartTally;
  /** CSV and JSON: the last row number the chunk read (the next chunk must start after it). */
  endRow: number;
}

// eslint-disable-next-line @typescript-eslint/require-await -- one buffer, as the readers take a stream
async function* once(bytes: Buffer): AsyncGenerator<Buffer> {
  yield bytes;
}

export interface ChunkHooks {
  onHeader?(header: string[]): void;
  onLineEnding?(lineEnding: LineEnding): void;
}

/**
 * Reads and validates one chunk with the file's own readers and the one row loop, as the
 * single-threaded path would read those records at that place in the file. Any doubt about the
 * chunk (a CSV error, a JSON syntax error, a chunk that is not on record boundaries) is thrown:
 * the caller then reads the whole file in-thread, whose answer is the reference.
 */
export async function runChunk(task: ChunkTask, schema: ItemSchema, hooks: ChunkHooks = {}): Promise<ChunkResult> {
  const { chunk } = task;
  const bytes = Buffer.from(chunk.bytes.buffer, chunk.bytes.byteOffset, chunk.bytes.byteLength);
  let endRow = chunk.row;
  let records: AsyncGenerator<SourceRecord[]>;
  if (task.format === 'csv') {
    const lineEnding = task.lineEnding;
    records = readCsv(once(bytes), {
      delimiter: task.delimiter!,
      maxRecordBytes: task.maxRecordBytes,
      schema,
      onHeader: (h) => hooks.onHeader?.(h),
      onLineEnding: (l) => hooks.onLineEnding?.(l),
      onEnd: (row) => (endRow = row),
      chunk: {
        row: chunk.row,
        offset: chunk.offset,
        breaksBefore: lineEnding === 'cr' ? chunk.crBefore : chunk.lfBefore,
        lineEnding,
        header: task.header,
        last: chunk.last,
      },
    });
  } else if (task.format === 'ndjson') {
    records = readNdjson(once(bytes), task.maxRecordBytes, chunk.lfBefore + 1);
  } else {
    records = readJson(once(bytes), task.maxRecordBytes, {
      row: chunk.row,
      line: chunk.lfBefore + 1,
      onEnd: (row) => (endRow = row),
    });
  }
  const items = new ByteWriter(task.out.items);
  const rejected = new ByteWriter(task.out.rejected);
  const tally = new PartTallyKeeper();
  const loop = new RowLoop(
    schema,
    task.format === 'csv',
    {
      item: (row, item) => items.write(itemLine(row, item)),
      rejected: (error, raw) => rejected.write(rejectedLine(error, raw)),
    },
    tally,
  );
  for await (const batch of records) await loop.run(batch);
  return {
    index: chunk.index,
    items: items.bytes(),
    rejected: rejected.bytes(),
    input: chunk.bytes,
    tally: tally.result(loop.rows, loop.itemCount),
    endRow,
  };
}
