import { ALL, createWarnings, filterOptions, matches, rangeText, WHOLE_ROW } from './warnings.js';

interface Warning {
  row: number;
  field?: string;
  code: string;
  error: string;
}

/**
 * 130 warnings, as the browser test's file has them: rows 5, 9, ..., 401 have no content (100,
 * `required`), rows 402..431 an externalId too long (30, `maxLength`); plus, when asked, one whole-row error.
 */
function warnings(wholeRow = false): Warning[] {
  const out: Warning[] = [];
  for (let i = 1; i <= 430; i++) {
    if (i % 4 === 0 && i <= 400)
      out.push({ row: i + 1, field: 'content', code: 'required', error: 'Content is empty' });
    else if (i > 400) out.push({ row: i + 1, field: 'externalId', code: 'maxLength', error: 'Too long' });
  }
  if (wholeRow) out.push({ row: 500, code: 'parse', error: 'Too many cells' });
  return out;
}

function summaryOf(list: Warning[]) {
  const counts = new Map<string, { field?: string; code: string; count: number }>();
  for (const w of list) {
    const k = `${w.field}|${w.code}`;
    const entry = counts.get(k) ?? { ...(w.field !== undefined && { field: w.field }), code: w.code, count: 0 };
    entry.count++;
    counts.set(k, entry);
  }
  return [...counts.values()];
}

/** GET …/errors over `list`, recording each (offset, limit) asked for. */
function server(list: Warning[]) {
  const asked: [number, number][] = [];
  const fetchPage = (offset: number, limit: number) => {
    asked.push([offset, limit]);
    const data = list.slice(offset, offset + limit);
    return Promise.resolve({ data, meta: { offset, limit, count: data.length, total: list.length } });
  };
  return { asked, fetchPage };
}

function model(list: Warning[], opts: { pageSize?: number; chunk?: number } = {}) {
  const s = server(list);
  const w = createWarnings({
    total: list.length,
    summary: summaryOf(list),
    fetchPage: s.fetchPage,
    pageSize: opts.pageSize ?? 50,
    chunk: opts.chunk ?? 1000,
  });
  return { w, asked: s.asked };
}

const rowsOf = (view: { rows: Warning[] } | null) => view!.rows.map((r) => r.row);

describe('dashboard warnings model', () => {
  it('matches by column (a whole-row error has none) and by rule', () => {
    const content = { row: 5, field: 'content', code: 'required' };
    const whole = { row: 9, code: 'parse' };
    expect(matches({ field: ALL, code: ALL }, content)).toBe(true);
    expect(matches({ field: 'content', code: ALL }, content)).toBe(true);
    expect(matches({ field: 'externalId', code: ALL }, content)).toBe(false);
    expect(matches({ field: ALL, code: 'maxLength' }, content)).toBe(false);
    expect(matches({ field: WHOLE_ROW, code: ALL }, whole)).toBe(true);
    expect(matches({ field: WHOLE_ROW, code: ALL }, content)).toBe(false);
    expect(matches({ field: 'content', code: 'parse' }, whole)).toBe(false);
  });

  it('offers the filters with the counts of errorSummary', () => {
    const options = filterOptions(summaryOf(warnings(true)));
    expect(options.columns.map((o) => o.label)).toEqual([
      'All columns (131)',
      'content (100)',
      'externalId (30)',
      '(whole row) (1)',
    ]);
    expect(options.columns.map((o) => o.value)).toEqual([ALL, 'content', 'externalId', WHOLE_ROW]);
    expect(options.rules.map((o) => o.label)).toEqual([
      'All rules (131)',
      'required (100)',
      'maxLength (30)',
      'parse (1)',
    ]);
    expect(filterOptions(undefined).columns).toEqual([{ value: ALL, label: 'All columns (0)' }]);
  });

  it('pages through the whole list in row order, fetching only as far as the page needs', async () => {
    const list = warnings();
    const { w, asked } = model(list, { chunk: 60 });
    const first = await w.view();
    expect(rowsOf(first)).toEqual(list.slice(0, 50).map((x) => x.row));
    expect(first).toMatchObject({ start: 0, total: 130, filtered: false, hasPrevious: false, hasNext: true });
    expect(rangeText(first!)).toBe('Warnings 1–50 of 130');
    expect(asked).toEqual([[0, 60]]);

    w.move(1);
    const second = await w.view();
    expect(rowsOf(second)).toEqual(list.slice(50, 100).map((x) => x.row));
    expect(asked).toEqual([
      [0, 60],
      [60, 60],
    ]);

    w.move(1);
    const last = await w.view();
    expect(rangeText(last!)).toBe('Warnings 101–130 of 130');
    expect(last).toMatchObject({ hasPrevious: true, hasNext: false });
    expect(rowsOf(last).slice(-30)).toEqual(Array.from({ length: 30 }, (_, k) => 402 + k));
    expect(w.fetched).toBe(130);

    // Going back needs no request: the rows are already here.
    w.move(-5);
    expect(w.page).toBe(0);
    await w.view();
    expect(asked).toHaveLength(3);
  });

  it('filters what it has fetched, fetches on until the page is full, and counts from errorSummary meanwhile', async () => {
    const list = warnings();
    const { w, asked } = model(list, { chunk: 40 });
    await w.view();
    w.setFilter('externalId', ALL);
    const view = await w.view();
    expect(rowsOf(view)).toEqual(Array.from({ length: 30 }, (_, k) => 402 + k));
    // Everything had to be fetched to find the 30 externalId rows at the end.
    expect(asked.map(([offset]) => offset)).toEqual([0, 40, 80, 120]);
    expect(view).toMatchObject({ total: 30, filtered: true, hasNext: false });
    expect(rangeText(view!)).toBe('Warnings 1–30 of 30 matching');

    w.setFilter('externalId', 'required');
    const none = await w.view();
    expect(none!.rows).toEqual([]);
    expect(rangeText(none!)).toBe('No warnings match these filters.');
  });

  it('takes the total of a filter from errorSummary before every warning is fetched', async () => {
    const { w } = model(warnings(), { chunk: 60, pageSize: 10 });
    w.setFilter('content', 'required');
    const view = await w.view();
    expect(view).toMatchObject({ total: 100, filtered: true, hasNext: true });
    expect(w.fetched).toBe(60);
    expect(rangeText(view!)).toBe('Warnings 1–10 of 100 matching');
  });

  it('starts a new filter on its first page', () => {
    const { w } = model(warnings());
    w.move(2);
    expect(w.page).toBe(2);
    w.setFilter(ALL, 'required');
    expect(w.page).toBe(0);
    expect(w.filter).toEqual({ field: ALL, code: 'required' });
  });

  it('stops at an empty page even when the total said more', async () => {
    const list = warnings().slice(0, 20);
    const asked: number[] = [];
    const w = createWarnings({
      total: 130,
      summary: summaryOf(list),
      // The file's list is shorter than the upload said (say it was cut): the route answers an empty page.
      fetchPage: (offset: number) => {
        asked.push(offset);
        const data = list.slice(offset, offset + 10);
        return Promise.resolve({ data, meta: { total: 130 } });
      },
      chunk: 10,
    });
    const view = await w.view();
    expect(view!.rows).toHaveLength(20);
    expect(asked).toEqual([0, 10, 20]);
    // Once everything is fetched the count is what is there.
    expect(view!.total).toBe(20);
  });

  it('sends one request at a time, and answers only the latest of overlapping views', async () => {
    const list = warnings();
    let release: () => void = () => undefined;
    const asked: number[] = [];
    const w = createWarnings({
      total: list.length,
      summary: summaryOf(list),
      fetchPage: (offset: number, limit: number) => {
        asked.push(offset);
        return new Promise((resolve) => {
          release = () => resolve({ data: list.slice(offset, offset + limit), meta: { total: list.length } });
        });
      },
    });
    const older = w.view();
    w.move(1);
    const newer = w.view();
    release();
    await expect(older).resolves.toBeNull();
    expect(rowsOf(await newer)).toEqual(list.slice(50, 100).map((x) => x.row));
    expect(asked).toEqual([0]);
  });

  it('passes a failed fetch on, and tries again on the next view', async () => {
    const list = warnings();
    let fail = true;
    const w = createWarnings({
      total: list.length,
      summary: summaryOf(list),
      fetchPage: (offset: number, limit: number) =>
        fail
          ? Promise.reject(new Error('offline'))
          : Promise.resolve({ data: list.slice(offset, offset + limit), meta: { total: list.length } }),
    });
    await expect(w.view()).rejects.toThrow('offline');
    fail = false;
    expect((await w.view())!.rows).toHaveLength(50);
  });
});
