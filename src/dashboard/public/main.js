/*
 * batchgate validation-preview dashboard (issue 4): the page's state and how its sections follow one
 * another. Native ES modules, no framework, no build step, nothing loaded from another origin, no
 * inline script (the page is served with a strict CSP). Every request goes to the routes of API.md
 * with `Authorization: Bearer <key>`.
 */
import { ApiError, batchRequest, createApi, needsNewIdempotencyKey, randomKey, routes, toApiError } from './api.js';
import { canCreate, controls, initialFlow, reduce, verdictAnnouncement } from './create-flow.js';
import { $, announce, saveFile, show } from './dom.js';
import { createFollower } from './follow.js';
import { batchAnnouncement, formatBytes, formatDuration, uploadAnnouncement } from './format.js';
import {
  fillSelect,
  markCardsUsed,
  renderBatch,
  renderBatches,
  renderDryRun,
  renderError,
  renderFileCards,
  renderPreview,
  renderResultsPeek,
  renderSummary,
  renderWarnings,
} from './render.js';
import {
  fileNames,
  filePath,
  filesFromEntries,
  resultsFiles,
  resultsPeek,
  severalAnnouncement,
  summarise,
  uploadForm,
} from './several.js';
import { matchFiles, mismatchText, readPending } from './resume.js';
import { combine, needsSession } from './session-plan.js';
import { clearTransfers, renderResumeOffer } from './session-render.js';
import { isAbort } from './session-runner.js';
import { createSessionUploads } from './session-uploads.js';
import { postForm } from './transfer.js';
import { createWarnings, filterOptions } from './warnings.js';

const KEY_STORAGE = 'batchgate.apiKey';
const PREVIEW_ITEMS = 20;
const RECENT_BATCHES = 10;

const state = {
  key: null,
  /** The upload being looked at (the 200 body of POST /v1/batch/upload). */
  upload: null,
  /** Its warnings model (warnings.js), when it has warnings. */
  warn: null,
  expiryTimer: null,
  idempotencyKey: null,
  /** What step 4 makes a batch of: `{ fileId }` for one upload, `{ fileIds }` for several. */
  target: null,
  /** The several-files answer being looked at (several.js `summarise`), or null. */
  several: null,
  /** What the status region said after the upload (the dry run's verdict is added to it). */
  said: '',
  /** The batch made from several files, whose first results lines are shown when it ends. */
  peekFor: null,
  /** Step 4's dry run and create (create-flow.js). */
  flow: initialFlow(),
  uploading: false,
  /** Aborts the upload in progress (Cancel), or null. */
  cancelUpload: null,
};

const api = createApi(() => state.key);
const sessions = createSessionUploads({ api, storage: localStorage });

/** Step 5: the batch being followed (follow.js). */
const follower = createFollower({
  fetchBatch: (id) => api.send('GET', routes.batch(id)),
  onBatch: (b, changed) => {
    renderBatch(b);
    if (changed) announce(batchAnnouncement(b));
  },
  onLost: () => announce('Lost contact with batchgate for a moment; still following the batch…'),
  onError: (e) => showError('The batch could not be followed.', e),
  onFinished: (b) => {
    void loadBatches();
    if (b.id === state.peekFor) void peekResults(b.id);
  },
});

async function download(path, accept, fallbackName) {
  const file = await api.fetchFile(path, accept, fallbackName);
  saveFile(file.blob, file.filename);
}

// ---------------------------------------------------------------- errors

function clearError() {
  $('error').textContent = '';
  show($('error-wrap'), false);
}

/** Shows an error as sentences; `context` says what was being done ("The upload failed."). */
function showError(context, err) {
  const e = toApiError(err);
  if (e.code === 'unauthorized') forgetKey();
  renderError(context, e);
  show($('error-wrap'), true);
  announce('');
  $('error-wrap').scrollIntoView({ block: 'nearest' });
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
  follower.stop();
  resetUpload();
  $('recent-body').textContent = '';
  showKeyForm();
}

async function submitKey(event) {
  event.preventDefault();
  const key = $('key-input').value.trim();
  if (!key) return;
  state.key = key;
  clearError();
  announce('Checking the key…');
  try {
    const list = await api.send('GET', routes.batches(RECENT_BATCHES));
    sessionStorage.setItem(KEY_STORAGE, key);
    showApp();
    showBatches(list.data);
    announce('Key accepted. Choose a file to upload.');
    offerResume();
    $('file-input').focus();
  } catch (e) {
    state.key = null;
    showError('The key could not be used.', e);
  }
}

// ---------------------------------------------------------------- upload

function resetUpload() {
  state.upload = null;
  state.target = null;
  state.several = null;
  state.said = '';
  state.peekFor = null;
  state.warn = null;
  state.idempotencyKey = null;
  clearInterval(state.expiryTimer);
  for (const id of [
    'summary-section',
    'files-section',
    'results-peek',
    'warnings-section',
    'preview-section',
    'create-section',
    'upload-progress-wrap',
  ]) {
    show($(id), false);
  }
  show($('dry-run-result'), false);
  $('batch-name').value = '';
  $('create-heading').textContent = '4. Create the batch';
  $('batch-heading').textContent = '5. Batch progress';
  dispatch({ type: 'reset' });
}

/**
 * One file goes the single-file way (summary, warnings, preview); several make one card each. Files
 * over 16 MiB, and every file when "resumable" is ticked, go through an upload session; the others
 * in one multipart request, as before.
 */
function uploadFiles(list) {
  const files = Array.from(list || []);
  if (!files.length || state.uploading) return;
  const resumable = $('resumable-input').checked;
  const items = files.map((file, index) => ({ file, index }));
  const what = files.length > 1 ? `${files.length} files` : filePath(files[0]);
  const size = files.reduce((n, f) => n + f.size, 0);
  void transferAll(files.length, `Uploading ${what} (${formatBytes(size)})…`, async (signal) => {
    // Both ways to their end, even after one failed: a Cancel must have deleted every session it
    // started before the page says so (and before it looks for sessions left to resume).
    const ends = await Promise.allSettled([
      sessions.start(
        items.filter((i) => needsSession(i.file, resumable)),
        formOptions(),
        signal,
      ),
      sendDirect(
        items.filter((i) => !needsSession(i.file, resumable)),
        signal,
      ),
    ]);
    const failed = ends.find((e) => e.status === 'rejected');
    if (failed) throw failed.reason;
    return ends.flatMap((e) => e.value);
  });
}

function formOptions() {
  return { schema: $('schema-input').value, format: $('format-select').value };
}

/**
 * Runs `send(signal)` (it resolves to one outcome per file, see session-uploads.js) with the page
 * in its uploading state, Cancel wired to the signal, then shows what came back.
 */
async function transferAll(count, saying, send) {
  clearError();
  follower.stop();
  show($('batch-section'), false);
  resetUpload();
  state.uploading = true;
  const controller = new AbortController();
  state.cancelUpload = controller;
  for (const id of ['file-input', 'folder-input', 'resume-input']) $(id).disabled = true;
  show($('resume-offer'), false);
  show($('cancel-upload-wrap'), true);
  $('cancel-upload').disabled = false;
  announce(saying);
  let outcomes = null;
  try {
    outcomes = await send(controller.signal);
  } catch (e) {
    if (isAbort(e)) announce('The upload was cancelled.');
    else showError('The upload failed.', e);
  } finally {
    state.uploading = false;
    state.cancelUpload = null;
    for (const id of ['file-input', 'folder-input', 'resume-input']) {
      $(id).disabled = false;
      $(id).value = '';
    }
    show($('upload-progress-wrap'), false);
    show($('cancel-upload-wrap'), false);
    clearTransfers();
  }
  if (outcomes) showOutcomes(count, outcomes);
  offerResume();
}

/** Every file's end: one file as the single-file report (or its refusal), several as cards. */
function showOutcomes(count, outcomes) {
  if (count === 1) {
    const o = outcomes[0];
    if (o.result) onUploaded(o.result);
    else showError('The upload failed.', o.error);
    return;
  }
  const answer = combine(outcomes);
  onSeveralUploaded(answer);
  if (!answer.accepted.length) showError('The upload failed.', answer.refused[0].error);
}

/** The files that go in one multipart request (POST /v1/batch/upload), with its progress bar. */
async function sendDirect(items, signal) {
  if (!items.length) return [];
  const files = items.map((i) => i.file);
  const bar = $('upload-progress');
  const label = $('upload-progress-label');
  const what = files.length > 1 ? `${files.length} files` : filePath(files[0]);
  bar.value = 0;
  label.textContent = `Uploading ${what}…`;
  show($('upload-progress-wrap'), true);
  const res = await postForm(routes.upload, state.key, uploadForm(files, formOptions()), {
    signal,
    onProgress: (loaded, total) => {
      const pct = Math.round((loaded / total) * 100);
      bar.value = pct;
      label.textContent = `Uploading ${what}: ${pct} %`;
    },
    onSent: () => {
      bar.value = 100;
      label.textContent = 'Uploaded. batchgate is checking every row…';
    },
  });
  const error = res.status === 0 ? ApiError.network('') : new ApiError(res.status, res.body, res.retryAfter);
  const refusedAll = (e) => items.map((i) => ({ index: i.index, name: i.file.name, path: null, error: e }));
  if (files.length === 1) {
    return res.status === 200 && res.body && res.body.fileId
      ? [{ index: items[0].index, result: res.body }]
      : refusedAll(error);
  }
  const answer = summarise(res.status, res.body);
  if (!answer) return refusedAll(error);
  // Indexes in the answer count the files of this request; the page's count all it was given.
  return [
    ...answer.accepted.map((u) => ({ index: items[u.index ?? 0].index, result: u })),
    ...answer.refused.map((r) => ({ index: items[r.index].index, name: r.name, path: r.path, error: r.error })),
  ];
}

// ---------------------------------------------------------------- resuming an upload session

/** Shows the offer to resume when an upload session was left unfinished (a reload, a dropped connection). */
function offerResume(unmatched) {
  if (state.uploading || !state.key) return;
  const records = readPending(localStorage);
  renderResumeOffer(records, { unmatched, tryAgain: sessions.heldPairs(records).length === records.length });
}

/** The files picked again to resume: each must be the one its session was made for (name, size, modification time). */
function resumeWith(list) {
  const records = readPending(localStorage);
  const { pairs, unmatched } = matchFiles(records, Array.from(list || []));
  $('resume-input').value = '';
  if (!pairs.length) {
    offerResume(unmatched);
    announce(mismatchText(unmatched));
    return;
  }
  resumePairs(pairs);
}

function resumePairs(pairs) {
  const names = pairs.map((p) => p.record.path || p.record.name).join(', ');
  void transferAll(pairs.length, `Resuming the upload of ${names}…`, (signal) => sessions.resume(pairs, signal));
}

async function discardPending() {
  const records = readPending(localStorage);
  $('resume-discard').disabled = true;
  await sessions.discard(records);
  $('resume-discard').disabled = false;
  offerResume();
  announce('The interrupted upload was discarded.');
}

function onUploaded(upload) {
  state.upload = upload;
  state.target = { fileId: upload.fileId };
  state.said = uploadAnnouncement(upload);
  state.idempotencyKey = randomKey();
  renderSummary(upload);
  show($('summary-section'), true);
  startExpiryCountdown(upload.expiresAt);
  setupWarnings(upload);
  show($('create-section'), true);
  void loadPreview(upload);
  // The dry run runs by itself, so Create batch is usable (or says why not) without a click first.
  void dryRun({ quiet: true });
  announce(uploadAnnouncement(upload));
  $('summary-heading').focus();
}

/** Several files: one card each; every accepted one goes into the one batch step 4 makes. */
function onSeveralUploaded(answer) {
  state.several = answer;
  renderFileCards(answer, { downloadErrors: (u, button) => void downloadFileErrors(u, button) });
  show($('files-section'), true);
  state.said = severalAnnouncement(answer);
  announce(state.said);
  $('files-heading').focus();
  if (!answer.accepted.length) return;
  state.target = { fileIds: answer.accepted.map((u) => u.fileId) };
  // No preview step for several files: the steps are numbered on from the cards.
  $('create-heading').textContent = '3. Create one batch of every accepted file';
  $('batch-heading').textContent = '4. Batch progress';
  state.idempotencyKey = randomKey();
  // The batch needs every fileId: Create batch stops when the first of them expires.
  const first = Math.min(...answer.accepted.map((u) => new Date(u.expiresAt).getTime()).filter((n) => !isNaN(n)));
  clearInterval(state.expiryTimer);
  if (Number.isFinite(first)) {
    state.expiryTimer = setTimeout(() => dispatch({ type: 'expired' }), Math.max(0, first - Date.now()));
  }
  show($('create-section'), true);
  void dryRun({ quiet: true });
}

async function downloadFileErrors(u, button) {
  button.disabled = true;
  const base = String(u.originalFileName || 'file').replace(/\.[^.]*$/, '');
  try {
    await download(routes.errorsCsv(u.fileId), 'text/csv', `${base}-rejected-rows.csv`);
    announce(`The rejected rows of ${u.path || u.originalFileName} were downloaded as a CSV.`);
  } catch (e) {
    showError('The rejected rows could not be downloaded.', e);
  } finally {
    button.disabled = false;
  }
}

/** The first lines of a finished several-files batch's results, with the file and row of each. */
async function peekResults(id) {
  let text;
  try {
    const file = await api.fetchFile(routes.results(id), 'application/x-ndjson', 'results.ndjson');
    text = await file.blob.text();
  } catch {
    return; // The download button still offers them; this is a glance only.
  }
  if (state.peekFor !== id) return;
  const names = state.several ? fileNames(state.several.accepted) : {};
  renderResultsPeek(resultsFiles(text, names), resultsPeek(text, 5, names));
}

function startExpiryCountdown(expiresAt) {
  const dd = $('sum-expiry');
  const at = new Date(expiresAt).getTime();
  clearInterval(state.expiryTimer);
  $('sum-expiry-label').textContent = 'fileId expires';
  const tick = () => {
    if (isNaN(at)) {
      dd.textContent = '—';
      return;
    }
    const left = at - Date.now();
    if (left <= 0) {
      clearInterval(state.expiryTimer);
      dd.textContent = 'Expired: upload the file again';
      dd.className = 'expired';
      dispatch({ type: 'expired' });
      return;
    }
    dd.className = '';
    dd.textContent = `in ${formatDuration(left)} (${new Date(at).toLocaleTimeString()})`;
  };
  tick();
  state.expiryTimer = setInterval(tick, 1000);
}

// ---------------------------------------------------------------- warnings

function setupWarnings(u) {
  const section = $('warnings-section');
  if (!u.validationErrorCount) {
    show(section, false);
    return;
  }
  state.warn = createWarnings({
    total: u.validationErrorCount,
    summary: u.errorSummary || [],
    fetchPage: (offset, limit) => api.send('GET', routes.errors(u.fileId, offset, limit)),
  });
  const options = filterOptions(u.errorSummary || []);
  fillSelect($('filter-column'), options.columns);
  fillSelect($('filter-rule'), options.rules);
  show(section, true);
  void showWarnings();
}

async function showWarnings() {
  const w = state.warn;
  if (!w) return;
  const section = $('warnings-section');
  $('warnings-prev').disabled = true;
  $('warnings-next').disabled = true;
  $('warnings-range').textContent = 'Loading warnings…';
  section.setAttribute('aria-busy', 'true');
  let view;
  try {
    view = await w.view();
  } catch (e) {
    if (w === state.warn) {
      $('warnings-range').textContent = '';
      section.removeAttribute('aria-busy');
      showError('The warnings could not be loaded.', e);
    }
    return;
  }
  // null: a later page or filter was asked for meanwhile, and its answer will be shown.
  if (w !== state.warn || !view) return;
  renderWarnings(view);
  section.removeAttribute('aria-busy');
}

function changePage(delta) {
  if (!state.warn) return;
  state.warn.move(delta);
  void showWarnings();
}

function changeFilter() {
  if (!state.warn) return;
  state.warn.setFilter($('filter-column').value, $('filter-rule').value);
  void showWarnings();
}

async function downloadErrors() {
  const u = state.upload;
  if (!u) return;
  const button = $('download-errors');
  button.disabled = true;
  try {
    await download(routes.errorsCsv(u.fileId), 'text/csv', 'rejected-rows.csv');
    announce('The rejected rows were downloaded as a CSV.');
  } catch (e) {
    showError('The rejected rows could not be downloaded.', e);
  } finally {
    button.disabled = false;
  }
}

// ---------------------------------------------------------------- preview

async function loadPreview(u) {
  let data;
  try {
    data = await api.send('GET', routes.preview(u.fileId, PREVIEW_ITEMS));
  } catch (e) {
    if (state.upload === u) showError('The preview could not be loaded.', e);
    return;
  }
  if (state.upload !== u) return;
  renderPreview(data, u.itemCount);
  show($('preview-section'), true);
}

// ---------------------------------------------------------------- dry run and create

/** Moves step 4 on (create-flow.js) and shows what that means for its buttons and note. */
function dispatch(event) {
  state.flow = reduce(state.flow, event);
  const c = controls(state.flow);
  $('create-batch').disabled = c.createDisabled;
  $('dry-run').disabled = c.checkDisabled;
  const note = $('create-note');
  note.textContent = c.note;
  note.className = `create-note ${c.tone}`;
  show(note, c.note !== '');
}

/**
 * POST /v1/batch with dryRun. `quiet` (the automatic run after an upload) leaves the error box and
 * the status region to the upload's own news; a refusal still shows in the verdict and beside Create batch.
 */
async function dryRun({ quiet }) {
  const target = state.target;
  if (!target) return;
  dispatch({ type: 'check' });
  if (state.flow.phase !== 'checking') return;
  const ticket = state.flow.ticket;
  if (!quiet) {
    clearError();
    announce('Checking what this batch would use…');
  }
  show($('dry-run-result'), false);
  let verdict;
  try {
    verdict = await api.send(
      'POST',
      routes.createBatch,
      batchRequest({ ...target, name: $('batch-name').value, dryRun: true }),
    );
  } catch (e) {
    if (state.target !== target) return;
    dispatch({ type: 'checkFailed', ticket, error: toApiError(e) });
    showError('The dry run failed.', e);
    return;
  }
  if (state.target !== target) return;
  dispatch({ type: 'verdict', ticket, verdict });
  if (state.flow.verdict !== verdict) return;
  renderDryRun(verdict, state.flow.error);
  // After an upload the status region first says what the upload found; the verdict follows it there.
  const said = state.said;
  if (!quiet) announce(verdictAnnouncement(verdict));
  else if ($('status').textContent === said) announce(`${said} ${verdictAnnouncement(verdict)}`);
}

async function createBatch(event) {
  event.preventDefault();
  const target = state.target;
  if (!target || !canCreate(state.flow)) return;
  clearError();
  dispatch({ type: 'create' });
  announce('Creating the batch…');
  let created;
  try {
    // The key makes a retry after a lost answer replay the first one instead of meeting 409 (API.md, POST /v1/batch).
    created = await api.send('POST', routes.createBatch, batchRequest({ ...target, name: $('batch-name').value }), {
      'Idempotency-Key': state.idempotencyKey,
    });
  } catch (err) {
    if (state.target !== target) return;
    const e = toApiError(err);
    if (needsNewIdempotencyKey(e)) state.idempotencyKey = randomKey();
    dispatch({ type: 'createFailed', error: e });
    // A refusal makes the dry run's "Ready" out of date; the note beside Create batch says why instead.
    if (state.flow.phase === 'refused') show($('dry-run-result'), false);
    showError('The batch was not created.', e);
    return;
  }
  if (state.target !== target) return;
  dispatch({ type: 'created' });
  // The upload is consumed: nothing more to do with it but look at it.
  if (target.fileIds) {
    clearInterval(state.expiryTimer);
    markCardsUsed(created.id);
    state.peekFor = created.id;
  } else {
    clearInterval(state.expiryTimer);
    $('sum-expiry-label').textContent = 'fileId used by';
    $('sum-expiry').textContent = `batch ${created.id}`;
  }
  show($('create-section'), false);
  followBatch(created.id, null);
  void loadBatches();
}

// ---------------------------------------------------------------- batch progress

function followBatch(id, initial) {
  clearError();
  show($('batch-section'), true);
  show($('download-results'), false);
  show($('start-over'), false);
  show($('cancel-batch'), false);
  show($('results-peek'), false);
  $('batch-title').textContent = `Batch ${id}`;
  $('batch-status').textContent = '';
  $('batch-progress').value = 0;
  $('batch-progress-label').textContent = 'Waiting for the batch to start…';
  $('batch-counts').textContent = '';
  $('batch-heading').focus();
  follower.follow(id, initial);
}

async function downloadResults(id) {
  try {
    await download(routes.results(id), 'application/x-ndjson', `batch-${id}-results.ndjson`);
    announce('The results were downloaded.');
  } catch (e) {
    showError('The results could not be downloaded.', e);
  }
}

async function cancelBatch() {
  const id = follower.id;
  if (!id) return;
  $('cancel-batch').disabled = true;
  try {
    renderBatch(await api.send('POST', routes.cancel(id)));
  } catch (e) {
    showError('The batch could not be cancelled.', e);
  } finally {
    $('cancel-batch').disabled = false;
  }
}

function startOver() {
  follower.stop();
  clearError();
  show($('batch-section'), false);
  resetUpload();
  announce('Choose the next file to upload.');
  $('file-input').focus();
}

// ---------------------------------------------------------------- recent batches

function showBatches(batches) {
  renderBatches(batches, {
    follow: (b) => followBatch(b.id, b),
    results: (id) => void downloadResults(id),
  });
}

async function loadBatches() {
  if (!state.key) return;
  try {
    const list = await api.send('GET', routes.batches(RECENT_BATCHES));
    showBatches(list.data);
  } catch (e) {
    showError('The recent batches could not be loaded.', e);
  }
}

// ---------------------------------------------------------------- wiring

/** A drop's files; a dropped folder is read through (its entries must be taken during the event). */
async function dropped(dt) {
  if (!dt) return;
  const items = Array.from(dt.items || []).filter((i) => i.kind === 'file');
  const entries = items.map((i) => (i.webkitGetAsEntry ? i.webkitGetAsEntry() : null));
  if (entries.some((e) => e && e.isDirectory)) {
    try {
      uploadFiles(await filesFromEntries(entries));
    } catch (e) {
      showError('The folder could not be read.', e);
    }
  } else uploadFiles(dt.files);
}

function wireDropzone() {
  const zone = $('dropzone');
  let depth = 0;
  zone.addEventListener('dragenter', (e) => {
    e.preventDefault();
    depth++;
    zone.classList.add('dragging');
  });
  zone.addEventListener('dragover', (e) => {
    e.preventDefault();
    if (e.dataTransfer) e.dataTransfer.dropEffect = 'copy';
  });
  zone.addEventListener('dragleave', () => {
    depth = Math.max(0, depth - 1);
    if (!depth) zone.classList.remove('dragging');
  });
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    depth = 0;
    zone.classList.remove('dragging');
    void dropped(e.dataTransfer);
  });
  // A file dropped next to the zone must not make the browser navigate away from the page.
  for (const type of ['dragover', 'drop']) window.addEventListener(type, (e) => e.preventDefault());
}

function init() {
  $('key-form').addEventListener('submit', (e) => void submitKey(e));
  $('forget-key').addEventListener('click', () => {
    clearError();
    forgetKey();
    announce('The key was forgotten. Enter a key to continue.');
  });
  $('file-input').addEventListener('change', (e) => uploadFiles(e.target.files));
  $('folder-input').addEventListener('change', (e) => uploadFiles(e.target.files));
  $('resume-input').addEventListener('change', (e) => resumeWith(e.target.files));
  $('resume-again').addEventListener('click', () => {
    const records = readPending(localStorage);
    const pairs = sessions.heldPairs(records);
    if (pairs.length) resumePairs(pairs);
  });
  $('resume-discard').addEventListener('click', () => void discardPending());
  $('cancel-upload').addEventListener('click', () => {
    if (!state.cancelUpload) return;
    $('cancel-upload').disabled = true;
    announce('Cancelling the upload…');
    state.cancelUpload.abort();
  });
  wireDropzone();
  $('warnings-prev').addEventListener('click', () => changePage(-1));
  $('warnings-next').addEventListener('click', () => changePage(1));
  $('filter-column').addEventListener('change', changeFilter);
  $('filter-rule').addEventListener('change', changeFilter);
  $('download-errors').addEventListener('click', () => void downloadErrors());
  $('dry-run').addEventListener('click', () => void dryRun({ quiet: false }));
  $('create-form').addEventListener('submit', (e) => void createBatch(e));
  $('download-results').addEventListener('click', () => {
    if (follower.id) void downloadResults(follower.id);
  });
  $('cancel-batch').addEventListener('click', () => void cancelBatch());
  $('start-over').addEventListener('click', startOver);
  $('dismiss-error').addEventListener('click', clearError);
  $('refresh-batches').addEventListener('click', () => void loadBatches());

  state.key = sessionStorage.getItem(KEY_STORAGE);
  if (state.key) {
    showApp();
    offerResume();
    void loadBatches();
  } else showKeyForm();
}

init();
