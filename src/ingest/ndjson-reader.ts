import { formatBytes, msg } from './messages';
import type { SourceRecord } from './source-record';

const LF = 0x0a;

/** NDJSON / JSON Lines: one value per line, row = line number (1-based), blank lines ignored. */
export async function* readNdjson(src: AsyncIterable<Buffer>, maxRecordBytes: number): AsyncGenerator<SourceRecord> {
  let parts: Buffer[] = [];
  let pendingBytes = 0;
  let oversized = false;
  let line = 0;

  function* finish(last: Buffer): Generator<SourceRecord> {
    line++;
    if (oversized) {
      oversized = false;
      yield {
        row: line,
        line,
        error: { code: 'parse', error: msg.rowTooLarge(formatBytes(maxRecordBytes)) },
        raw: null,
      };
      return;
    }
    const bytes = parts.length ? Buffer.concat([...parts, last]) : last;
    parts = [];
    pendingBytes = 0;
    const text = bytes.toString('utf8').trim();
    if (text === '') return;
    try {
      const value: unknown = JSON.parse(text);
      yield { row: line, line, value, raw: value };
    } catch (e) {
      yield { row: line, line, error: { code: 'parse', error: msg.rowNotJson(jsonDetail(e)) }, raw: text };
    }
  }

  for await (const chunk of src) {
    let start = 0;
    let idx: number;
    while ((idx = chunk.indexOf(LF, start)) !== -1) {
      yield* finish(chunk.subarray(start, idx));
      start = idx + 1;
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
  if (parts.length || oversized) yield* finish(Buffer.alloc(0));
}

export function jsonDetail(e: unknown): string {
  return (e as Error).message.replace(/^JSON\.parse: /, '').slice(0, 200);
}
