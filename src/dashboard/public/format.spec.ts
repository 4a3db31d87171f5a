import {
  batchAnnouncement,
  batchLabel,
  batchProgress,
  batchTitle,
  cellText,
  fmt,
  formatBytes,
  formatDelimiter,
  formatDuration,
  formatEncoding,
  formatFormat,
  formatTime,
  isFinished,
  noHeaderText,
  previewColumns,
  previewNote,
  statusWord,
  truncate,
  uploadAnnouncement,
} from './format.js';

/** The reader's locale decides the separators; the specs compare with what that locale writes. */
const n = (x: number) => x.toLocaleString();

describe('dashboard format', () => {
  it('writes counts in the locale, and a dash for anything that is not a number', () => {
    expect(fmt(1234567)).toBe(n(1234567));
    expect(fmt(0)).toBe('0');
    expect(fmt(undefined)).toBe('—');
    expect(fmt(null)).toBe('—');
    expect(fmt('12')).toBe('—');
  });

  it('writes sizes in binary units, one decimal below 10', () => {
    expect(formatBytes(0)).toBe('0 bytes');
    expect(formatBytes(1023)).toBe('1023 bytes');
    expect(formatBytes(1024)).toBe('1.0 KB');
    expect(formatBytes(1536)).toBe('1.5 KB');
    expect(formatBytes(48213)).toBe('47 KB');
    expect(formatBytes(10 * 1024 * 1024)).toBe('10 MB');
    expect(formatBytes(1024 ** 3)).toBe('1.0 GB');
    // GB is the largest unit.
    expect(formatBytes(5 * 1024 ** 4)).toBe('5120 GB');
    expect(formatBytes(undefined)).toBe('—');
  });

  it('writes time left rounded up to the second, never negative', () => {
    expect(formatDuration(0)).toBe('0 s');
    expect(formatDuration(-5000)).toBe('0 s');
    expect(formatDuration(1)).toBe('1 s');
    expect(formatDuration(59_001)).toBe('1 min 0 s');
    expect(formatDuration(185_000)).toBe('3 min 5 s');
    expect(formatDuration(3_600_000)).toBe('1 h 0 min');
    expect(formatDuration(4_830_000)).toBe('1 h 20 min');
  });

  it('writes ISO times in the locale and leaves what is not a time as it is', () => {
    const iso = '2026-01-15T11:30:00.000Z';
    expect(formatTime(iso)).toBe(new Date(iso).toLocaleString());
    expect(formatTime('soon')).toBe('soon');
    expect(formatTime(null)).toBe('—');
  });

  it('describes how the file was read', () => {
    expect(formatFormat({ format: 'csv', schema: 'default', parsing: { compressed: true } })).toBe(
      'CSV, gzip · schema “default”',
    );
    expect(formatFormat({ format: 'ndjson', schema: 'claims' })).toBe('NDJSON · schema “claims”');
    expect(formatEncoding({ encoding: 'utf-8', bom: true })).toBe('utf-8, with BOM');
    expect(formatEncoding(undefined)).toBe('—');
    expect(formatDelimiter({ delimiter: ',', lineEnding: 'crlf' })).toBe('comma ( , ), line ending CRLF (Windows)');
    expect(formatDelimiter({ delimiter: '\t' })).toBe('tab');
    expect(formatDelimiter({ delimiter: '#', lineEnding: 'weird' })).toBe('"#", line ending weird');
    // JSON and NDJSON have no delimiter (API.md: `parsing` has it for CSV only).
    expect(formatDelimiter({ encoding: 'utf-8' })).toBe('not applicable');
    expect(noHeaderText('csv')).toBe('—');
    expect(noHeaderText('json')).toBe('not applicable (no header row in json)');
  });

  it('announces an upload with singular and plural rows', () => {
    expect(uploadAnnouncement({ itemCount: 370, validationErrorCount: 130 })).toBe(
      'Upload checked: 370 items accepted, 130 rows skipped.',
    );
    expect(uploadAnnouncement({ itemCount: 2, validationErrorCount: 1 })).toBe(
      'Upload checked: 2 items accepted, 1 row skipped.',
    );
  });

  it('shows preview cells as text, other values as JSON, long ones cut', () => {
    expect(cellText('007')).toBe('007');
    expect(cellText(7)).toBe('7');
    expect(cellText({ a: [1] })).toBe('{"a":[1]}');
    expect(cellText(false)).toBe('false');
    expect(cellText(null)).toBeNull();
    expect(cellText(undefined)).toBeNull();
    expect(truncate('x'.repeat(200))).toBe('x'.repeat(200));
    expect(truncate('x'.repeat(201))).toBe(`${'x'.repeat(200)}…`);
    expect(truncate('abcdef', 3)).toBe('abc…');
  });

  it('takes the preview columns from every item, in first-seen order', () => {
    const items = [
      { row: 2, item: { content: 'a' } },
      { row: 3, item: { content: 'b', externalId: '1' } },
      { row: 4, item: { metadata: {}, content: 'c' } },
    ];
    expect(previewColumns(items)).toEqual(['content', 'externalId', 'metadata']);
    expect(previewColumns([])).toEqual([]);
    expect(previewNote(20, 370)).toBe('The first 20 of 370 accepted items, after type coercion.');
    expect(previewNote(0, 0)).toBe('No item was accepted.');
  });

  it('describes a batch in progress and a finished one', () => {
    const running = {
      id: 'b_1',
      name: null,
      status: 'processing',
      itemCount: 3,
      processedCount: 1,
      succeededCount: 1,
      failedCount: 0,
      source: { type: 'file', fileId: 'f_1', originalFileName: 'claims.csv' },
    };
    expect(batchProgress(running)).toEqual({
      pct: 33,
      label: 'Processed 1 of 3 items (33 %)',
      counts: '1 succeeded, 0 failed',
      finished: false,
    });
    expect(batchAnnouncement(running)).toBe('Batch processing.');
    expect(batchTitle(running)).toBe('claims.csv · b_1');
    expect(batchLabel(running)).toBe('claims.csv');

    const failed = {
      ...running,
      status: 'failed',
      processedCount: 3,
      failedCount: 2,
      error: { message: 'Webhook down' },
    };
    expect(batchProgress(failed)).toMatchObject({
      pct: 100,
      counts: '1 succeeded, 2 failed. Webhook down',
      finished: true,
    });
    expect(batchAnnouncement(failed)).toBe('Batch failed: 3 of 3 items processed, 1 succeeded, 2 failed.');
    expect(batchProgress({ ...running, itemCount: 0, processedCount: 0 }).pct).toBe(0);
    expect(batchProgress({ ...running, error: 'plain' }).counts).toBe('1 succeeded, 0 failed. plain');

    expect(batchTitle({ ...running, name: 'January' })).toBe('January · b_1');
    expect(batchLabel({ id: 'b_2', name: null, source: { type: 'items' } })).toBe('direct items');
    const files = { type: 'files', files: [{ fileId: 'f_a' }, { fileId: 'f_b' }] };
    expect(batchLabel({ id: 'b_4', name: null, source: files })).toBe('2 files');
    expect(batchTitle({ id: 'b_4', name: null, source: files })).toBe('2 files · b_4');
    expect(batchLabel({ id: 'b_3', name: null, source: { type: 'file', originalFileName: null } })).toBe('b_3');
  });

  it('knows the finished statuses and their words', () => {
    expect(['queued', 'processing', 'completed', 'failed', 'cancelled'].map(isFinished)).toEqual([
      false,
      false,
      true,
      true,
      true,
    ]);
    expect(statusWord('cancelled')).toBe('Cancelled');
    expect(statusWord('paused')).toBe('paused');
  });
});
