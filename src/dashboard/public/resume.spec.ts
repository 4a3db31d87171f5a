import {
  PENDING_KEY,
  addPending,
  interruptedText,
  matchFiles,
  mismatchText,
  readPending,
  recordOf,
  removePending,
  resumeOffer,
  sameFile,
} from './resume.js';

/** localStorage's interface over a Map: what the page passes in. */
function memoryStorage() {
  const m = new Map<string, string>();
  return {
    getItem: (k: string) => (m.has(k) ? m.get(k)! : null),
    setItem: (k: string, v: string) => void m.set(k, String(v)),
    removeItem: (k: string) => void m.delete(k),
    has: (k: string) => m.has(k),
  };
}

const MiB = 1024 * 1024;
const file = (name: string, size: number, lastModified = 1000) => ({ name, size, lastModified, type: 'text/csv' });
const created = (uploadId: string, expiresAt = '2030-01-01T00:00:00.000Z') => ({ uploadId, expiresAt });

describe('dashboard resume: what is kept', () => {
  it('keeps the session id, name, path, size and modification time of each file; no key', () => {
    const store = memoryStorage();
    const b = file('b.csv', 20);
    Object.defineProperty(b, 'webkitRelativePath', { value: 'jan/b.csv' });
    addPending(store, recordOf(file('a.csv', 40 * MiB), created('u_a')));
    addPending(store, recordOf(b, created('u_b')));
    expect(readPending(store, Date.parse('2026-01-01'))).toEqual([
      {
        uploadId: 'u_a',
        name: 'a.csv',
        path: null,
        size: 40 * MiB,
        lastModified: 1000,
        expiresAt: '2030-01-01T00:00:00.000Z',
      },
      {
        uploadId: 'u_b',
        name: 'b.csv',
        path: 'jan/b.csv',
        size: 20,
        lastModified: 1000,
        expiresAt: '2030-01-01T00:00:00.000Z',
      },
    ]);
    removePending(store, 'u_a');
    expect(readPending(store).map((r) => r.uploadId)).toEqual(['u_b']);
    removePending(store, 'u_b');
    expect(store.has(PENDING_KEY)).toBe(false);
  });

  it('drops expired sessions and anything unreadable', () => {
    const store = memoryStorage();
    addPending(store, recordOf(file('old.csv', 1), created('u_old', '2026-01-01T00:00:00.000Z')));
    addPending(store, recordOf(file('new.csv', 1), created('u_new', '2026-01-03T00:00:00.000Z')));
    expect(readPending(store, Date.parse('2026-01-02')).map((r) => r.uploadId)).toEqual(['u_new']);
    // What was dropped is forgotten for good.
    expect(JSON.parse(store.getItem(PENDING_KEY)!).map((r: any) => r.uploadId)).toEqual(['u_new']);
    store.setItem(PENDING_KEY, '{not json');
    expect(readPending(store)).toEqual([]);
    store.setItem(PENDING_KEY, JSON.stringify([{ uploadId: 3 }, 'x', null]));
    expect(readPending(store)).toEqual([]);
  });

  it('goes on when the storage refuses to write', () => {
    const store = {
      getItem: () => null,
      setItem: () => {
        throw new Error('QuotaExceededError');
      },
      removeItem: () => undefined,
    };
    expect(() => addPending(store, recordOf(file('a.csv', 1), created('u_a')))).not.toThrow();
  });
});

describe('dashboard resume: the same file again', () => {
  const record = recordOf(file('big.csv', 40 * MiB, 5000), created('u_big'));

  it('takes only a file of the same name, size and modification time', () => {
    expect(sameFile(record, file('big.csv', 40 * MiB, 5000))).toBe(true);
    expect(sameFile(record, file('other.csv', 40 * MiB, 5000))).toBe(false);
    expect(sameFile(record, file('big.csv', 40 * MiB - 1, 5000))).toBe(false);
    expect(sameFile(record, file('big.csv', 40 * MiB, 6000))).toBe(false);
    expect(sameFile({ ...record, lastModified: null }, file('big.csv', 40 * MiB, 6000))).toBe(true);
  });

  it('matches each record with one picked file, and says which are left', () => {
    const a = recordOf(file('a.csv', 10), created('u_a'));
    const b = recordOf(file('b.csv', 20), created('u_b'));
    const picked = [file('b.csv', 20), file('c.csv', 30), file('a.csv', 10)];
    const m = matchFiles([a, b, record], picked);
    expect(m.pairs.map((p) => [p.record.uploadId, p.file.name])).toEqual([
      ['u_a', 'a.csv'],
      ['u_b', 'b.csv'],
    ]);
    expect(m.unmatched).toEqual([record]);
    expect(m.strangers.map((f) => f.name)).toEqual(['c.csv']);
  });

  it('offers the resume in words, and says what to choose when the file is not the one', () => {
    expect(resumeOffer([record])).toBe('Resume upload of big.csv (40 MB)');
    const b = { ...recordOf(file('b.csv', 24 * MiB), created('u_b')), path: 'jan/b.csv' };
    expect(resumeOffer([record, b])).toBe('Resume upload of 2 files (64 MB): big.csv, jan/b.csv');
    expect(interruptedText([record])).toBe(
      'The upload of big.csv (40 MB) was interrupted. To resume it, choose the same file again: ' +
        'only the parts batchgate has not received are sent.',
    );
    expect(interruptedText([record, b])).toMatch(
      /^The upload of big\.csv \(40 MB\), jan\/b\.csv \(24 MB\) was interrupted\. To resume them, choose the same files again/,
    );
    expect(mismatchText([record])).toMatch(
      /^That is not the file that was being uploaded\. Choose big\.csv \(40 MB\) again/,
    );
  });
});
