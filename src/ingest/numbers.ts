/**
 * Numbers as text: what a CSV cell spells, and whether a number as written survives as a double.
 * Everything here is one pass over the characters: the regex this replaces
 * (`/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/`) backtracked quadratically on a long run of digits
 * that did not end as a number (30,000 digits and an `x` held the event loop for 4 s).
 */

const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const MAX_SAFE_BIG = BigInt(Number.MAX_SAFE_INTEGER);
/** Doubles this close to 2^53 − 1 may be a rounded neighbour of a value beyond it: decided digit by digit. */
const NEAR_SAFE = MAX_SAFE - 1;

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/**
 * What `s` spells: `integer` (`[+-]?\d+`), `decimal` (`[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?`, e.g.
 * `1.5`, `.5`, `1.`, `-2e3`), or undefined when it is not a number. ASCII digits only, no spaces.
 */
export function numberSyntax(s: string): 'integer' | 'decimal' | undefined {
  const n = s.length;
  let i = 0;
  const sign = s.charCodeAt(0);
  if (sign === 0x2b || sign === 0x2d) i++;
  const intStart = i;
  while (i < n && isDigit(s.charCodeAt(i))) i++;
  const intDigits = i - intStart;
  let fracDigits = 0;
  let plain = true;
  if (i < n && s.charCodeAt(i) === 0x2e) {
    plain = false;
    const fracStart = ++i;
    while (i < n && isDigit(s.charCodeAt(i))) i++;
    fracDigits = i - fracStart;
  }
  if (intDigits === 0 && fracDigits === 0) return undefined;
  const e = s.charCodeAt(i);
  if (e === 0x65 || e === 0x45) {
    plain = false;
    i++;
    const expSign = s.charCodeAt(i);
    if (expSign === 0x2b || expSign === 0x2d) i++;
    const expStart = i;
    while (i < n && isDigit(s.charCodeAt(i))) i++;
    if (i === expStart) return undefined;
  }
  if (i !== n) return undefined;
  return plain ? 'integer' : 'decimal';
}

/** Whether a digit 1-9 occurs before the exponent: the number as written is not zero. */
function nonZeroMantissa(token: string): boolean {
  for (let i = 0; i < token.length; i++) {
    const c = token.charCodeAt(i);
    if (c === 0x65 || c === 0x45) return false;
    if (c >= 0x31 && c <= 0x39) return true;
  }
  return false;
}

/** Whether the number `token` spells is beyond 2^53 − 1 in magnitude, decided on the decimal digits. */
function beyondSafe(token: string): boolean {
  const i = token.charCodeAt(0) === 0x2b || token.charCodeAt(0) === 0x2d ? 1 : 0;
  let end = token.length;
  let exp = 0;
  for (let k = i; k < token.length; k++) {
    const c = token.charCodeAt(k);
    if (c === 0x65 || c === 0x45) {
      end = k;
      exp = Number(token.slice(k + 1));
      break;
    }
  }
  const mantissa = token.slice(i, end);
  const dot = mantissa.indexOf('.');
  const digits = dot === -1 ? mantissa : mantissa.slice(0, dot) + mantissa.slice(dot + 1);
  const point = (dot === -1 ? mantissa.length : dot) + exp;
  // Only called for values within a few units of 2^53, so `point` is small.
  const whole = point <= 0 ? '0' : digits.slice(0, point).padEnd(point, '0');
  const rest = point <= 0 ? digits : digits.slice(point);
  const n = BigInt(whole);
  return n > MAX_SAFE_BIG || (n === MAX_SAFE_BIG && /[1-9]/.test(rest));
}

/**
 * Whether the number written as `token` (JSON or CSV syntax) is kept exactly as `value`, its double
 * (API.md "Formats"): not beyond ±(2^53 − 1) (every double that large is an integer, and most such
 * integers are not doubles), not beyond the double range (Infinity), and not a non-zero number
 * that underflows to 0.
 */
export function keptExactly(token: string, value: number): boolean {
  if (!Number.isFinite(value)) return false;
  const magnitude = Math.abs(value);
  if (magnitude === 0) return !nonZeroMantissa(token);
  if (magnitude < NEAR_SAFE) return true;
  if (magnitude > MAX_SAFE + 1) return false;
  return !beyondSafe(token);
}

/** A number as a row error shows it: as written, cut after 40 characters (a cell may hold a megabyte of digits). */
export function shownNumber(token: string): string {
  return token.length > 40 ? `${token.slice(0, 40)}…` : token;
}
