import { keptExactly, numberSyntax, shownNumber } from './numbers';

// The regexes numberSyntax replaces: its answers must be theirs (they only took quadratic time).
const OLD_INTEGER = /^[+-]?\d+$/;
const OLD_NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** mulberry32: a small seeded PRNG, so a failure names the input that broke it. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('numberSyntax', () => {
  it.each([
    ['007', 'integer'],
    ['-12', 'integer'],
    ['+3', 'integer'],
    ['1.5', 'decimal'],
    ['.5', 'decimal'],
    ['1.', 'decimal'],
    ['-1.5e2', 'decimal'],
    ['1E+5', 'decimal'],
    ['', undefined],
    ['.', undefined],
    ['+', undefined],
    ['1e', undefined],
    ['1e+', undefined],
    ['e5', undefined],
    ['1 ', undefined],
    ['0x10', undefined],
    ['١٢', undefined], // non-ASCII digits are not numbers
  ])('%j is %s', (s, expected) => {
    expect(numberSyntax(s)).toBe(expected);
  });

  it('agrees with the regexes it replaces on 20,000 random strings', () => {
    const random = prng(20260115);
    const alphabet = '0123456789+-.eE x';
    for (let k = 0; k < 20000; k++) {
      let s = '';
      const len = Math.floor(random() * 10);
      for (let i = 0; i < len; i++) s += alphabet[Math.floor(random() * alphabet.length)];
      const old = OLD_INTEGER.test(s) ? 'integer' : OLD_NUMBER.test(s) ? 'decimal' : undefined;
      expect([s, numberSyntax(s)]).toEqual([s, old]);
    }
  });

  it('takes linear time on a megabyte of digits that does not end as a number', () => {
    const cell = '1'.repeat(1024 * 1024) + 'x';
    const started = Date.now();
    expect(numberSyntax(cell)).toBeUndefined();
    expect(numberSyntax(cell.slice(0, -1) + 'e')).toBeUndefined();
    // The regex took 4 s at 30,000 digits (quadratic: about an hour at this length).
    expect(Date.now() - started).toBeLessThan(3000);
  });
});

describe('keptExactly', () => {
  it.each([
    ['9007199254740991', true],
    ['-9007199254740991', true],
    ['9007199254740992', false],
    ['-9007199254740992', false],
    ['9007199254740991.5', false],
    ['9007199254740990.5', true],
    ['90071992547409910e-1', true],
    ['0.9007199254740992e16', false],
    ['12345678901234567890', false],
    ['1e15', true],
    ['1e16', false],
    ['1.5e+9999', false],
    ['1e308', false],
    ['1e-400', false],
    ['0e-400', true],
    ['-0.000', true],
    ['1e-300', true],
    ['0.1', true],
    ['123456789012345.6789', true],
    ['0007', true],
  ])('%s: %s', (token, expected) => {
    expect(keptExactly(token, Number(token))).toBe(expected);
  });

  it('shows a long number cut after 40 characters', () => {
    expect(shownNumber('12345678901234567890')).toBe('12345678901234567890');
    expect(shownNumber('9'.repeat(1000))).toBe(`${'9'.repeat(40)}…`);
  });
});
