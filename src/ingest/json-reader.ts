import { IngestError } from './types';
import { msg } from './messages';
import { formatBytes } from '../common/format';
import { BoundedText } from './bounded-text';
import { MAX_DEPTH, nulRecord, parsedRecord, tooDeep } from './json-checks';
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
  /** The document is not an array or an object: its text is gathered to say what it is. */
  Scalar,
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
const NOT_ROWS = 'not an array of objects or an object with an "items" array';

/** What a valid JSON document that holds no rows is, in the words of the answer. */
function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return 'a string';
  if (typeof value === 'number') return 'a number';
  if (typeof value === 'boolean') return 'true or false';
  return 'an object without an "items" array';
}

/** Whether `c` can start a JSON value other than an array or an object. */
function startsValue(c: number): boolean {
  return c === QUOTE || c === 0x2d || (c >= 0x30 && c <= 0x39) || c === 0x74 || c === 0x66 || c === 0x6e;
}

function notRows(kind: string): IngestError {
  return new IngestError('file_parsing_failed', `The file is valid JSON, but ${kind}, ${NOT_ROWS}`);
}

/**
 * A JSON array (or `{ "items": [...] }`) read element by element: a byte scanner finds each
 * element's bounds (strings, escapes and nesting tracked across chunks) and JSON.parse reads
 * just that element, so memory is bounded by the largest row, never the file.
 * UTF-8 multi-byte sequences never contain ASCII bytes, so scanning bytes is safe.
 */
export async function* readJson(
  src: AsyncIterable<Buffer>,
  maxRecordBytes: number,
  /**
   * A chunk of whole elements from the middle of a top-level array (the ingest pool), read as an
   * array of its own (`[` + chunk + `]`) whose first element is row `row + 1`, on line `line`.
   */
  chunk?: { row: number; line: number; onEnd?: (row: number) => void },
): AsyncGenerator<SourceRecord[]> {
  let state = ScanState.Top as ScanState;
  let line = chunk?.line ?? 1;
  let row = chunk?.row ?? 0;
  let foundItems = false;
  let inString = false;
  let escaped = false;
  let depth = 0;
  /** The deepest nesting of the element being read; past MAX_DEPTH it is skipped unparsed. */
  let elementDepth = 0;
  let elementLine = 1;
  let key: Buffer[] = [];
  let currentKey = '';
  let wrapped = false;
  let batch: SourceRecord[] = [];
  // A wrapper object without "items" is only called valid JSON if every value it holds parsed.
  let wrapperInvalid: string | undefined;
  let wrapperUnchecked = false;
  let afterComma = false;

  // The value being read: an element, a value of the wrapper object, or a top-level scalar.
  const gathered = new BoundedText(maxRecordBytes);
  const collect = (chunk: Buffer, from: number, to: number) => gathered.add(chunk, from, to);
  const take = () => gathered.take();

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

  /** A property name of the wrapper object, its escapes decoded. */
  const propertyName = (raw: string): string => {
    try {
      return JSON.parse(`"${raw}"`) as string;
    } catch (e) {
      wrapperInvalid ??= jsonDetail(e);
      return raw;
    }
  };

  /** The wrapper object closed without an "items" array. */
  const noItems = (): never => {
    if (wrapperInvalid !== undefined) fail(wrapperInvalid);
    if (wrapperUnchecked) {
      throw new IngestError('file_parsing_failed', `The file is an object without an "items" array, ${NOT_ROWS}`);
    }
    throw notRows(kindOf({}));
  };

  /** A value of the wrapper object ended (not "items"): checked while no "items" array was found. */
  const skippedValue = (): void => {
    const text = take();
    if (foundItems || wrapperInvalid !== undefined) return;
    if (text === undefined) {
      wrapperUnchecked = true;
      return;
    }
    try {
      JSON.parse(text);
    } catch (e) {
      wrapperInvalid = jsonDetail(e);
    }
  };

  /** The document was one value that is neither an array nor an object. */
  const scalar = (): never => {
    const text = take();
    if (text === undefined) fail(SHAPE);
    let value: unknown;
    try {
      value = JSON.parse(text!);
    } catch (e) {
      fail(jsonDetail(e));
    }
    throw notRows(kindOf(value));
  };

  function element(): SourceRecord {
    const text = take();
    if (text === undefined) {
      return {
        row,
        line: elementLine,
        error: { code: 'parse', error: msg.rowTooLarge(formatBytes(maxRecordBytes)) },
        raw: null,
      };
    }
    if (elementDepth > MAX_DEPTH) return { row, line: elementLine, error: tooDeep(), raw: null };
    if (text.includes('\u0000')) return nulRecord(row, elementLine, text);
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
    return parsedRecord(row, elementLine, value, text);
  }

  for await (const chunk of src) {
    let elementStart = -1;
    let keyStart = -1;
    if (state === ScanState.Scalar) {
      collect(chunk, 0, chunk.length);
      if (gathered.oversized) fail(SHAPE);
      continue;
    }
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
          } else if (startsValue(c)) {
            // The rest of the file is that one value: gathered (below) to say what it is.
            state = ScanState.Scalar;
            elementStart = i;
            i = chunk.length;
          } else fail(SHAPE);
          break;
        case ScanState.Scalar:
          break;
        case ScanState.ObjKey:
          if (isWs(c)) break;
          if (c === QUOTE) {
            state = ScanState.ObjKeyString;
            keyStart = i + 1;
            key = [];
          } else if (c === RBRACE) {
            // Tolerated after an "items" array, as it always was; it is not valid JSON though.
            if (afterComma) wrapperInvalid ??= `a trailing comma before '}'`;
            if (!foundItems) noItems();
            state = ScanState.Done;
          } else fail(`expected a property name at line ${line}`);
          break;
        case ScanState.ObjKeyString:
          if (escaped) escaped = false;
          else if (c === BACKSLASH) escaped = true;
          else if (c === QUOTE) {
            key.push(chunk.subarray(keyStart, i));
            currentKey = propertyName(Buffer.concat(key).toString('utf8'));
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
          if (currentKey === 'items' && !foundItems && c === LBRACKET) {
            foundItems = true;
            state = ScanState.ArrElementOrEnd;
          } else {
            // Any other value (an "items" that is not an array too) is skipped, checked only while
            // it may decide what the answer says of a file without an "items" array.
            state = ScanState.ObjSkipValue;
            depth = 0;
            elementStart = i;
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
          else if (c === RBRACE || c === RBRACKET || (c === COMMA && depth === 0)) {
            if (depth === 0) {
              if (!foundItems) collect(chunk, elementStart, i);
              skippedValue();
              state = ScanState.ObjAfterValue;
              i--;
            } else depth--;
          }
          break;
        case ScanState.ObjAfterValue:
          if (isWs(c)) break;
          if (c === COMMA) {
            state = ScanState.ObjKey;
            afterComma = true;
          } else if (c === RBRACE) {
            if (!foundItems) noItems();
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
          elementDepth = 0;
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
          else if (c === LBRACE || c === LBRACKET) {
            if (++depth > elementDepth) elementDepth = depth;
          } else if ((c === RBRACE || c === RBRACKET) && depth > 0) depth--;
          else if (depth === 0 && (c === COMMA || c === RBRACKET)) {
            collect(chunk, elementStart, i);
            batch.push(element());
            if (batch.length >= BATCH_ROWS) {
              yield batch;
              batch = [];
            }
            // After a comma the next element must exist: `[1,]` is an error.
            state = c === COMMA ? ScanState.ArrAfterElement : wrapped ? ScanState.ObjAfterValue : ScanState.Done;
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
    if (elementStart >= 0) {
      if (state === ScanState.ArrElement || state === ScanState.Scalar) collect(chunk, elementStart, chunk.length);
      else if (state === ScanState.ObjSkipValue && !foundItems) collect(chunk, elementStart, chunk.length);
      if (state === ScanState.Scalar && gathered.oversized) fail(SHAPE);
    }
    if (state === ScanState.ObjKeyString && keyStart >= 0) key.push(chunk.subarray(keyStart));
  }
  if (state === ScanState.Top) fail('the file has no JSON value');
  if (state === ScanState.Scalar) scalar();
  if (state !== ScanState.Done) fail('the JSON ends unexpectedly');
  if (batch.length) yield batch;
  chunk?.onEnd?.(row);
}
