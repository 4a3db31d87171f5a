import { ApiError } from './api.js';
import {
  cardCounts,
  cardWarnings,
  duplicateNote,
  fileNames,
  filePath,
  filesFromEntries,
  resultsFiles,
  resultsPeek,
  severalAnnouncement,
  summarise,
  uploadForm,
} from './several.js';

const upload = (over: Record<string, unknown> = {}) => ({
  fileId: 'f_a',
  originalFileName: 'a.csv',
  path: null,
  itemCount: 3,
  validationErrorCount: 1,
  validationErrors: [{ row: 4, line: 4, field: 'content', code: 'required', error: 'Content is empty, row skipped' }],
  duplicateOf: null,
  message: 'File uploaded with 1 validation warning(s). Items with errors were skipped.',
  ...over,
});

describe('dashboard several files: the form', () => {
  it('sends each file under its relative path, else its name, after schema and format', async () => {
    const a = new File(['content\nx\n'], 'a.csv', { type: 'text/csv' });
    const b = new File(['content\ny\n'], 'b.csv', { type: 'text/csv' });
    Object.defineProperty(b, 'webkitRelativePath', { value: 'jan/b.csv' });
    expect(filePath(a)).toBe('a.csv');
    expect(filePath(b)).toBe('jan/b.csv');
    const form = uploadForm([a, b], { schema: 'claims', format: 'csv' });
    const entries = [...form.entries()];
    expect(entries.map(([k]) => k)).toEqual(['schema', 'format', 'file', 'file']);
    expect(entries[0][1]).toBe('claims');
    const names = form.getAll('file').map((f) => (f as File).name);
    expect(names).toEqual(['a.csv', 'jan/b.csv']);
    await expect((form.getAll('file')[1] as File).text()).resolves.toBe('content\ny\n');
  });

  it('leaves out the default schema and a detected format', () => {
    const form = uploadForm([new File(['x'], 'a.csv')], { schema: ' default ', format: '' });
    expect([...form.keys()]).toEqual(['file']);
  });
});

describe('dashboard several files: the answer', () => {
  it('reads a several-files answer as accepted and refused cards, in index order', () => {
    const s = summarise(200, {
      files: [{ index: 0, ...upload({ path: 'jan/a.csv' }) }],
      errors: [
        {
          index: 1,
          originalFileName: 'b.pdf',
          path: null,
          status: 415,
          error: { code: 'unsupported_format', message: 'binary' },
          validationErrors: [],
        },
      ],
      message: '2 files: 1 uploaded, 1 refused.',
    });
    expect(s!.accepted.map((u: { fileId: string }) => u.fileId)).toEqual(['f_a']);
    expect(s!.refused).toHaveLength(1);
    expect(s!.refused[0]).toMatchObject({ index: 1, name: 'b.pdf', path: null });
    expect(s!.refused[0].error).toBeInstanceOf(ApiError);
    expect(s!.refused[0].error).toMatchObject({ status: 415, code: 'unsupported_format', message: 'binary' });
    expect(s!.message).toBe('2 files: 1 uploaded, 1 refused.');
    expect(severalAnnouncement(s!)).toBe('2 files checked: 1 accepted (3 items), 1 refused.');
  });

  it('reads a single-file body as one accepted card', () => {
    const s = summarise(200, upload());
    expect(s!.accepted).toHaveLength(1);
    expect(s!.refused).toEqual([]);
  });

  it('reads a request whose every file was refused from details.files', () => {
    const s = summarise(415, {
      error: {
        code: 'unsupported_format',
        message: 'no file',
        details: {
          files: [
            {
              index: 0,
              originalFileName: 'x.pdf',
              path: 'd/x.pdf',
              status: 415,
              error: { code: 'unsupported_format', message: 'binary' },
              validationErrors: [],
            },
            {
              index: 1,
              originalFileName: 'e.csv',
              path: null,
              status: 400,
              error: { code: 'file_parsing_failed', message: 'empty' },
              validationErrors: [{ row: 1, error: 'no header' }],
            },
          ],
        },
      },
    });
    expect(s!.accepted).toEqual([]);
    expect(
      s!.refused.map((r: { name: string; path: string | null; error: ApiError }) => [r.name, r.path, r.error.code]),
    ).toEqual([
      ['x.pdf', 'd/x.pdf', 'unsupported_format'],
      ['e.csv', null, 'file_parsing_failed'],
    ]);
    expect(s!.refused[1].error.validationErrors).toHaveLength(1);
  });

  it('gives null for an answer that is neither (a plain error)', () => {
    expect(summarise(401, { error: { code: 'unauthorized', message: '' } })).toBeNull();
    expect(summarise(0, null)).toBeNull();
  });

  it('shows counts and the first warnings compactly', () => {
    expect(cardCounts(upload())).toBe('3 items accepted, 1 row skipped');
    expect(cardCounts(upload({ itemCount: 1, validationErrorCount: 2 }))).toBe('1 item accepted, 2 rows skipped');
    expect(cardCounts(upload({ itemCount: 1200, validationErrorCount: 0 }))).toBe(
      `${(1200).toLocaleString()} items accepted, 0 rows skipped`,
    );
    expect(cardWarnings(upload())).toEqual(['Row 4, column content: Content is empty, row skipped']);
    const many = Array.from({ length: 5 }, (_, i) => ({ row: i + 2, error: 'bad' }));
    expect(cardWarnings(upload({ validationErrors: many }))).toEqual(['Row 2: bad', 'Row 3: bad', 'Row 4: bad']);
  });
});

describe('dashboard several files: duplicates', () => {
  it('says when the same bytes were uploaded before, and where they went', () => {
    expect(duplicateNote(null)).toBeNull();
    expect(duplicateNote(undefined)).toBeNull();
    expect(duplicateNote({ fileId: 'f_1', status: 'consumed', batchId: 'b_9', createdAt: 'x' })).toBe(
      'Same bytes as an earlier upload (f_1), already in batch b_9.',
    );
    expect(duplicateNote({ fileId: 'f_1', status: 'available', createdAt: 'x' })).toBe(
      'Same bytes as an earlier upload (f_1), not used in a batch yet.',
    );
  });
});

describe('dashboard several files: results', () => {
  const ndjson = [
    '{"fileId":"f_a","path":"jan/a.csv","row":2,"status":"succeeded","output":{}}',
    '{"fileId":"f_a","path":"jan/a.csv","row":3,"status":"failed","error":"boom"}',
    '',
    'not json',
    '{"fileId":"f_b","row":2,"status":"succeeded","output":{}}',
  ].join('\n');

  it('shows the first lines with their file and row', () => {
    expect(resultsPeek(ndjson)).toEqual([
      'jan/a.csv row 2: succeeded',
      'jan/a.csv row 3: failed (boom)',
      'f_b row 2: succeeded',
    ]);
    expect(resultsPeek(ndjson, 1)).toEqual(['jan/a.csv row 2: succeeded']);
  });

  it('lists the files the results mention', () => {
    expect(resultsFiles(ndjson)).toEqual(['jan/a.csv', 'f_b']);
  });

  it('names a file without a path by the name its card shows', () => {
    const names = fileNames([upload({ fileId: 'f_b', originalFileName: 'b.csv' }), upload({ path: 'jan/a.csv' })]);
    expect(names).toEqual({ f_b: 'b.csv', f_a: 'jan/a.csv' });
    expect(resultsFiles(ndjson, names)).toEqual(['jan/a.csv', 'b.csv']);
    expect(resultsPeek(ndjson, 5, names)[2]).toBe('b.csv row 2: succeeded');
  });
});

describe('dashboard several files: a dropped folder', () => {
  const file = (name: string, fullPath: string) => ({
    isFile: true,
    isDirectory: false,
    name,
    fullPath,
    file: (ok: (f: File) => void) => ok(new File([name], name)),
  });
  const dir = (name: string, fullPath: string, children: unknown[]) => ({
    isFile: false,
    isDirectory: true,
    name,
    fullPath,
    createReader: () => {
      // Two chunks, then the empty one that ends reading.
      const chunks = [children.slice(0, 1), children.slice(1), []];
      return { readEntries: (ok: (e: unknown[]) => void) => ok(chunks.shift() ?? []) };
    },
  });

  it('reads folders through, giving each file inside its relative path', async () => {
    const files = await filesFromEntries([
      file('top.csv', '/top.csv'),
      dir('jan', '/jan', [file('a.csv', '/jan/a.csv'), dir('w1', '/jan/w1', [file('b.csv', '/jan/w1/b.csv')])]),
      null,
    ]);
    expect(files.map((f) => f.name)).toEqual(['top.csv', 'a.csv', 'b.csv']);
    expect(files.map((f) => filePath(f))).toEqual(['top.csv', 'jan/a.csv', 'jan/w1/b.csv']);
  });
});
