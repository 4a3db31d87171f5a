import { ApiError } from './api.js';
import {
  MAX_TRIES,
  SESSION_ABOVE_BYTES,
  backoffMs,
  combine,
  createRateMeter,
  needsSession,
  pairCreated,
  partFailure,
  partRange,
  sendLabel,
  sendableHeaders,
  sessionBody,
  sessionError,
  validateLabel,
} from './session-plan.js';

const MiB = 1024 * 1024;
const sized = (name: string, size: number, type = 'text/csv') => ({ name, size, type, lastModified: 1 });

describe('dashboard sessions: which files and the request', () => {
  it('sends files over 16 MiB, and any non-empty file when resumable is ticked, through a session', () => {
    expect(SESSION_ABOVE_BYTES).toBe(16 * MiB);
    expect(needsSession(sized('a.csv', 16 * MiB), false)).toBe(false);
    expect(needsSession(sized('a.csv', 16 * MiB + 1), false)).toBe(true);
    expect(needsSession(sized('a.csv', 10), true)).toBe(true);
    // A session needs at least one byte; the direct upload explains an empty file.
    expect(needsSession(sized('a.csv', 0), true)).toBe(false);
  });

  it("names each file by its path, with its type and the form's schema and format (defaults left out)", () => {
    const b = sized('b.csv', 20);
    Object.defineProperty(b, 'webkitRelativePath', { value: 'jan/b.csv' });
    expect(sessionBody([sized('a.csv', 10, ''), b], { schema: 'claims', format: 'csv' })).toEqual({
      files: [
        { filename: 'a.csv', sizeBytes: 10, schema: 'claims', format: 'csv' },
        { filename: 'jan/b.csv', sizeBytes: 20, contentType: 'text/csv', schema: 'claims', format: 'csv' },
      ],
    });
    expect(sessionBody([sized('a.csv', 10)], { schema: ' default ', format: '' })).toEqual({
      files: [{ filename: 'a.csv', sizeBytes: 10, contentType: 'text/csv' }],
    });
  });

  it('pairs the created sessions with their files in order, and the refused ones by index', () => {
    const items = [0, 1, 2].map((i) => ({ file: sized(`f${i}.csv`, 10), index: i + 5 }));
    const paired = pairCreated(
      items,
      {
        data: [{ uploadId: 'u_a' }, { uploadId: 'u_c' }],
        errors: [{ index: 1, filename: 'f1.csv', status: 413, error: { code: 'payload_too_large', message: 'big' } }],
      },
      null,
    );
    expect(paired.started.map((s) => [s.index, s.file.name, s.created.uploadId])).toEqual([
      [5, 'f0.csv', 'u_a'],
      [7, 'f2.csv', 'u_c'],
    ]);
    expect(paired.refused).toHaveLength(1);
    expect(paired.refused[0]).toMatchObject({ index: 6, name: 'f1.csv', path: null });
    expect(paired.refused[0].error).toMatchObject({ status: 413, code: 'payload_too_large', message: 'big' });
  });

  it('refuses every file with its own entry when all were refused, or with the one error of the request', () => {
    const items = [0, 1].map((i) => ({ file: sized(`f${i}.csv`, 10), index: i }));
    const all = new ApiError(413, {
      error: {
        code: 'payload_too_large',
        message: 'first',
        details: {
          files: [
            { index: 0, status: 413, error: { code: 'payload_too_large', message: 'first' } },
            { index: 1, status: 400, error: { code: 'validation_error', message: 'second' } },
          ],
        },
      },
    });
    expect(pairCreated(items, null, all).refused.map((r: any) => [r.index, r.error.code])).toEqual([
      [0, 'payload_too_large'],
      [1, 'validation_error'],
    ]);
    const free = new ApiError(402, { error: { code: 'quota_exceeded', message: 'free plan' } });
    const refused = pairCreated(items, null, free);
    expect(refused.started).toEqual([]);
    expect(refused.refused.map((r: any) => [r.index, r.error])).toEqual([
      [0, free],
      [1, free],
    ]);
  });
});

describe('dashboard sessions: parts and retries', () => {
  it('cuts a file into parts of partSize, the last one shorter', () => {
    const s = { sizeBytes: 40 * MiB, partSize: 16 * MiB, partCount: 3 };
    expect([1, 2, 3].map((n) => partRange(s, n))).toEqual([
      { start: 0, end: 16 * MiB },
      { start: 16 * MiB, end: 32 * MiB },
      { start: 32 * MiB, end: 40 * MiB },
    ]);
    expect(partRange({ sizeBytes: 10, partSize: 10, partCount: 1 }, 1)).toEqual({ start: 0, end: 10 });
  });

  it('backs off 0.5 s, 1 s, 2 s, 4 s over 5 tries', () => {
    expect(MAX_TRIES).toBe(5);
    expect([1, 2, 3, 4].map((a) => backoffMs(a))).toEqual([500, 1000, 2000, 4000]);
    expect(backoffMs(2, 100)).toBe(200);
  });

  it('tries again after no answer, 408, 429 and 5xx; asks a fresh URL after 403; stops at other refusals', () => {
    expect([0, 408, 429, 500, 502, 503].map(partFailure)).toEqual(Array(6).fill('retry'));
    expect(partFailure(403)).toBe('refresh');
    expect([400, 404, 409, 410, 413].map(partFailure)).toEqual(Array(5).fill('fail'));
  });

  it('sends the listed headers but those the browser sets itself', () => {
    expect(sendableHeaders({ 'Content-Length': '10', 'x-amz-meta-a': 'b', Host: 'h' })).toEqual({
      'x-amz-meta-a': 'b',
    });
    expect(sendableHeaders(undefined)).toEqual({});
  });
});

describe('dashboard sessions: time left and the bars', () => {
  it('estimates time left from the last seconds only, after a second of samples', () => {
    const m = createRateMeter({ windowMs: 4000, minMs: 1000 });
    m.add(0, 0);
    m.add(500, 500);
    expect(m.etaMs(1000)).toBeNull();
    m.add(1000, 1000); // 1 byte per ms
    expect(m.etaMs(5000)).toBe(5000);
    // Slower now: after the window has moved past the fast start, the estimate follows.
    for (let t = 2000; t <= 10000; t += 1000) m.add(t, 1000 + (t - 1000) / 4);
    expect(m.rate()).toBeCloseTo(0.25, 5);
    expect(m.etaMs(1000)).toBeCloseTo(4000, 0);
    expect(m.etaMs(0)).toBe(0);
    m.reset();
    expect(m.rate()).toBeNull();
  });

  it('says what was sent, the time left and a retry', () => {
    expect(sendLabel({ sent: 24 * MiB, total: 40 * MiB, etaMs: 3200 })).toBe(
      'Sending 24 MB of 40 MB (60 %) · about 4 s left',
    );
    expect(sendLabel({ sent: 0, total: 40 * MiB, etaMs: null })).toBe(
      'Sending 0 bytes of 40 MB (0 %) · estimating time left…',
    );
    expect(sendLabel({ sent: 40 * MiB, total: 40 * MiB, etaMs: 0 })).toBe('Sending 40 MB of 40 MB (100 %)');
    expect(
      sendLabel({ sent: 16 * MiB, total: 40 * MiB, etaMs: null, retry: { partNumber: 2, attempt: 1, inMs: 500 } }),
    ).toBe('Sending 16 MB of 40 MB (40 %) · estimating time left…. Part 2 failed; trying again in 1 s (try 2 of 5).');
  });

  it('says how far validation read, with the rows so far', () => {
    expect(
      validateLabel({ bytesRead: 20 * MiB, rowsRead: 120000, itemCount: 119880, validationErrorCount: 120 }, 40 * MiB),
    ).toMatch(/^Checking every row: 20 MB of 40 MB read · 120.000 rows so far \(120 skipped\)$/);
    expect(validateLabel(null, 10)).toBe('Checking every row: 0 bytes of 10 bytes read · 0 rows so far (0 skipped)');
  });
});

describe('dashboard sessions: the end', () => {
  it("reads a failed session's error as the refusal a direct upload would have had", () => {
    const e = sessionError({
      status: 400,
      error: { code: 'file_parsing_failed', message: 'No valid rows' },
      validationErrors: [{ row: 2, code: 'required', error: 'Content is empty, row skipped' }],
    });
    expect(e).toBeInstanceOf(ApiError);
    expect(e).toMatchObject({ status: 400, code: 'file_parsing_failed', message: 'No valid rows' });
    expect(e.validationErrors).toHaveLength(1);
  });

  it('puts every file back in its place as accepted or refused, with the several-files message', () => {
    const refusal = new ApiError(415, { error: { code: 'unsupported_format', message: 'no' } });
    const c = combine([
      { index: 2, result: { fileId: 'f_c', itemCount: 3 } },
      { index: 1, name: 'b.pdf', path: null, error: refusal },
      { index: 0, result: { fileId: 'f_a', itemCount: 1 } },
    ]);
    expect(c.accepted.map((u) => [u.index, u.fileId])).toEqual([
      [0, 'f_a'],
      [2, 'f_c'],
    ]);
    expect(c.refused).toEqual([{ index: 1, name: 'b.pdf', path: null, error: refusal }]);
    expect(c.message).toBe('3 files: 2 uploaded, 1 refused.');
  });
});
