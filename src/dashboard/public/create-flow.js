/*
 * Step 4, "Create the batch", as a state machine: an upload's dry run runs by itself as soon as the
 * upload is shown, Create batch works only while the latest verdict is "accepted", and whenever it
 * does not work the note beside it says why. Pure (no DOM, no fetch): `reduce` takes the flow and an
 * event and gives the next flow, `controls` says what the buttons and the note show.
 *
 * Phases: idle (no upload) → checking → accepted | refused | unchecked (the dry run got no verdict)
 * → creating → created, or back to accepted (a retry under the same Idempotency-Key replays the first
 * answer) or refused (a definite refusal). `expired` (the fileId's time is up) stops everything.
 */
import { ApiError, isTransient, sentenceFor } from './api.js';
import { fmt } from './format.js';

export function initialFlow() {
  return { phase: 'idle', ticket: 0, expired: false, verdict: null, error: null };
}

/**
 * Events: { type: 'check' } (a dry run starts; its answer must carry the ticket the flow then has),
 * { type: 'verdict', ticket, verdict } (a dry run's 200 body), { type: 'checkFailed', ticket, error },
 * { type: 'create' }, { type: 'createFailed', error }, { type: 'created' }, { type: 'expired' },
 * { type: 'reset' }. An answer to an older dry run than the latest is ignored.
 */
export function reduce(flow, event) {
  switch (event.type) {
    case 'reset':
      return initialFlow();
    case 'check':
      if (flow.expired || flow.phase === 'creating' || flow.phase === 'created') return flow;
      return { ...flow, phase: 'checking', ticket: flow.ticket + 1, verdict: null, error: null };
    case 'verdict': {
      if (event.ticket !== flow.ticket || flow.phase !== 'checking') return flow;
      const accepted = event.verdict.verdict === 'accepted';
      return {
        ...flow,
        phase: accepted ? 'accepted' : 'refused',
        verdict: event.verdict,
        error: accepted ? null : ApiError.fromVerdict(event.verdict),
      };
    }
    case 'checkFailed':
      if (event.ticket !== flow.ticket || flow.phase !== 'checking') return flow;
      return { ...flow, phase: 'unchecked', error: event.error };
    case 'create':
      return canCreate(flow) ? { ...flow, phase: 'creating', error: null } : flow;
    case 'createFailed': {
      if (flow.phase !== 'creating') return flow;
      // No answer, or one still being made: the same request may be sent again (its key replays the
      // first answer). Anything else is a refusal that sending it again will not change.
      const retry = isTransient(event.error) || event.error.code === 'idempotency_conflict';
      return { ...flow, phase: retry ? 'accepted' : 'refused', error: event.error };
    }
    case 'created':
      return flow.phase === 'creating' ? { ...flow, phase: 'created', error: null } : flow;
    case 'expired':
      return { ...flow, expired: true };
    default:
      return flow;
  }
}

export function canCreate(flow) {
  return flow.phase === 'accepted' && !flow.expired;
}

const EXPIRED = sentenceFor({ code: 'file_expired' });

/**
 * What step 4 shows: `note` is the text beside Create batch (empty when there is nothing to say) and
 * `tone` its colour ('bad' for a reason it is off, 'info' for work under way).
 */
export function controls(flow) {
  const idle = { createDisabled: true, checkDisabled: true, note: '', tone: 'info' };
  if (flow.expired) return { ...idle, note: EXPIRED, tone: 'bad' };
  switch (flow.phase) {
    case 'checking':
      return { ...idle, note: 'Checking what this batch would use (dry run)…' };
    case 'accepted':
      return {
        createDisabled: false,
        checkDisabled: false,
        note: flow.error ? `Not created yet: ${sentenceFor(flow.error)}` : '',
        tone: flow.error ? 'bad' : 'info',
      };
    case 'refused':
      return { createDisabled: true, checkDisabled: false, note: sentenceFor(flow.error), tone: 'bad' };
    case 'unchecked':
      return {
        createDisabled: true,
        checkDisabled: false,
        note: `The quota could not be checked: ${sentenceFor(flow.error)}`,
        tone: 'bad',
      };
    case 'creating':
      return { ...idle, note: 'Creating the batch…' };
    default:
      return idle;
  }
}

/** What the status region says about a dry run's verdict (a 200 body of POST /v1/batch with dryRun). */
export function verdictAnnouncement(v) {
  if (v.verdict === 'accepted') {
    return `Dry run: the batch would be accepted and use ${fmt((v.quota || {}).wouldUse)} items of your monthly quota.`;
  }
  return `Dry run: the batch would be refused. ${sentenceFor(ApiError.fromVerdict(v))}`;
}
