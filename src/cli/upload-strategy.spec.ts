import { parseSize } from './config';
import { UsageError } from './exit';
import type { LocalFile } from './multipart';
import { planUploads } from './upload-strategy';

const MiB = 1024 * 1024;
const file = (name: string, size: number): LocalFile => ({
  path: `/data/${name}`,
  name,
  label: name,
  size,
  mtimeMs: 0,
  contentType: 'text/csv',
});

const plan = (files: LocalFile[], how: Parameters<typeof planUploads>[1]) =>
  planUploads(files, how).map((g) => [g.strategy.name, g.files.map((f) => f.name)]);

describe('planUploads', () => {
  const small = file('small.csv', 1000);
  const big = file('big.csv', 40 * MiB);
  const exact = file('exact.csv', 16 * MiB);
  const empty = file('empty.csv', 0);

  it('by size: over the threshold through a session (first), the rest in one direct request', () => {
    expect(plan([small, big, exact], { mode: 'auto', thresholdBytes: 16 * MiB })).toEqual([
      ['session', ['big.csv']],
      ['direct', ['small.csv', 'exact.csv']],
    ]);
    expect(plan([small], { mode: 'auto', thresholdBytes: 16 * MiB })).toEqual([['direct', ['small.csv']]]);
  });

  it('--session sends every non-empty file so, --direct none; --resume takes a file with a saved session', () => {
    expect(plan([small, empty], { mode: 'session', thresholdBytes: 16 * MiB })).toEqual([
      ['session', ['small.csv']],
      ['direct', ['empty.csv']],
    ]);
    expect(plan([small, big], { mode: 'direct', thresholdBytes: 16 * MiB })).toEqual([
      ['direct', ['small.csv', 'big.csv']],
    ]);
    expect(plan([small, big], { mode: 'auto', thresholdBytes: 16 * MiB, resumable: new Set([small]) })).toEqual([
      ['session', ['small.csv', 'big.csv']],
    ]);
  });
});

describe('parseSize', () => {
  it('bytes, or KiB, MiB, GiB (binary); anything else is a usage error naming the flag', () => {
    expect(parseSize('1048576', '--x')).toBe(MiB);
    expect(parseSize('16MiB', '--x')).toBe(16 * MiB);
    expect(parseSize('1.5 gib', '--x')).toBe(1.5 * 1024 * MiB);
    expect(parseSize('64KiB', '--x')).toBe(65536);
    expect(parseSize(undefined, '--x')).toBeUndefined();
    expect(parseSize(2048, '--x')).toBe(2048);
    expect(() => parseSize('16MB', '--x')).toThrow(UsageError);
    expect(() => parseSize('-1', '--x')).toThrow('--x must be a size: bytes, or a number with KiB, MiB or GiB.');
  });
});
