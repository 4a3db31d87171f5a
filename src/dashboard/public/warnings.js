/*
 * The validation warnings of one upload: fetched, filtered and paged. No DOM and no fetch of its own:
 * the page of /errors comes from an injected `fetchPage(offset, limit)`, so the unit specs drive it
 * under Node (warnings.spec.ts).
 *
 * /errors pages the full list in row order but cannot filter, so fetched warnings are kept in `raw`
 * (fetched in order, `chunk` at a time, only as far as the page being shown needs), and filters apply
 * to that. The filtered total comes from errorSummary, which counts every error of the file, so the
 * pager is right before everything is fetched.
 */
import { fmt } from './format.js';

/** Warnings shown per page. */
export const PAGE_SIZE = 50;
/** Warnings fetched per request to /errors (the route's maximum `limit`). */
export const FETCH_CHUNK = 1000;
/** Filter values that no column or rule name can be. */
export const ALL = '\u0000all';
export const WHOLE_ROW = '\u0000row';

/** Whether a warning (or an errorSummary entry) passes the column and rule filters. */
export function matches(filter, e) {
  const fieldOk =
    filter.field === ALL || (filter.field === WHOLE_ROW ? e.field === undefined : e.field === filter.field);
  return fieldOk && (filter.code === ALL || e.code === filter.code);
}

function option(value, label, count) {
  return { value, label: `${label} (${fmt(count)})` };
}

/**
 * The options of the column and rule filters, with their counts from errorSummary: "All" first,
 * then each column (a whole-row error has none) and each rule in the order errorSummary has them.
 */
export function filterOptions(summary) {
  const fields = new Map();
  const codes = new Map();
  let total = 0;
  for (const s of summary || []) {
    const f = s.field === undefined ? WHOLE_ROW : s.field;
    fields.set(f, (fields.get(f) || 0) + s.count);
    codes.set(s.code, (codes.get(s.code) || 0) + s.count);
    total += s.count;
  }
  return {
    columns: [
      option(ALL, 'All columns', total),
      ...Array.from(fields, ([f, n]) => option(f, f === WHOLE_ROW ? '(whole row)' : f, n)),
    ],
    rules: [option(ALL, 'All rules', total), ...Array.from(codes, ([c, n]) => option(c, c, n))],
  };
}

/** The pager's text for a view of `createWarnings`. */
export function rangeText(view) {
  if (!view.rows.length) return 'No warnings match these filters.';
  return (
    `Warnings ${fmt(view.start + 1)}–${fmt(view.start + view.rows.length)} of ${fmt(view.total)}` +
    (view.filtered ? ' matching' : '')
  );
}

/**
 * `total` is the upload's validationErrorCount and `summary` its errorSummary. `fetchPage(offset,
 * limit)` resolves to a body of GET /v1/batch/upload/{fileId}/errors: `{ data, meta: { total } }`.
 */
export function createWarnings({ total, summary, fetchPage, pageSize = PAGE_SIZE, chunk = FETCH_CHUNK }) {
  const raw = [];
  let done = false;
  let fetching = null;
  let page = 0;
  let filter = { field: ALL, code: ALL };
  let latest = 0;

  const unfiltered = (f) => f.field === ALL && f.code === ALL;
  const filtered = (f) => (unfiltered(f) ? raw : raw.filter((e) => matches(f, e)));

  function filteredTotal(f) {
    if (done) return filtered(f).length;
    if (unfiltered(f)) return total;
    return (summary || []).reduce((sum, s) => (matches(f, s) ? sum + s.count : sum), 0);
  }

  /** One request at a time: callers that arrive while one is under way wait for that one. */
  function fetchChunk() {
    if (!fetching) {
      fetching = fetchPage(raw.length, chunk).then(
        (res) => {
          fetching = null;
          raw.push(...res.data);
          if (!res.data.length || raw.length >= res.meta.total) done = true;
        },
        (err) => {
          fetching = null;
          throw err;
        },
      );
    }
    return fetching;
  }

  return {
    get page() {
      return page;
    },
    get filter() {
      return filter;
    },
    /** How many warnings have been fetched so far. */
    get fetched() {
      return raw.length;
    },

    /** A new filter starts again at the first page. */
    setFilter(field, code) {
      filter = { field, code };
      page = 0;
    },

    move(delta) {
      page = Math.max(0, page + delta);
    },

    /**
     * The rows of the current page and what the pager needs, fetching as far as that page goes.
     * Resolves to null when another view() was asked for meanwhile (its answer is the one to show).
     */
    async view() {
      const ticket = ++latest;
      const f = filter;
      const start = page * pageSize;
      while (!done && filtered(f).length < start + pageSize) await fetchChunk();
      if (ticket !== latest) return null;
      const rows = filtered(f).slice(start, start + pageSize);
      const count = filteredTotal(f);
      return {
        rows,
        start,
        total: count,
        filtered: !unfiltered(f),
        hasPrevious: start > 0,
        hasNext: start + pageSize < count,
      };
    },
  };
}
