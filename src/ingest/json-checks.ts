import { msg } from './messages';
import { keptExactly, shownNumber } from './numbers';
import type { RecordError, SourceRecord } from './source-record';

/**
 * Rows nested deeper than this are refused. JSON.parse copes with any depth, but JSON.stringify
 * (the item store, the answers) recurses and overflows the stack at a few thousand levels.
 */
export const MAX_DEPTH = 256;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const MINUS = 0x2d;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
/** `.` followed by this many zeros: the only way to write an underflowing number without an exponent. */
const LONG_ZERO_FRACTION = '.' + '0'.repeat(300);

export function tooDeep(): RecordError {
  return { code: 'parse', error: msg.rowTooDeep(MAX_DEPTH) };
}

const enum Found {
  Nothing,
  /** A 0, which an underflowing number (`1e-400`) also becomes. */
  Zero,
  /** A number beyond ±(2^53 − 1), or not finite. */
  Unsafe,
  Deep,
}

/**
 * The first thing in a parsed JSON row that batchgate will not keep: nesting deeper than MAX_DEPTH
 * (`parse`), or a number that cannot be kept exactly (`type`, API.md "Formats"). `text` is the row as
 * written (file rows): the number is judged and quoted from it. Without it (POST /v1/batch's items,
 * which express parsed before we see them) digits beyond a double's are already gone: a number is
 * judged as the double it became, and an underflow to 0 cannot be told from a 0.
 *
 * Normal rows cost one walk over their values, with no recursion; only a row holding a suspicious
 * number is scanned as text.
 */
export function jsonRowProblem(value: unknown, text?: string): RecordError | undefined {
  // A row that is a list is refused as "not an object" by the row loop; only its depth matters here.
  return problemIn(value, text, { at: [], depth: 1, numbers: !Array.isArray(value) });
}

/**
 * The same for the JSON a CSV cell holds where the schema asks for an object or a list: the value
 * sits one level down in its row, at `field`.
 */
export function cellJsonProblem(value: unknown, text: string, field: string): RecordError | undefined {
  return problemIn(value, text, { at: [field], depth: 2, numbers: true });
}

interface Where {
  /** The path to the value within its row. */
  at: string[];
  /** The value's own level: 1 for a row. */
  depth: number;
  numbers: boolean;
}

function problemIn(value: unknown, text: string | undefined, where: Where): RecordError | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const found = walk(value, where);
  if (found === Found.Nothing) return undefined;
  if (found === Found.Deep) return tooDeep();
  if (text === undefined) return found === Found.Unsafe ? valueProblem(value, where) : undefined;
  if (found === Found.Zero && !mayUnderflow(text)) return undefined;
  return textProblem(text, where) ?? (found === Found.Unsafe ? valueProblem(value, where) : undefined);
}

/**
 * A row of a JSON or NDJSON file that JSON.parse read, as the row loop gets it: its value, or the
 * problem that skips it. The rejected-rows download never gets a too-deep value (it cannot be
 * serialized), and gets the text as written for a number the value no longer holds exactly.
 */
export function parsedRecord(row: number, line: number, value: unknown, text: string): SourceRecord {
  const problem = jsonRowProblem(value, text);
  if (!problem) return { row, line, value, raw: value };
  return { row, line, error: problem, raw: problem.code === 'type' ? text : null };
}

/** A row holding a NUL byte (API.md: a row error, whether or not a `format` was given). */
export function nulRecord(row: number, line: number, raw: unknown): SourceRecord {
  return { row, line, error: { code: 'parse', error: msg.rowHasNul() }, raw };
}

function mayUnderflow(text: string): boolean {
  return text.includes('e-') || text.includes('E-') || text.includes(LONG_ZERO_FRACTION);
}

function unsafe(v: number): boolean {
  return !(Math.abs(v) <= Number.MAX_SAFE_INTEGER);
}

/**
 * Depth first, with a stack of our own: the row may be nested far deeper than the call stack allows.
 * Written for speed, as every JSON row passes here: the stack is made only for a row that has
 * nested values, objects are read with for...in (no array of values per object), and the check of a
 * value is inlined in both loops. Most rows cost a few percent of their JSON.parse.
 */
function walk(root: object, { depth: rootDepth, numbers }: Where): Found {
  if (rootDepth > MAX_DEPTH) return Found.Deep;
  let found = Found.Nothing;
  let nodes: object[] | undefined;
  let depths: number[] | undefined;
  let node = root;
  let depth = rootDepth;
  for (;;) {
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) {
        const v: unknown = node[i];
        if (typeof v === 'number') {
          if (!numbers) continue;
          if (unsafe(v)) return Found.Unsafe;
          if (v === 0) found = Found.Zero;
        } else if (v !== null && typeof v === 'object') {
          if (depth >= MAX_DEPTH) return Found.Deep;
          (nodes ??= []).push(v);
          (depths ??= []).push(depth + 1);
        }
      }
    } else {
      for (const key in node) {
        const v = (node as Record<string, unknown>)[key];
        if (typeof v === 'number') {
          if (!numbers) continue;
          if (unsafe(v)) return Found.Unsafe;
          if (v === 0) found = Found.Zero;
        } else if (v !== null && typeof v === 'object') {
          if (depth >= MAX_DEPTH) return Found.Deep;
          (nodes ??= []).push(v);
          (depths ??= []).push(depth + 1);
        }
      }
    }
    if (!nodes?.length) return found;
    node = nodes.pop()!;
    depth = depths!.pop()!;
  }
}

function inexact(shown: string, where: Where, path: string[]): RecordError {
  const field = [...where.at, ...path].join('.');
  return { code: 'type', field, error: msg.inexactNumber(shownNumber(shown), field) };
}

/** The first unsafe number in document order, with the path to it (for values without their text). */
function valueProblem(root: object, where: Where): RecordError | undefined {
  interface Frame {
    node: object;
    keys: string[] | undefined;
    at: number;
  }
  const frame = (node: object): Frame => ({ node, keys: Array.isArray(node) ? undefined : Object.keys(node), at: 0 });
  const frames: Frame[] = [frame(root)];
  while (frames.length) {
    const f = frames[frames.length - 1];
    const size = f.keys ? f.keys.length : (f.node as unknown[]).length;
    if (f.at >= size) {
      frames.pop();
      continue;
    }
    const i = f.at++;
    const v = f.keys ? (f.node as Record<string, unknown>)[f.keys[i]] : (f.node as unknown[])[i];
    if (typeof v === 'number' && unsafe(v)) {
      return inexact(
        String(v),
        where,
        frames.map((fr) => (fr.keys ? fr.keys[fr.at - 1] : String(fr.at - 1))),
      );
    }
    if (v !== null && typeof v === 'object') {
      if (where.depth - 1 + frames.length >= MAX_DEPTH) return tooDeep();
      frames.push(frame(v));
    }
  }
  return undefined;
}

/** Where the string that opens at `start` (a quote) closes. */
function stringEnd(text: string, start: number): number {
  let j = start + 1;
  for (;;) {
    j = text.indexOf('"', j);
    if (j === -1) return text.length;
    let k = j - 1;
    while (text.charCodeAt(k) === BACKSLASH) k--;
    if ((j - 1 - k) % 2 === 0) return j;
    j++;
  }
}

function isNumberChar(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x65 || c === 0x45 || c === 0x2b || c === MINUS;
}

/**
 * The first problem in the text of a row that JSON.parse accepted: a number token that is not kept
 * exactly, with the property path to it, or nesting beyond MAX_DEPTH. String bodies are skipped with
 * indexOf; a token of at most 15 characters without an exponent is always exact.
 */
function textProblem(text: string, where: Where): RecordError | undefined {
  const isArray: boolean[] = [];
  const index: number[] = [];
  const keyStart: number[] = [];
  const keyEnd: number[] = [];
  let depth = 0;
  let expectKey = false;
  const path = (): string[] => {
    const out: string[] = [];
    for (let d = 0; d < depth; d++) {
      out.push(isArray[d] ? String(index[d]) : (JSON.parse(text.slice(keyStart[d], keyEnd[d])) as string));
    }
    return out;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const end = stringEnd(text, i);
      if (expectKey) {
        keyStart[depth - 1] = i;
        keyEnd[depth - 1] = end + 1;
        expectKey = false;
      }
      i = end;
    } else if (c === LBRACE || c === LBRACKET) {
      if (where.depth - 1 + depth >= MAX_DEPTH) return tooDeep();
      isArray[depth] = c === LBRACKET;
      index[depth] = 0;
      depth++;
      expectKey = c === LBRACE;
    } else if (c === RBRACE || c === RBRACKET) {
      depth--;
      expectKey = false;
    } else if (c === COMMA) {
      if (isArray[depth - 1]) index[depth - 1]++;
      else expectKey = true;
    } else if (c === MINUS || (c >= 0x30 && c <= 0x39)) {
      let j = i + 1;
      let exponent = false;
      for (; j < text.length; j++) {
        const d = text.charCodeAt(j);
        if (!isNumberChar(d)) break;
        if (d === 0x65 || d === 0x45) exponent = true;
      }
      if (exponent || j - i > 15) {
        const token = text.slice(i, j);
        if (!keptExactly(token, Number(token))) return inexact(token, where, path());
      }
      i = j - 1;
    }
  }
  return undefined;
}
