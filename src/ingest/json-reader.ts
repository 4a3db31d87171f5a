import { IngestError } from './types';
import { msg } from './messages';
import { formatBytes } from '../common/format';
import { BATCH_ROWS, type SourceRecord, jsonDetail } from './source-record';

const LF = 0x0a;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const LBRACE = 0x7b;
const RBRACE = 0x7d;

const enum ScanState {
  Top,
  ObjKey,
  ObjKeyString,
  ObjColon,
  ObjValue,
  ObjSkipValue,
  ObjAfterValue,
  ArrElementOrEnd,
  ArrElement,
  ArrAfterElement,
  Done,
}

function isWs(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

const SHAPE = 'JSON must be an array of objects, or an object with an "items" array';

/**
 * A JSON array (or `{ "items": [...] }`) read element by element: a byte scanner finds each
 * element's bounds (strings, escapes and nesting tracked across chunks) and JSON.parse reads
 * just that element, so memory is bounded by the largest row, never the file.
 * UTF-8 multi-byte sequences never contain ASCII bytes, so scanning bytes is safe.
 */
export async function* readJson(src: AsyncIterable<Buffer>, maxRecordBytes: number): AsyncGenerator<SourceRecord[]> {
  let state = ScanState.Top as ScanState;
  let line = 1;
  let row = 0;
  let foundItems = false;
  let inString = false;
  let escaped = false;
  let depth = 0;
  let parts: Buffer[] = [];
  let partBytes = 0;
  let oversized = false;
  let elementLine = 1;
  let key: Buffer[] = [];
  let currentKey = '';
  let wrapped = false;
  let batch: SourceRecord[] = [];

  const fail = (message: string): never => {
    const at = row > 0 || state === ScanState.ArrElementOrEnd || state === ScanState.ArrElement ? row : undefined;
    throw new IngestError(
      'file_parsing_failed',
      at
        ? `The file is not valid JSON: ${message} (row ${at}, line ${line})`
        : `The file is not valid JSON: ${message}`,
      at ? [{ row: at, line, code: 'parse', error: message }] : [],
    );
  };

  function element(): SourceRecord {
    if (!oversized) {
      // An element that arrived whole within one read is measured here; a longer one was cut off as it came.
      let bytes = 0;
      for (const part of parts) bytes += part.length;
      if (bytes > maxRecordBytes) {
        oversized = true;
        parts = [];
        partBytes = 0;
      }
    }
    if (oversized) {
      oversized = false;
      return {
        row,
        line: elementLine,
        error: { code: 'parse', error: msg.rowTooLarge(formatBytes(maxRecordBytes)) },
        raw: null,
      };
    }
    const text = parts.length === 1 ? parts[0].toString('utf8') : Buffer.concat(parts).toString('utf8');
    parts = [];
    partBytes = 0;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      throw new IngestError(
        'file_parsing_failed',
        `The file is not valid JSON: ${jsonDetail(e)} (row ${row}, line ${elementLine})`,
        [{ row, line: elementLine, code: 'parse', error: `Row is not valid JSON (${jsonDetail(e)})` }],
      );
    }
    return { row, line: elementLine, value, raw: value };
  }

  for await (const chunk of src) {
    let elementStart = -1;
    let keyStart = -1;
    if (state === ScanState.ArrElement || state === ScanState.ObjSkipValue) elementStart = 0;
    if (state === ScanState.ObjKeyString) keyStart = 0;
    for (let i = 0; i < chunk.length; i++) {
      let c = chunk[i];
      if (c === LF) line++;
      switch (state) {
        case ScanState.Top:
          if (isWs(c)) break;
          if (c === LBRACKET) state = ScanState.ArrElementOrEnd;
          else if (c === LBRACE) {
            wrapped = true;
            state = ScanState.ObjKey;
          } else fail(SHAPE);
          break;
        case ScanState.ObjKey:
          if (isWs(c)) break;
          if (c === QUOTE) {
            state = ScanState.ObjKeyString;
            keyStart = i + 1;
            key = [];
          } else if (c === RBRACE) {
            if (!foundItems) fail(SHAPE);
            state = ScanState.Done;
          } else fail(`expected a property name at line ${line}`);
          break;
        case ScanState.ObjKeyString:
          if (escaped) escaped = false;
          else if (c === BACKSLASH) escaped = true;
          else if (c === QUOTE) {
            key.push(chunk.subarray(keyStart, i));
            currentKey = Buffer.concat(key).toString('utf8');
            key = [];
            state = ScanState.ObjColon;
          }
          break;
        case ScanState.ObjColon:
          if (isWs(c)) break;
          if (c !== COLON) fail(`expected ':' at line ${line}`);
          state = ScanState.ObjValue;
          break;
        case ScanState.ObjValue:
          if (isWs(c)) break;
          if (currentKey === 'items' && !foundItems) {
            if (c !== LBRACKET) fail(SHAPE);
            foundItems = true;
            state = ScanState.ArrElementOrEnd;
          } else {
            state = ScanState.ObjSkipValue;
            depth = 0;
            i--; // rescan this byte as the value's first
          }
          break;
        case ScanState.ObjSkipValue:
          if (inString) {
            if (escaped) escaped = false;
            else if (c === BACKSLASH) escaped = true;
            else if (c === QUOTE) inString = false;
          } else if (c === QUOTE) inString = true;
          else if (c === LBRACE || c === LBRACKET) depth++;
          else if (c === RBRACE || c === RBRACKET) {
            if (depth === 0) {
              state = ScanState.ObjAfterValue;
              i--;
            } else depth--;
          } else if (c === COMMA && depth === 0) {
            state = ScanState.ObjAfterValue;
            i--;
          }
          break;
        case ScanState.ObjAfterValue:
          if (isWs(c)) break;
          if (c === COMMA) state = ScanState.ObjKey;
          else if (c === RBRACE) {
            if (!foundItems) fail(SHAPE);
            state = ScanState.Done;
          } else fail(`expected ',' or '}' at line ${line}`);
          break;
        case ScanState.ArrElementOrEnd:
          if (isWs(c)) break;
          if (c === RBRACKET) {
            if (row > 0) fail(`a trailing comma before ']'`);
            state = wrapped ? ScanState.ObjAfterValue : ScanState.Done;
            break;
          }
          if (c === COMMA) fail(`a missing value before ','`);
          row++;
          elementLine = line;
          state = ScanState.ArrElement;
          elementStart = i;
          depth = 0;
          inString = false;
          escaped = false;
          i--; // the element's first byte is scanned as part of it
          break;
        case ScanState.ArrElement:
          if (inString) {
            // Most of a file is string bodies: run through them in a tight loop, byte by byte as
            // above (line breaks counted), until the closing quote or the end of the chunk.
            for (;;) {
              if (escaped) escaped = false;
              else if (c === BACKSLASH) escaped = true;
              else if (c === QUOTE) {
                inString = false;
                break;
              }
              if (i + 1 >= chunk.length) break;
              c = chunk[++i];
              if (c === LF) line++;
            }
            break;
          }
          if (c === QUOTE) inString = true;
          else if (c === LBRACE || c === LBRACKET) depth++;
          else if ((c === RBRACE || c === RBRACKET) && depth > 0) depth--;
          else if (depth === 0 && (c === COMMA || c === RBRACKET)) {
            if (!oversized) parts.push(chunk.subarray(elementStart, i));
            batch.push(element());
            if (batch.length >= BATCH_ROWS) {
              yield batch;
              batch = [];
            }
            state = c === COMMA ? ScanState.ArrElementOrEnd : wrapped ? ScanState.ObjAfterValue : ScanState.Done;
            if (c === COMMA) {
              // the next element must exist: `[1,]` is an error
              state = ScanState.ArrAfterElement;
            }
          }
          break;
        case ScanState.ArrAfterElement:
          if (isWs(c)) break;
          if (c === RBRACKET) fail(`a trailing comma before ']'`);
          state = ScanState.ArrElementOrEnd;
          i--;
          break;
        case ScanState.Done:
          if (!isWs(c)) fail(`unexpected data after the end of the JSON document at line ${line}`);
          break;
      }
    }
    if (state === ScanState.ArrElement && elementStart >= 0 && !oversized) {
      partBytes += chunk.length - elementStart;
      if (partBytes > maxRecordBytes) {
        oversized = true;
        parts = [];
        partBytes = 0;
      } else parts.push(chunk.subarray(elementStart));
    }
    if (state === ScanState.ObjKeyString && keyStart >= 0) key.push(chunk.subarray(keyStart));
  }
  if (state === ScanState.Top) fail('the file has no JSON value');
  if (state !== ScanState.Done) fail('the JSON ends unexpectedly');
  if (batch.length) yield batch;
}
