/*
 * The sections' DOM, filled from API answers. Each function takes the data it shows and writes its
 * own elements; none reads or changes the page's state (main.js does that).
 */
import { sentenceFor } from './api.js';
import { $, append, h, show } from './dom.js';
import {
  batchLabel,
  batchProgress,
  batchTitle,
  cellText,
  fmt,
  formatBytes,
  formatDelimiter,
  formatEncoding,
  formatFormat,
  formatTime,
  isFinished,
  noHeaderText,
  previewColumns,
  previewNote,
  statusWord,
  truncate,
} from './format.js';
import { cardCounts, cardWarnings, duplicateNote } from './several.js';
import { rangeText } from './warnings.js';

/** The error box: `context` says what was being done ("The upload failed."), then the sentences. */
export function renderError(context, e) {
  const box = $('error');
  box.textContent = '';
  append(
    box,
    h('p', null, h('strong', { text: `${context} ` }), sentenceFor(e)),
    e.message && e.code !== 'network'
      ? h('p', { 'data-testid': 'error-server-message' }, `batchgate said: “${e.message}”`)
      : null,
  );
  if (e.validationErrors.length) {
    append(
      box,
      h(
        'ul',
        null,
        e.validationErrors
          .slice(0, 5)
          .map((v) => h('li', { text: `Row ${v.row}${v.field ? `, column ${v.field}` : ''}: ${v.error}` })),
      ),
    );
  }
  if (e.requestId) append(box, h('p', { class: 'ref', text: `Reference for support: ${e.requestId}` }));
}

export function renderSummary(u) {
  const p = u.parsing || {};
  $('summary-message').textContent = u.message || '';
  $('sum-file').textContent = u.originalFileName || '—';
  $('sum-accepted').textContent = fmt(u.itemCount);
  $('sum-skipped').textContent = fmt(u.validationErrorCount);
  $('sum-format').textContent = formatFormat(u);
  $('sum-encoding').textContent = formatEncoding(p);
  $('sum-delimiter').textContent = formatDelimiter(p);
  const header = $('sum-header');
  header.textContent = '';
  if (Array.isArray(p.header) && p.header.length) {
    append(
      header,
      h(
        'ul',
        { class: 'chips', 'aria-label': 'Header columns' },
        p.header.map((c) => h('li', { text: c === '' ? '(empty)' : c })),
      ),
    );
  } else header.textContent = noHeaderText(u.format);
  $('sum-size').textContent = formatBytes(u.sizeBytes);
  $('sum-fileid').textContent = u.fileId;
  const dup = duplicateNote(u.duplicateOf);
  $('sum-duplicate').textContent = dup || '';
  show($('sum-duplicate'), dup !== null);
}

function acceptedCard(u, downloadErrors) {
  const dup = duplicateNote(u.duplicateOf);
  const warnings = cardWarnings(u);
  const more = (u.validationErrorCount || 0) - warnings.length;
  return h(
    'li',
    { class: 'file-card accepted', 'data-testid': 'file-card', 'data-state': 'accepted', 'data-file-id': u.fileId },
    h(
      'div',
      { class: 'file-card-head' },
      h('strong', { class: 'file-card-name', 'data-testid': 'file-card-name', text: u.path || u.originalFileName }),
      h('span', { class: 'badge completed', text: 'Accepted' }),
    ),
    h('p', { 'data-testid': 'file-card-counts', text: cardCounts(u) }),
    h('p', { class: 'hint' }, `${formatFormat(u)} · ${formatBytes(u.sizeBytes)} · `, h('code', { text: u.fileId })),
    dup ? h('p', { class: 'duplicate-note', 'data-testid': 'file-card-duplicate', text: dup }) : null,
    warnings.length
      ? h(
          'ul',
          { class: 'file-card-warnings', 'data-testid': 'file-card-warnings' },
          warnings.map((w) => h('li', { text: w })),
          more > 0 ? h('li', { class: 'hint', text: `and ${fmt(more)} more` }) : null,
        )
      : null,
    u.validationErrorCount
      ? h('button', {
          type: 'button',
          'data-testid': 'file-card-download-errors',
          text: 'Download rejected rows (CSV)',
          onclick: (e) => downloadErrors(u, e.currentTarget),
        })
      : null,
    h('p', { class: 'file-card-batch', 'data-testid': 'file-card-batch', hidden: true }),
  );
}

function refusedCard(r) {
  const e = r.error;
  return h(
    'li',
    { class: 'file-card refused', 'data-testid': 'file-card', 'data-state': 'refused' },
    h(
      'div',
      { class: 'file-card-head' },
      h('strong', {
        class: 'file-card-name',
        'data-testid': 'file-card-name',
        text: r.path || r.name || `file ${r.index + 1}`,
      }),
      h('span', { class: 'badge failed', text: 'Refused' }),
    ),
    h('p', { 'data-testid': 'file-card-refusal', text: sentenceFor(e) }),
    e.message ? h('p', { class: 'hint', text: `batchgate said: “${e.message}”` }) : null,
    e.validationErrors.length
      ? h(
          'ul',
          { class: 'file-card-warnings' },
          e.validationErrors
            .slice(0, 3)
            .map((v) => h('li', { text: `Row ${v.row}${v.field ? `, column ${v.field}` : ''}: ${v.error}` })),
        )
      : null,
  );
}

/** One card per file of a several-files upload (several.js `summarise`), in the order they were sent. */
export function renderFileCards(s, { downloadErrors }) {
  $('files-message').textContent = s.message;
  const list = $('file-cards');
  list.textContent = '';
  const cards = [
    ...s.accepted.map((u) => ({ index: u.index ?? 0, node: acceptedCard(u, downloadErrors) })),
    ...s.refused.map((r) => ({ index: r.index ?? 0, node: refusedCard(r) })),
  ].sort((a, b) => a.index - b.index);
  append(
    list,
    cards.map((c) => c.node),
  );
}

/** Marks every accepted card as used by the batch just created. */
export function markCardsUsed(batchId) {
  for (const p of document.querySelectorAll('#file-cards [data-testid="file-card-batch"]')) {
    p.textContent = `Used by batch ${batchId}`;
    p.hidden = false;
  }
}

/** The first results lines of a finished batch made from several files, and the files they cover. */
export function renderResultsPeek(files, lines) {
  $('results-files').textContent = files.length ? `Results cover ${files.join(', ')}. First lines:` : 'No results.';
  const ul = $('results-lines');
  ul.textContent = '';
  append(
    ul,
    lines.map((l) => h('li', { text: l })),
  );
  show($('results-peek'), true);
}

/** A filter <select> from `filterOptions`, with its first option ("All …") chosen. */
export function fillSelect(select, options) {
  select.textContent = '';
  for (const o of options) append(select, h('option', { value: o.value, text: o.label }));
  select.value = options[0].value;
}

/** A page of warnings from the model's `view()`. */
export function renderWarnings(view) {
  const body = $('warnings-body');
  body.textContent = '';
  for (const e of view.rows) {
    append(
      body,
      h(
        'tr',
        { 'data-testid': 'warning-row' },
        h(
          'td',
          { class: 'num', 'data-label': 'Row', 'data-testid': 'warning-row-number' },
          String(e.row),
          e.line !== undefined && e.line !== e.row ? h('span', { class: 'hint', text: ` (line ${e.line})` }) : null,
        ),
        h('td', { 'data-label': 'Column', text: e.field === undefined ? '(whole row)' : e.field }),
        h('td', { 'data-label': 'Rule' }, h('code', { text: e.code })),
        h('td', { class: 'cell', text: e.error }),
      ),
    );
  }
  $('warnings-range').textContent = rangeText(view);
  $('warnings-prev').disabled = !view.hasPrevious;
  $('warnings-next').disabled = !view.hasNext;
}

/** GET …/preview: the first accepted items, one column per property any of them has. */
export function renderPreview(data, itemCount) {
  const columns = previewColumns(data.items);
  const head = $('preview-head');
  head.textContent = '';
  append(
    head,
    h('th', { scope: 'col', class: 'num', text: 'Row' }),
    columns.map((c) => h('th', { scope: 'col', text: c })),
  );
  const body = $('preview-body');
  body.textContent = '';
  for (const it of data.items) {
    append(
      body,
      h(
        'tr',
        { 'data-testid': 'preview-row' },
        h('td', { class: 'num', text: String(it.row) }),
        columns.map((c) => {
          const text = cellText(it.item[c]);
          if (text === null) return h('td', { class: 'cell empty-cell', text: '—' });
          const short = truncate(text);
          return h('td', {
            class: typeof it.item[c] === 'string' ? 'cell' : 'cell mono',
            title: short === text ? undefined : text,
            text: short,
          });
        }),
      ),
    );
  }
  $('preview-note').textContent = previewNote(data.items.length, itemCount);
}

function quotaFact(label, value, testid) {
  return h('div', null, h('dt', { text: label }), h('dd', { 'data-testid': testid, text: value }));
}

function quotaFacts(q) {
  return h(
    'dl',
    { class: 'quota', 'data-testid': 'dry-run-quota' },
    quotaFact('Would use', fmt(q.wouldUse), 'quota-would-use'),
    quotaFact('Used this month', fmt(q.usedThisMonth)),
    quotaFact(
      'Left this month after it',
      q.remainingThisMonth === null ? 'unlimited' : fmt(q.remainingThisMonth),
      'quota-remaining',
    ),
    quotaFact('Monthly allowance', q.maxItemsPerMonth === null ? 'unlimited' : fmt(q.maxItemsPerMonth)),
    quotaFact('Most items per batch', fmt(q.maxItemsPerBatch)),
    quotaFact('Batches in progress', `${fmt(q.activeBatches)} of ${fmt(q.maxConcurrentBatches)}`),
  );
}

/** A dry run's verdict, with the quota it would use (when batchgate knows it, refusals included). */
export function renderDryRun(v, error) {
  const box = $('dry-run-result');
  box.textContent = '';
  if (v.verdict === 'accepted') {
    const q = v.quota || {};
    box.className = 'dry-run accepted';
    append(
      box,
      h(
        'p',
        { 'data-testid': 'dry-run-verdict' },
        h('strong', { text: 'Ready. ' }),
        `This batch would process ${fmt(v.itemCount)} items and use ${fmt(q.wouldUse)} of your monthly quota. ` +
          'Nothing has been used yet.',
      ),
      quotaFacts(q),
    );
  } else {
    box.className = 'dry-run refused';
    append(
      box,
      h(
        'p',
        { 'data-testid': 'dry-run-verdict' },
        h('strong', { text: 'This batch would be refused. ' }),
        sentenceFor(error),
      ),
      error.message
        ? h('p', { 'data-testid': 'dry-run-server-message', text: `batchgate said: “${error.message}”` })
        : null,
      v.quota ? quotaFacts(v.quota) : null,
    );
  }
  show(box, true);
}

/** The progress section for one batch (GET /v1/batch/{id}). */
export function renderBatch(b) {
  const p = batchProgress(b);
  const status = $('batch-status');
  status.className = `badge ${b.status}`;
  status.textContent = statusWord(b.status);
  status.setAttribute('data-status', b.status);
  $('batch-title').textContent = batchTitle(b);
  $('batch-progress').value = p.pct;
  $('batch-progress-label').textContent = p.label;
  $('batch-counts').textContent = p.counts;
  show($('cancel-batch'), !p.finished);
  show($('download-results'), p.finished && b.processedCount > 0);
  show($('start-over'), p.finished);
}

function badge(status, testid) {
  return h('span', { class: `badge ${status}`, 'data-testid': testid, text: statusWord(status) });
}

/** The recent batches, each with Follow (unfinished) or Results (finished with processed items). */
export function renderBatches(batches, { follow, results }) {
  const body = $('recent-body');
  body.textContent = '';
  show($('recent-empty'), !batches.length);
  show($('recent-wrap'), batches.length > 0);
  for (const b of batches) {
    let action = null;
    if (!isFinished(b.status)) {
      action = h('button', {
        type: 'button',
        text: 'Follow',
        'aria-label': `Follow the progress of ${b.name || b.id}`,
        onclick: () => follow(b),
      });
    } else if (b.processedCount > 0) {
      action = h('button', {
        type: 'button',
        text: 'Results',
        'aria-label': `Download the results of ${b.name || b.id}`,
        onclick: () => results(b.id),
      });
    }
    append(
      body,
      h(
        'tr',
        { 'data-testid': 'recent-batch-row', 'data-batch-id': b.id, 'data-status': b.status },
        h('td', { class: 'cell' }, h('div', { text: batchLabel(b) }), h('div', { class: 'hint mono', text: b.id })),
        h('td', { 'data-label': 'Created', text: formatTime(b.createdAt) }),
        h('td', { class: 'num', 'data-label': 'Items', text: fmt(b.itemCount) }),
        h('td', { class: 'num', 'data-label': 'Processed', text: fmt(b.processedCount) }),
        h('td', null, badge(b.status, 'recent-batch-status')),
        h('td', null, action),
      ),
    );
  }
}
