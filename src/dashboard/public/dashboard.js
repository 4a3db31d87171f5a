/*
 * batchgate validation-preview dashboard (issue 4). Plain browser JavaScript: no framework, no build
 * step, nothing loaded from another origin, no inline script (the page is served with a strict CSP).
 * Every request goes to the routes of API.md with `Authorization: Bearer <key>`.
 */
(function () {
  'use strict';

  var KEY_STORAGE = 'batchgate.apiKey';
  /** Warnings shown per page. */
  var PAGE_SIZE = 50;
  /** Warnings fetched per request to /errors (the route's maximum `limit`). */
  var FETCH_CHUNK = 1000;
  var PREVIEW_ITEMS = 20;
  var RECENT_BATCHES = 10;
  var POLL_MS = 1000;
  var ALL = '\u0000all';
  var WHOLE_ROW = '\u0000row';
  var TERMINAL = ['completed', 'failed', 'cancelled'];

  var $ = function (id) {
    return document.getElementById(id);
  };

  var state = {
    key: null,
    upload: null,
    warn: null,
    expiryTimer: null,
    expired: false,
    idempotencyKey: null,
    dryRunOk: false,
    batchId: null,
    pollTimer: null,
    lastStatus: null,
    uploading: false,
  };

  // ---------------------------------------------------------------- small helpers

  /** Builds an element; text is always set as text, never parsed as HTML. */
  function h(tag, props) {
    var node = document.createElement(tag);
    if (props) {
      Object.keys(props).forEach(function (k) {
        var v = props[k];
        if (v === undefined || v === null || v === false) return;
        if (k === 'class') node.className = v;
        else if (k === 'text') node.textContent = v;
        else if (k.indexOf('on') === 0) node.addEventListener(k.slice(2), v);
        else node.setAttribute(k, v === true ? '' : String(v));
      });
    }
    for (var i = 2; i < arguments.length; i++) appendChild(node, arguments[i]);
    return node;
  }

  function appendChild(node, child) {
    if (child === null || child === undefined || child === false) return;
    if (Array.isArray(child))
      child.forEach(function (c) {
        appendChild(node, c);
      });
    else node.append(child instanceof Node ? child : String(child));
  }

  function fmt(n) {
    return typeof n === 'number' ? n.toLocaleString() : '—';
  }

  function formatBytes(n) {
    if (typeof n !== 'number') return '—';
    if (n < 1024) return n + ' bytes';
    var units = ['KB', 'MB', 'GB'];
    var v = n;
    var u = -1;
    do {
      v /= 1024;
      u++;
    } while (v >= 1024 && u < units.length - 1);
    return (v >= 10 ? v.toFixed(0) : v.toFixed(1)) + ' ' + units[u];
  }

  function formatDuration(ms) {
    var s = Math.max(0, Math.ceil(ms / 1000));
    var hours = Math.floor(s / 3600);
    var min = Math.floor((s % 3600) / 60);
    var sec = s % 60;
    if (hours) return hours + ' h ' + min + ' min';
    if (min) return min + ' min ' + sec + ' s';
    return sec + ' s';
  }

  function formatTime(iso) {
    if (!iso) return '—';
    var d = new Date(iso);
    return isNaN(d.getTime()) ? iso : d.toLocaleString();
  }

  /** A random Idempotency-Key; crypto.randomUUID needs a secure context, getRandomValues does not. */
  function randomKey() {
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return (
      'dashboard-' +
      Array.prototype.map
        .call(bytes, function (b) {
          return b.toString(16).padStart(2, '0');
        })
        .join('')
    );
  }

  function show(node, visible) {
    node.hidden = !visible;
  }

  function announce(message) {
    $('status').textContent = message;
  }

  // ---------------------------------------------------------------- errors as sentences

  function ApiError(status, body, retryAfter) {
    var err = (body && body.error) || {};
    this.status = status;
    this.code = err.code || (status === 0 ? 'network' : 'http_' + status);
    this.message = err.message || '';
    this.details = err.details || {};
    this.requestId = (body && body.requestId) || null;
    this.validationErrors = (body && body.validationErrors) || [];
    this.retryAfter = retryAfter ? Number(retryAfter) : null;
  }

  function parseJson(text) {
    try {
      return text ? JSON.parse(text) : null;
    } catch {
      return null;
    }
  }

  var LIMIT_NAMES = {
    maxItemsPerBatch: 'items per batch',
    maxItemsPerMonth: 'items per month',
    maxConcurrentBatches: 'batches in progress at once',
    maxFileBytes: 'file size',
  };

  /** The sentence a person reads first; the server's own message follows it. */
  function sentenceFor(e) {
    switch (e.code) {
      case 'unauthorized':
        return 'This API key was not accepted. Check it and enter it again.';
      case 'quota_exceeded':
        if (e.details.limit === 'batchEnabled') return 'Your plan does not include batch processing.';
        return (
          'Your plan does not allow this batch' +
          (LIMIT_NAMES[e.details.limit] ? ' (limit on ' + LIMIT_NAMES[e.details.limit] + ')' : '') +
          '.'
        );
      case 'file_already_consumed':
        return (
          'This upload was already used to create a batch' +
          (e.details.batchId ? ' (' + e.details.batchId + ')' : '') +
          '. An upload creates one batch only: upload the file again to create another.'
        );
      case 'file_expired':
        return 'This upload has expired and can no longer be used. Upload the file again.';
      case 'file_not_found':
        return 'This upload no longer exists: it was discarded or never belonged to this key. Upload the file again.';
      case 'batch_not_found':
        return 'This batch could not be found; finished batches are removed after their retention period.';
      case 'payload_too_large':
        return 'The file is too large for your plan.';
      case 'unsupported_format':
        return 'This kind of file cannot be read. Upload a CSV, JSON or NDJSON file (gzip-compressed is fine).';
      case 'file_parsing_failed':
        return 'The file could not be used: it cannot be read as its format, a required column is missing, or no row is valid.';
      case 'validation_error':
        return 'The request was not accepted.';
      case 'batch_finished':
        return 'This batch has already ended, so it cannot be cancelled.';
      case 'idempotency_conflict':
        return 'The same request is still being handled. Wait a moment, then look at the recent batches.';
      case 'idempotency_key_reused':
        return 'This request clashes with an earlier one. Upload the file again.';
      case 'rate_limited':
        return (
          'Too many requests for your plan right now. Wait ' +
          (e.retryAfter ? e.retryAfter + ' seconds' : 'a moment') +
          ' and try again.'
        );
      case 'FILE_STORAGE_UNAVAILABLE':
        return 'File storage is unavailable right now. Try again in a moment.';
      case 'network':
        return 'batchgate could not be reached. Check your connection and try again.';
      default:
        if (e.status >= 500)
          return 'batchgate had a problem on its side (HTTP ' + e.status + '). Try again in a moment.';
        return 'The request failed (HTTP ' + e.status + ').';
    }
  }

  function clearError() {
    $('error').textContent = '';
    show($('error-wrap'), false);
  }

  /** Shows an error as sentences; `context` says what was being done ("The upload failed."). */
  function showError(context, e) {
    if (!(e instanceof ApiError)) e = new ApiError(0, { error: { code: 'network', message: String(e && e.message) } });
    if (e.code === 'unauthorized') forgetKey();
    var box = $('error');
    box.textContent = '';
    box.append(
      h('p', null, h('strong', { text: context + ' ' }), sentenceFor(e)),
      e.message && e.code !== 'network'
        ? h('p', { 'data-testid': 'error-server-message' }, 'batchgate said: “' + e.message + '”')
        : null,
    );
    if (e.validationErrors.length) {
      box.append(
        h(
          'ul',
          null,
          e.validationErrors.slice(0, 5).map(function (v) {
            return h('li', { text: 'Row ' + v.row + (v.field ? ', column ' + v.field : '') + ': ' + v.error });
          }),
        ),
      );
    }
    if (e.requestId) box.append(h('p', { class: 'ref', text: 'Reference for support: ' + e.requestId }));
    show($('error-wrap'), true);
    announce('');
    $('error-wrap').scrollIntoView({ block: 'nearest' });
  }

  // ---------------------------------------------------------------- HTTP

  function authHeaders(extra) {
    var headers = { Authorization: 'Bearer ' + state.key };
    Object.keys(extra || {}).forEach(function (k) {
      headers[k] = extra[k];
    });
    return headers;
  }

  async function errorFrom(res) {
    var text = await res.text().catch(function () {
      return '';
    });
    return new ApiError(res.status, parseJson(text), res.headers.get('Retry-After'));
  }

  async function send(method, path, body, headers) {
    var res;
    try {
      res = await fetch(path, {
        method: method,
        headers: authHeaders(
          Object.assign(
            { Accept: 'application/json' },
            body === undefined ? {} : { 'Content-Type': 'application/json' },
            headers,
          ),
        ),
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: 'no-store',
      });
    } catch (err) {
      throw new ApiError(0, { error: { code: 'network', message: String(err) } });
    }
    if (!res.ok) throw await errorFrom(res);
    return res.status === 204 ? null : res.json();
  }

  /** Fetches with the auth header, then hands the body to the browser as a download (Blob → object URL). */
  async function download(path, accept, fallbackName) {
    var res;
    try {
      res = await fetch(path, { headers: authHeaders({ Accept: accept }), cache: 'no-store' });
    } catch (err) {
      throw new ApiError(0, { error: { code: 'network', message: String(err) } });
    }
    if (!res.ok) throw await errorFrom(res);
    var blob = await res.blob();
    var match = /filename="?([^";]+)"?/i.exec(res.headers.get('Content-Disposition') || '');
    var url = URL.createObjectURL(blob);
    var a = h('a', { href: url, download: match ? match[1] : fallbackName, hidden: true });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(function () {
      URL.revokeObjectURL(url);
    }, 60000);
  }

  // ---------------------------------------------------------------- API key

  function showKeyForm() {
    show($('key-section'), true);
    show($('app'), false);
    show(document.querySelector('[data-testid="key-state"]'), false);
    $('key-input').value = '';
    $('key-input').focus();
  }

  function showApp() {
    show($('key-section'), false);
    show($('app'), true);
    show(document.querySelector('[data-testid="key-state"]'), true);
  }

  function forgetKey() {
    sessionStorage.removeItem(KEY_STORAGE);
    state.key = null;
    stopPolling();
    resetUpload();
    $('recent-body').textContent = '';
    showKeyForm();
  }

  async function submitKey(event) {
    event.preventDefault();
    var key = $('key-input').value.trim();
    if (!key) return;
    state.key = key;
    clearError();
    announce('Checking the key…');
    try {
      var list = await send('GET', '/v1/batches?limit=' + RECENT_BATCHES);
      sessionStorage.setItem(KEY_STORAGE, key);
      showApp();
      renderBatches(list.data);
      announce('Key accepted. Choose a file to upload.');
      $('file-input').focus();
    } catch (e) {
      state.key = null;
      showError('The key could not be used.', e);
    }
  }

  // ---------------------------------------------------------------- upload

  function resetUpload() {
    state.upload = null;
    state.warn = null;
    state.dryRunOk = false;
    state.idempotencyKey = null;
    state.expired = false;
    clearInterval(state.expiryTimer);
    ['summary-section', 'warnings-section', 'preview-section', 'create-section', 'upload-progress-wrap'].forEach(
      function (id) {
        show($(id), false);
      },
    );
    show($('dry-run-result'), false);
    $('create-batch').disabled = true;
    $('dry-run').disabled = false;
    $('batch-name').value = '';
  }

  function uploadFile(file) {
    if (state.uploading || !file) return;
    clearError();
    stopPolling();
    show($('batch-section'), false);
    resetUpload();
    state.uploading = true;
    $('file-input').disabled = true;

    var form = new FormData();
    var schema = $('schema-input').value.trim();
    var format = $('format-select').value;
    if (schema && schema !== 'default') form.append('schema', schema);
    if (format) form.append('format', format);
    form.append('file', file, file.name);

    var bar = $('upload-progress');
    var label = $('upload-progress-label');
    bar.value = 0;
    label.textContent = 'Uploading ' + file.name + ' (' + formatBytes(file.size) + ')…';
    show($('upload-progress-wrap'), true);
    announce('Uploading ' + file.name + '…');

    var xhr = new XMLHttpRequest();
    xhr.open('POST', '/v1/batch/upload');
    xhr.setRequestHeader('Authorization', 'Bearer ' + state.key);
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.upload.addEventListener('progress', function (e) {
      if (!e.lengthComputable) return;
      var pct = Math.round((e.loaded / e.total) * 100);
      bar.value = pct;
      label.textContent = 'Uploading ' + file.name + ': ' + pct + ' %';
    });
    xhr.upload.addEventListener('load', function () {
      bar.value = 100;
      label.textContent = 'Uploaded. batchgate is checking every row…';
    });
    function done() {
      state.uploading = false;
      $('file-input').disabled = false;
      $('file-input').value = '';
    }
    xhr.addEventListener('load', function () {
      done();
      var body = parseJson(xhr.responseText);
      if (xhr.status === 200 && body && body.fileId) {
        show($('upload-progress-wrap'), false);
        onUploaded(body);
      } else {
        show($('upload-progress-wrap'), false);
        showError('The upload failed.', new ApiError(xhr.status, body, xhr.getResponseHeader('Retry-After')));
      }
    });
    xhr.addEventListener('error', function () {
      done();
      show($('upload-progress-wrap'), false);
      showError('The upload failed.', new ApiError(0, { error: { code: 'network', message: '' } }));
    });
    xhr.send(form);
  }

  function onUploaded(upload) {
    state.upload = upload;
    state.idempotencyKey = randomKey();
    renderSummary(upload);
    setupWarnings(upload);
    show($('create-section'), true);
    void loadPreview(upload);
    var skipped = upload.validationErrorCount;
    announce(
      'Upload checked: ' +
        fmt(upload.itemCount) +
        ' items accepted, ' +
        fmt(skipped) +
        (skipped === 1 ? ' row' : ' rows') +
        ' skipped.',
    );
    $('summary-heading').focus();
  }

  // ---------------------------------------------------------------- summary

  var DELIMITERS = { ',': 'comma ( , )', ';': 'semicolon ( ; )', '\t': 'tab', '|': 'pipe ( | )' };
  var LINE_ENDINGS = { crlf: 'CRLF (Windows)', lf: 'LF', cr: 'CR', none: 'single line' };

  function renderSummary(u) {
    var p = u.parsing || {};
    $('summary-message').textContent = u.message || '';
    $('sum-file').textContent = u.originalFileName || '—';
    $('sum-accepted').textContent = fmt(u.itemCount);
    $('sum-skipped').textContent = fmt(u.validationErrorCount);
    $('sum-format').textContent =
      String(u.format || '').toUpperCase() + (p.compressed ? ', gzip' : '') + ' · schema “' + u.schema + '”';
    $('sum-encoding').textContent = (p.encoding || '—') + (p.bom ? ', with BOM' : '');
    $('sum-delimiter').textContent =
      p.delimiter === undefined
        ? 'not applicable'
        : (DELIMITERS[p.delimiter] || JSON.stringify(p.delimiter)) +
          (p.lineEnding ? ', line ending ' + (LINE_ENDINGS[p.lineEnding] || p.lineEnding) : '');
    var header = $('sum-header');
    header.textContent = '';
    if (Array.isArray(p.header) && p.header.length) {
      header.append(
        h(
          'ul',
          { class: 'chips', 'aria-label': 'Header columns' },
          p.header.map(function (c) {
            return h('li', { text: c === '' ? '(empty)' : c });
          }),
        ),
      );
    } else header.textContent = u.format === 'csv' ? '—' : 'not applicable (no header row in ' + u.format + ')';
    $('sum-size').textContent = formatBytes(u.sizeBytes);
    $('sum-fileid').textContent = u.fileId;
    show($('summary-section'), true);
    startExpiryCountdown(u.expiresAt);
  }

  function startExpiryCountdown(expiresAt) {
    var dd = $('sum-expiry');
    var at = new Date(expiresAt).getTime();
    clearInterval(state.expiryTimer);
    $('sum-expiry-label').textContent = 'fileId expires';
    function tick() {
      var left = at - Date.now();
      if (isNaN(at)) {
        dd.textContent = '—';
        return;
      }
      if (left <= 0) {
        clearInterval(state.expiryTimer);
        state.expired = true;
        dd.textContent = 'Expired: upload the file again';
        dd.className = 'expired';
        $('dry-run').disabled = true;
        $('create-batch').disabled = true;
        return;
      }
      dd.className = '';
      dd.textContent = 'in ' + formatDuration(left) + ' (' + new Date(at).toLocaleTimeString() + ')';
    }
    tick();
    state.expiryTimer = setInterval(tick, 1000);
  }

  // ---------------------------------------------------------------- warnings

  /*
   * /errors pages the full list in row order but cannot filter, so fetched warnings are kept in
   * `raw` (fetched in order, FETCH_CHUNK at a time, only as far as the page being shown needs), and
   * filters apply to that. The filtered total comes from errorSummary, which counts every error of
   * the file, so the pager is right before everything is fetched.
   */
  function setupWarnings(u) {
    var section = $('warnings-section');
    if (!u.validationErrorCount) {
      show(section, false);
      return;
    }
    state.warn = { fileId: u.fileId, raw: [], done: false, fetching: null, page: 0, field: ALL, code: ALL, token: 0 };
    buildFilters(u.errorSummary || []);
    show(section, true);
    void renderWarnings();
  }

  function buildFilters(summary) {
    var fields = new Map();
    var codes = new Map();
    summary.forEach(function (s) {
      var f = s.field === undefined ? WHOLE_ROW : s.field;
      fields.set(f, (fields.get(f) || 0) + s.count);
      codes.set(s.code, (codes.get(s.code) || 0) + s.count);
    });
    fill($('filter-column'), 'All columns', fields, function (f) {
      return f === WHOLE_ROW ? '(whole row)' : f;
    });
    fill($('filter-rule'), 'All rules', codes, function (c) {
      return c;
    });
  }

  function fill(select, allLabel, counts, label) {
    select.textContent = '';
    var total = 0;
    counts.forEach(function (n) {
      total += n;
    });
    select.append(h('option', { value: ALL, text: allLabel + ' (' + fmt(total) + ')' }));
    counts.forEach(function (n, value) {
      select.append(h('option', { value: value, text: label(value) + ' (' + fmt(n) + ')' }));
    });
    select.value = ALL;
  }

  function matches(w, e) {
    var fieldOk = w.field === ALL || (w.field === WHOLE_ROW ? e.field === undefined : e.field === w.field);
    return fieldOk && (w.code === ALL || e.code === w.code);
  }

  function filtered(w) {
    if (w.field === ALL && w.code === ALL) return w.raw;
    return w.raw.filter(function (e) {
      return matches(w, e);
    });
  }

  function filteredTotal(w) {
    if (w.done) return filtered(w).length;
    var u = state.upload;
    if (w.field === ALL && w.code === ALL) return u.validationErrorCount;
    return (u.errorSummary || []).reduce(function (sum, s) {
      return matches(w, s) ? sum + s.count : sum;
    }, 0);
  }

  function fetchChunk(w) {
    if (!w.fetching) {
      var path =
        '/v1/batch/upload/' + encodeURIComponent(w.fileId) + '/errors?offset=' + w.raw.length + '&limit=' + FETCH_CHUNK;
      w.fetching = send('GET', path).then(
        function (page) {
          w.fetching = null;
          page.data.forEach(function (e) {
            w.raw.push(e);
          });
          if (!page.data.length || w.raw.length >= page.meta.total) w.done = true;
        },
        function (err) {
          w.fetching = null;
          throw err;
        },
      );
    }
    return w.fetching;
  }

  async function ensureFetched(w, wanted) {
    while (!w.done && filtered(w).length < wanted) await fetchChunk(w);
  }

  async function renderWarnings() {
    var w = state.warn;
    if (!w) return;
    var token = ++w.token;
    var start = w.page * PAGE_SIZE;
    $('warnings-prev').disabled = true;
    $('warnings-next').disabled = true;
    $('warnings-range').textContent = 'Loading warnings…';
    $('warnings-section').setAttribute('aria-busy', 'true');
    try {
      await ensureFetched(w, start + PAGE_SIZE);
    } catch (e) {
      if (w === state.warn) {
        $('warnings-range').textContent = '';
        $('warnings-section').removeAttribute('aria-busy');
        showError('The warnings could not be loaded.', e);
      }
      return;
    }
    if (w !== state.warn || token !== w.token) return;
    var rows = filtered(w).slice(start, start + PAGE_SIZE);
    var total = filteredTotal(w);
    var body = $('warnings-body');
    body.textContent = '';
    rows.forEach(function (e) {
      body.append(
        h(
          'tr',
          { 'data-testid': 'warning-row' },
          h(
            'td',
            { class: 'num', 'data-label': 'Row', 'data-testid': 'warning-row-number' },
            String(e.row),
            e.line !== undefined && e.line !== e.row
              ? h('span', { class: 'hint', text: ' (line ' + e.line + ')' })
              : null,
          ),
          h('td', { 'data-label': 'Column', text: e.field === undefined ? '(whole row)' : e.field }),
          h('td', { 'data-label': 'Rule' }, h('code', { text: e.code })),
          h('td', { class: 'cell', text: e.error }),
        ),
      );
    });
    var filteredView = w.field !== ALL || w.code !== ALL;
    $('warnings-range').textContent = rows.length
      ? 'Warnings ' +
        fmt(start + 1) +
        '–' +
        fmt(start + rows.length) +
        ' of ' +
        fmt(total) +
        (filteredView ? ' matching' : '')
      : 'No warnings match these filters.';
    $('warnings-prev').disabled = w.page === 0;
    $('warnings-next').disabled = start + PAGE_SIZE >= total;
    $('warnings-section').removeAttribute('aria-busy');
  }

  function changePage(delta) {
    var w = state.warn;
    if (!w) return;
    w.page = Math.max(0, w.page + delta);
    void renderWarnings();
  }

  function changeFilter() {
    var w = state.warn;
    if (!w) return;
    w.field = $('filter-column').value;
    w.code = $('filter-rule').value;
    w.page = 0;
    void renderWarnings();
  }

  async function downloadErrors() {
    var u = state.upload;
    if (!u) return;
    var button = $('download-errors');
    button.disabled = true;
    try {
      await download(
        '/v1/batch/upload/' + encodeURIComponent(u.fileId) + '/errors?format=csv',
        'text/csv',
        'rejected-rows.csv',
      );
      announce('The rejected rows were downloaded as a CSV.');
    } catch (e) {
      showError('The rejected rows could not be downloaded.', e);
    } finally {
      button.disabled = false;
    }
  }

  // ---------------------------------------------------------------- preview

  function cellText(v) {
    if (v === undefined || v === null) return null;
    return typeof v === 'string' ? v : JSON.stringify(v);
  }

  async function loadPreview(u) {
    var data;
    try {
      data = await send('GET', '/v1/batch/upload/' + encodeURIComponent(u.fileId) + '/preview?limit=' + PREVIEW_ITEMS);
    } catch (e) {
      if (state.upload === u) showError('The preview could not be loaded.', e);
      return;
    }
    if (state.upload !== u) return;
    var columns = [];
    data.items.forEach(function (it) {
      Object.keys(it.item).forEach(function (k) {
        if (columns.indexOf(k) < 0) columns.push(k);
      });
    });
    var head = $('preview-head');
    head.textContent = '';
    head.append(h('th', { scope: 'col', class: 'num', text: 'Row' }));
    columns.forEach(function (c) {
      head.append(h('th', { scope: 'col', text: c }));
    });
    var body = $('preview-body');
    body.textContent = '';
    data.items.forEach(function (it) {
      body.append(
        h(
          'tr',
          { 'data-testid': 'preview-row' },
          h('td', { class: 'num', text: String(it.row) }),
          columns.map(function (c) {
            var text = cellText(it.item[c]);
            if (text === null) return h('td', { class: 'cell empty-cell', text: '—' });
            var short = text.length > 200 ? text.slice(0, 200) + '…' : text;
            return h('td', {
              class: typeof it.item[c] === 'string' ? 'cell' : 'cell mono',
              title: short === text ? undefined : text,
              text: short,
            });
          }),
        ),
      );
    });
    $('preview-note').textContent = data.items.length
      ? 'The first ' + fmt(data.items.length) + ' of ' + fmt(u.itemCount) + ' accepted items, after type coercion.'
      : 'No item was accepted.';
    show($('preview-section'), true);
  }

  // ---------------------------------------------------------------- dry run and create

  function batchRequest(dryRun) {
    var body = { fileId: state.upload.fileId };
    var name = $('batch-name').value.trim();
    if (name) body.name = name;
    if (dryRun) body.dryRun = true;
    return body;
  }

  async function dryRun() {
    if (!state.upload || state.expired) return;
    clearError();
    var button = $('dry-run');
    button.disabled = true;
    $('create-batch').disabled = true;
    state.dryRunOk = false;
    announce('Checking what this batch would use…');
    var upload = state.upload;
    var verdict;
    try {
      verdict = await send('POST', '/v1/batch', batchRequest(true));
    } catch (e) {
      if (state.upload !== upload) return;
      showError('The dry run failed.', e);
      button.disabled = state.expired;
      return;
    }
    if (state.upload !== upload) return;
    button.disabled = state.expired;
    renderDryRun(verdict);
  }

  function renderDryRun(v) {
    var box = $('dry-run-result');
    box.textContent = '';
    if (v.verdict === 'accepted') {
      var q = v.quota || {};
      box.className = 'dry-run accepted';
      box.append(
        h(
          'p',
          { 'data-testid': 'dry-run-verdict' },
          h('strong', { text: 'Ready. ' }),
          'This batch would process ' +
            fmt(v.itemCount) +
            ' items and use ' +
            fmt(q.wouldUse) +
            ' of your monthly quota. Nothing has been used yet.',
        ),
        h(
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
          quotaFact('Batches in progress', fmt(q.activeBatches) + ' of ' + fmt(q.maxConcurrentBatches)),
        ),
      );
      state.dryRunOk = true;
      $('create-batch').disabled = state.expired;
      announce('Dry run: the batch would be accepted and use ' + fmt(q.wouldUse) + ' items of your monthly quota.');
    } else {
      var e = new ApiError(v.status, { error: v.error });
      box.className = 'dry-run refused';
      box.append(
        h(
          'p',
          { 'data-testid': 'dry-run-verdict' },
          h('strong', { text: 'This batch would be refused. ' }),
          sentenceFor(e),
        ),
        e.message ? h('p', { text: 'batchgate said: “' + e.message + '”' }) : null,
      );
      announce('Dry run: the batch would be refused. ' + sentenceFor(e));
    }
    show(box, true);
  }

  function quotaFact(label, value, testid) {
    return h('div', null, h('dt', { text: label }), h('dd', { 'data-testid': testid, text: value }));
  }

  async function createBatch(event) {
    event.preventDefault();
    if (!state.upload || !state.dryRunOk || state.expired) return;
    clearError();
    var button = $('create-batch');
    button.disabled = true;
    $('dry-run').disabled = true;
    announce('Creating the batch…');
    var upload = state.upload;
    var created;
    try {
      // The key makes a retry after a lost answer replay the first one instead of meeting 409 (API.md, POST /v1/batch).
      created = await send('POST', '/v1/batch', batchRequest(false), { 'Idempotency-Key': state.idempotencyKey });
    } catch (e) {
      if (state.upload !== upload) return;
      // A definite refusal (402 now, say) would be replayed for 24 hours under the same key, so the next
      // try gets a new one; after a lost answer (network, 5xx) or one still in flight, the key is kept.
      if (e.status >= 400 && e.status < 500 && e.code !== 'idempotency_conflict') state.idempotencyKey = randomKey();
      showError('The batch was not created.', e);
      $('dry-run').disabled = state.expired;
      button.disabled = true;
      state.dryRunOk = false;
      return;
    }
    if (state.upload !== upload) return;
    // The upload is consumed: nothing more to do with it but look at it.
    clearInterval(state.expiryTimer);
    $('sum-expiry-label').textContent = 'fileId used by';
    $('sum-expiry').textContent = 'batch ' + created.id;
    show($('create-section'), false);
    followBatch(created.id, null);
    void loadBatches();
  }

  // ---------------------------------------------------------------- batch progress

  function stopPolling() {
    clearTimeout(state.pollTimer);
    state.pollTimer = null;
    state.batchId = null;
    state.lastStatus = null;
  }

  function followBatch(id, initial) {
    stopPolling();
    clearError();
    state.batchId = id;
    show($('batch-section'), true);
    show($('download-results'), false);
    show($('start-over'), false);
    show($('cancel-batch'), false);
    $('batch-title').textContent = 'Batch ' + id;
    $('batch-status').textContent = '';
    $('batch-progress').value = 0;
    $('batch-progress-label').textContent = 'Waiting for the batch to start…';
    $('batch-counts').textContent = '';
    $('batch-heading').focus();
    if (initial) renderBatch(initial);
    void poll(id);
  }

  async function poll(id) {
    if (state.batchId !== id) return;
    var next = POLL_MS;
    try {
      var batch = await send('GET', '/v1/batch/' + encodeURIComponent(id));
      if (state.batchId !== id) return;
      renderBatch(batch);
      if (TERMINAL.indexOf(batch.status) >= 0) {
        state.pollTimer = null;
        void loadBatches();
        return;
      }
    } catch (e) {
      if (state.batchId !== id) return;
      if (e.code === 'rate_limited' || e.code === 'network' || e.status >= 500) {
        // Transient: keep following, slower.
        next = (e.retryAfter || 3) * 1000;
        announce('Lost contact with batchgate for a moment; still following the batch…');
      } else {
        showError('The batch could not be followed.', e);
        return;
      }
    }
    state.pollTimer = setTimeout(function () {
      void poll(id);
    }, next);
  }

  var STATUS_WORDS = {
    queued: 'Queued',
    processing: 'Processing',
    completed: 'Completed',
    failed: 'Failed',
    cancelled: 'Cancelled',
  };

  function badge(status, testid) {
    return h('span', { class: 'badge ' + status, 'data-testid': testid, text: STATUS_WORDS[status] || status });
  }

  function renderBatch(b) {
    var status = $('batch-status');
    status.className = 'badge ' + b.status;
    status.textContent = STATUS_WORDS[b.status] || b.status;
    status.setAttribute('data-status', b.status);
    var title = b.name || (b.source && b.source.originalFileName) || 'Batch';
    $('batch-title').textContent = title + ' · ' + b.id;
    var pct = b.itemCount ? Math.floor((b.processedCount / b.itemCount) * 100) : 0;
    $('batch-progress').value = pct;
    $('batch-progress-label').textContent =
      'Processed ' + fmt(b.processedCount) + ' of ' + fmt(b.itemCount) + ' items (' + pct + ' %)';
    $('batch-counts').textContent =
      fmt(b.succeededCount) +
      ' succeeded, ' +
      fmt(b.failedCount) +
      ' failed' +
      (b.error ? '. ' + (typeof b.error === 'string' ? b.error : b.error.message || JSON.stringify(b.error)) : '');
    var finished = TERMINAL.indexOf(b.status) >= 0;
    show($('cancel-batch'), !finished);
    show($('download-results'), finished && b.processedCount > 0);
    show($('start-over'), finished);
    if (state.lastStatus !== b.status) {
      state.lastStatus = b.status;
      announce(
        finished
          ? 'Batch ' +
              (STATUS_WORDS[b.status] || b.status).toLowerCase() +
              ': ' +
              fmt(b.processedCount) +
              ' of ' +
              fmt(b.itemCount) +
              ' items processed, ' +
              fmt(b.succeededCount) +
              ' succeeded, ' +
              fmt(b.failedCount) +
              ' failed.'
          : 'Batch ' + (STATUS_WORDS[b.status] || b.status).toLowerCase() + '.',
      );
    }
  }

  async function downloadResults(id) {
    try {
      await download(
        '/v1/batch/' + encodeURIComponent(id) + '/results',
        'application/x-ndjson',
        'batch-' + id + '-results.ndjson',
      );
      announce('The results were downloaded.');
    } catch (e) {
      showError('The results could not be downloaded.', e);
    }
  }

  async function cancelBatch() {
    var id = state.batchId;
    if (!id) return;
    $('cancel-batch').disabled = true;
    try {
      renderBatch(await send('POST', '/v1/batch/' + encodeURIComponent(id) + '/cancel'));
    } catch (e) {
      showError('The batch could not be cancelled.', e);
    } finally {
      $('cancel-batch').disabled = false;
    }
  }

  function startOver() {
    stopPolling();
    clearError();
    show($('batch-section'), false);
    resetUpload();
    announce('Choose the next file to upload.');
    $('file-input').focus();
  }

  // ---------------------------------------------------------------- recent batches

  async function loadBatches() {
    if (!state.key) return;
    try {
      var list = await send('GET', '/v1/batches?limit=' + RECENT_BATCHES);
      renderBatches(list.data);
    } catch (e) {
      showError('The recent batches could not be loaded.', e);
    }
  }

  function renderBatches(batches) {
    var body = $('recent-body');
    body.textContent = '';
    show($('recent-empty'), !batches.length);
    show($('recent-wrap'), batches.length > 0);
    batches.forEach(function (b) {
      var finished = TERMINAL.indexOf(b.status) >= 0;
      var source = b.source && b.source.type === 'file' ? b.source.originalFileName : 'direct items';
      body.append(
        h(
          'tr',
          { 'data-testid': 'recent-batch-row', 'data-batch-id': b.id, 'data-status': b.status },
          h(
            'td',
            { class: 'cell' },
            h('div', { text: b.name || source || b.id }),
            h('div', { class: 'hint mono', text: b.id }),
          ),
          h('td', { 'data-label': 'Created', text: formatTime(b.createdAt) }),
          h('td', { class: 'num', 'data-label': 'Items', text: fmt(b.itemCount) }),
          h('td', { class: 'num', 'data-label': 'Processed', text: fmt(b.processedCount) }),
          h('td', null, badge(b.status, 'recent-batch-status')),
          h(
            'td',
            null,
            finished
              ? b.processedCount > 0
                ? h('button', {
                    type: 'button',
                    text: 'Results',
                    'aria-label': 'Download the results of ' + (b.name || b.id),
                    onclick: function () {
                      void downloadResults(b.id);
                    },
                  })
                : null
              : h('button', {
                  type: 'button',
                  text: 'Follow',
                  'aria-label': 'Follow the progress of ' + (b.name || b.id),
                  onclick: function () {
                    followBatch(b.id, b);
                  },
                }),
          ),
        ),
      );
    });
  }

  // ---------------------------------------------------------------- wiring

  function wireDropzone() {
    var zone = $('dropzone');
    var depth = 0;
    zone.addEventListener('dragenter', function (e) {
      e.preventDefault();
      depth++;
      zone.classList.add('dragging');
    });
    zone.addEventListener('dragover', function (e) {
      e.preventDefault();
      if (e.dataTransfer) e.dataTransfer.dropEffect = 'copy';
    });
    zone.addEventListener('dragleave', function () {
      depth = Math.max(0, depth - 1);
      if (!depth) zone.classList.remove('dragging');
    });
    zone.addEventListener('drop', function (e) {
      e.preventDefault();
      depth = 0;
      zone.classList.remove('dragging');
      var files = e.dataTransfer ? e.dataTransfer.files : null;
      if (files && files.length) uploadFile(files[0]);
    });
    // A file dropped next to the zone must not make the browser navigate away from the page.
    ['dragover', 'drop'].forEach(function (type) {
      window.addEventListener(type, function (e) {
        e.preventDefault();
      });
    });
  }

  function init() {
    $('key-form').addEventListener('submit', function (e) {
      void submitKey(e);
    });
    $('forget-key').addEventListener('click', function () {
      clearError();
      forgetKey();
      announce('The key was forgotten. Enter a key to continue.');
    });
    $('file-input').addEventListener('change', function (e) {
      var files = e.target.files;
      if (files && files.length) uploadFile(files[0]);
    });
    wireDropzone();
    $('warnings-prev').addEventListener('click', function () {
      changePage(-1);
    });
    $('warnings-next').addEventListener('click', function () {
      changePage(1);
    });
    $('filter-column').addEventListener('change', changeFilter);
    $('filter-rule').addEventListener('change', changeFilter);
    $('download-errors').addEventListener('click', function () {
      void downloadErrors();
    });
    $('dry-run').addEventListener('click', function () {
      void dryRun();
    });
    $('create-form').addEventListener('submit', function (e) {
      void createBatch(e);
    });
    $('download-results').addEventListener('click', function () {
      if (state.batchId) void downloadResults(state.batchId);
    });
    $('cancel-batch').addEventListener('click', function () {
      void cancelBatch();
    });
    $('start-over').addEventListener('click', startOver);
    $('dismiss-error').addEventListener('click', clearError);
    $('refresh-batches').addEventListener('click', function () {
      void loadBatches();
    });

    state.key = sessionStorage.getItem(KEY_STORAGE);
    if (state.key) {
      showApp();
      void loadBatches();
    } else showKeyForm();
  }

  init();
})();
