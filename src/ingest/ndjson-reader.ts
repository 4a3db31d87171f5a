import { msg } from './messages';
import { formatBytes } from '../common/format';
import { nulRecord, parsedRecord } from './json-checks';
import { BATCH_ROWS, type SourceRecord, jsonDetail } from './source-record';

const LF = 0x0a;
const EMPTY = Buffer.alloc(0);

/** NDJSON / JSON Lines: one value per line, row = line number (1-based), blank lines ignored. */
export async function* readNdjson(
  src: AsyncIterable<Buffer>,
  maxRecordBytes: number,
  /** Where a chunk from the middle of a file (the ingest pool) starts. */
  firstLine = 1,
): AsyncGenerator<SourceRecord[]> {
  let parts: Buffer[] = [];
  let pendingBytes = 0;
  let oversized = false;
  let line = firstLine - 1;
  let batch: SourceRecord[] = [];

  /** The line that ends at `end` of `chunk` (its earlier bytes, if any, are in `parts`). */
  function finish(chunk: Buffer, start: number, end: number): void {
    line++;
    // A line that arrived whole within one read is measured here; a longer one was cut off as it came.
    if (!oversized && pendingBytes + (end - start) > maxRecordBytes) {
      oversized = true;
      parts = [];
      pendingBytes = 0;
    }
    if (oversized) {
      oversized = false;
      batch.push({
        row: line,
        line,
        error: { code: 'parse', error: msg.rowTooLarge(formatBytes(maxRecordBytes)) },
        raw: null,
      });
      return;
    }
    let text: string;
    if (parts.length) {
      text = Buffer.concat([...parts, chunk.subarray(start, end)]).toString('utf8');
      parts = [];
      pendingBytes = 0;
    } else text = chunk.toString('utf8', start, end);
    text = text.trim();
    if (text === '') return;
    if (text.includes('\u0000')) {
      batch.push(nulRecord(line, line, text));
      return;
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      batch.push({ row: line, line, error: { code: 'parse', error: msg.rowNotJson(jsonDetail(e)) }, raw: text });
      return;
    }
    batch.push(parsedRecord(line, line, value, text));
  }

  for await (const chunk of src) {
    let start = 0;
    let idx: number;
    while ((idx = chunk.indexOf(LF, start)) !== -1) {
      finish(chunk, start, idx);
      start = idx + 1;
      if (batch.length >= BATCH_ROWS) {
        yield batch;
        batch = [];
      }
    }
    if (start < chunk.length && !oversized) {
      pendingBytes += chunk.length - start;
      if (pendingBytes > maxRecordBytes) {
        oversized = true;
        parts = [];
        pendingBytes = 0;
      } else {
        parts.push(chunk.subarray(start));
      }
    }
  }
  if (parts.length || oversized) finish(EMPTY, 0, 0);
  if (batch.length) yield batch;
}
