/*
 * The DOM of upload sessions: one card per file being sent (a bar in bytes with the time left, then
 * a bar for validation with the rows so far) and the offer to resume an interrupted upload. Each
 * function writes its own elements from the data given; main.js and session-uploads.js keep the state.
 */
import { sentenceFor } from './api.js';
import { $, append, h, show } from './dom.js';
import { formatBytes } from './format.js';
import { sendLabel, validateLabel } from './session-plan.js';
import { interruptedText, mismatchText, resumeOffer } from './resume.js';

let cardCount = 0;

/**
 * A card for each file `{ key, name, size }` in the transfers list (appended: a mixed upload adds its
 * sessions as they start). Returns key → `{ update(report), end(word, tone, sentence) }`.
 */
export function renderTransfers(files) {
  const list = $('transfers');
  const cards = new Map();
  for (const f of files) {
    const n = ++cardCount;
    const sendLabelNode = h('label', {
      for: `transfer-send-${n}`,
      'data-testid': 'transfer-send-label',
      text: `Waiting to send ${formatBytes(f.size)}…`,
    });
    const sendBar = h('progress', {
      id: `transfer-send-${n}`,
      max: String(Math.max(1, f.size)),
      value: '0',
      'data-testid': 'transfer-send-progress',
    });
    const checkLabel = h('label', { for: `transfer-check-${n}`, 'data-testid': 'transfer-check-label' });
    const checkBar = h('progress', {
      id: `transfer-check-${n}`,
      max: String(Math.max(1, f.size)),
      value: '0',
      'data-testid': 'transfer-check-progress',
    });
    const check = h(
      'div',
      { class: 'transfer-check', 'data-testid': 'transfer-check', hidden: true },
      checkLabel,
      checkBar,
    );
    const badge = h('span', { class: 'badge queued', 'data-testid': 'transfer-state', text: 'Sending' });
    const note = h('p', { class: 'transfer-note', 'data-testid': 'transfer-note', hidden: true });
    const node = h(
      'li',
      { class: 'transfer', 'data-testid': 'transfer', 'data-key': f.key },
      h('div', { class: 'file-card-head' }, h('strong', { class: 'file-card-name', text: f.name }), badge),
      h('div', { class: 'transfer-send' }, sendLabelNode, sendBar),
      check,
      note,
    );
    append(list, node);
    cards.set(f.key, {
      update(r) {
        if (r.phase === 'sending') {
          sendBar.max = Math.max(1, r.total);
          sendBar.value = r.sent;
          sendLabelNode.textContent = sendLabel(r);
        } else if (r.phase === 'validating') {
          sendBar.value = sendBar.max;
          sendLabelNode.textContent = `Sent ${formatBytes(r.sizeBytes)}.`;
          badge.textContent = 'Checking';
          badge.className = 'badge processing';
          checkBar.max = Math.max(1, r.sizeBytes);
          checkBar.value = Math.min((r.progress && r.progress.bytesRead) || 0, r.sizeBytes);
          checkLabel.textContent = validateLabel(r.progress, r.sizeBytes);
          show(check, true);
        }
      },
      /** The file's end: `tone` is a badge class (completed, failed); `error`, when given, is said in a sentence. */
      end(word, tone, error) {
        badge.textContent = word;
        badge.className = `badge ${tone}`;
        node.setAttribute('data-state', tone);
        if (error) {
          note.textContent = sentenceFor(error);
          show(note, true);
        }
      },
    });
  }
  show($('transfers-wrap'), true);
  return cards;
}

export function clearTransfers() {
  $('transfers').textContent = '';
  show($('transfers-wrap'), false);
}

/**
 * The offer to resume `records` (resume.js), or nothing when there are none. `unmatched`, when given,
 * are the records the files just picked did not match (said under the offer). `tryAgain` shows the
 * button that resumes with the files this page still holds.
 */
export function renderResumeOffer(records, { unmatched, tryAgain } = {}) {
  const box = $('resume-offer');
  if (!records.length) {
    show(box, false);
    return;
  }
  $('resume-text').textContent = interruptedText(records);
  $('resume-label').textContent = resumeOffer(records);
  $('resume-input').multiple = records.length > 1;
  show($('resume-again'), Boolean(tryAgain));
  const note = $('resume-note');
  note.textContent = unmatched && unmatched.length ? mismatchText(unmatched) : '';
  show(note, Boolean(unmatched && unmatched.length));
  show(box, true);
}
