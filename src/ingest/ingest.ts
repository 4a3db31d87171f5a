import type { Readable } from 'node:stream';
import { NotUtf8, type Peekable } from './byte-stages';
import { readCsv } from './csv-reader';
import { type EncodingName, detectDelimiter } from './detect';
import { readJson } from './json-reader';
import { readNdjson } from './ndjson-reader';
import { DEFAULT_MAX_RECORD_BYTES, type IngestOptions, noValidRows, openText } from './open-text';
import { ingestParallel } from './parallel-ingest';
import { defaultIngestPool } from './pool';
import { validateRecords } from './validate-records';
import type { SourceRecord } from './source-record';
import { IngestError, type IngestSink, type IngestSummary } from './types';

export { DEFAULT_MAX_RECORD_BYTES, type IngestOptions } from './open-text';

/**
 * A file in, valid items and row errors out: gunzip → byte limit → encoding → format → reader →
 * validator → sink. `open` must give the file's bytes from the start each time it is called
 * (a UTF-8 guess that turns out wrong restarts the read as windows-1252).
 *
 * A large file is read on every core when a pool is given or installed (options.pool,
 * setDefaultIngestPool): parallel-ingest.ts, whose answer is this function's in-thread answer,
 * byte for byte (any doubt there falls back to the in-thread read).
 */
export async function ingest(open: () => Readable, options: IngestOptions, sink: IngestSink): Promise<IngestSummary> {
  const pool = options.pool === undefined ? defaultIngestPool() : options.pool;
  if (pool && options.schema.source !== undefined) {
    const summary = await ingestParallel(open, options, sink, pool);
    if (summary) return summary;
  }
  return ingestInThread(open, options, sink);
}

/** The single-threaded read: the reference answer for every file. */
export async function ingestInThread(
  open: () => Readable,
  options: IngestOptions,
  sink: IngestSink,
): Promise<IngestSummary> {
  try {
    return await ingestOnce(open, options, sink, options.encoding);
  } catch (e) {
    if (!(e instanceof NotUtf8)) throw e;
    if (options.encoding === 'utf-8') {
      throw new IngestError('file_parsing_failed', 'The file is not valid UTF-8, but the encoding field says utf-8.');
    }
    await sink.reset();
    return ingestOnce(open, options, sink, 'windows-1252');
  }
}

async function ingestOnce(
  open: () => Readable,
  options: IngestOptions,
  sink: IngestSink,
  forcedEncoding: EncodingName | undefined,
): Promise<IngestSummary> {
  let stages: { compressed: boolean; bytes: Peekable; raw: Readable } | undefined;
  try {
    const { text, head, format, parsing } = await openText(open, options, forcedEncoding, (o) => (stages = o));
    const maxRecordBytes = options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
    let records: AsyncGenerator<SourceRecord[]>;
    const errorColumns: string[] = [];
    if (format === 'csv') {
      // lineEnding is filled in by the reader at the first line end, which may lie past the sniffed head.
      Object.assign(parsing, { delimiter: detectDelimiter(head), lineEnding: 'none' });
      records = readCsv(text, {
        delimiter: parsing.delimiter!,
        maxRecordBytes,
        schema: options.schema,
        onHeader: (header) => {
          parsing.header = header;
          errorColumns.push(...header);
        },
        onLineEnding: (lineEnding) => (parsing.lineEnding = lineEnding),
      });
    } else if (format === 'json') {
      records = readJson(text, maxRecordBytes);
    } else {
      records = readNdjson(text, maxRecordBytes);
    }
    const result = await validateRecords(records, options.schema, format === 'csv', sink, errorColumns, noValidRows);
    return { format, parsing, errorColumns, ...result };
  } catch (e) {
    // A gzip file that is both malformed and over the limit once decompressed (a gzip bomb) is
    // answered as too large: read on, counting, to see which it is.
    if (stages?.compressed && e instanceof IngestError && e.code !== 'payload_too_large')
      await drainCounted(stages.bytes);
    throw e;
  } finally {
    if (stages) {
      await stages.bytes.close();
      stages.raw.destroy();
    }
  }
}

/** Reads the rest of a counted stream; throws the counter's payload_too_large if the limit is crossed. */
async function drainCounted(bytes: Peekable): Promise<void> {
  try {
    for await (const _chunk of bytes) {
      // only counting
    }
  } catch (e) {
    if (e instanceof IngestError && e.code === 'payload_too_large') throw e;
  }
}
