import { ApiError } from './api.js';
import { canCreate, controls, initialFlow, reduce, verdictAnnouncement } from './create-flow.js';

const quota = {
  wouldUse: 370,
  usedThisMonth: 0,
  remainingThisMonth: 999630,
  maxItemsPerMonth: 1000000,
  maxItemsPerBatch: 50000,
  activeBatches: 0,
  maxConcurrentBatches: 5,
};
const accepted = { dryRun: true, verdict: 'accepted', status: 202, itemCount: 370, fileId: 'f_1', quota };
const refused = {
  dryRun: true,
  verdict: 'refused',
  status: 402,
  error: { code: 'quota_exceeded', message: 'Batch exceeds 50000 items', details: { limit: 'maxItemsPerBatch' } },
  itemCount: 50001,
  fileId: 'f_1',
};
const apiError = (status: number, code: string, details: object = {}) =>
  new ApiError(status, { error: { code, message: 'm', details } }, null);

type Flow = ReturnType<typeof initialFlow>;
type Event = Parameters<typeof reduce>[1];
const run = (...events: Event[]): Flow => events.reduce((flow: Flow, e) => reduce(flow, e), initialFlow());

describe('dashboard create flow', () => {
  it('keeps Create batch off, with nothing to say, before any upload', () => {
    const flow = initialFlow();
    expect(flow.phase).toBe('idle');
    expect(canCreate(flow)).toBe(false);
    expect(controls(flow)).toEqual({ createDisabled: true, checkDisabled: true, note: '', tone: 'info' });
  });

  it('says a dry run is under way while it is', () => {
    const flow = run({ type: 'check' });
    expect(flow).toMatchObject({ phase: 'checking', ticket: 1 });
    expect(controls(flow)).toEqual({
      createDisabled: true,
      checkDisabled: true,
      note: 'Checking what this batch would use (dry run)…',
      tone: 'info',
    });
  });

  it('turns Create batch on once the dry run accepts, with no click on the dry run', () => {
    const flow = run({ type: 'check' }, { type: 'verdict', ticket: 1, verdict: accepted });
    expect(flow).toMatchObject({ phase: 'accepted', verdict: accepted, error: null });
    expect(canCreate(flow)).toBe(true);
    expect(controls(flow)).toEqual({ createDisabled: false, checkDisabled: false, note: '', tone: 'info' });
  });

  it('says beside the off button why a refused batch cannot be created', () => {
    const flow = run({ type: 'check' }, { type: 'verdict', ticket: 1, verdict: refused });
    expect(flow.phase).toBe('refused');
    expect(flow.error).toMatchObject({ status: 402, code: 'quota_exceeded' });
    expect(canCreate(flow)).toBe(false);
    expect(controls(flow)).toEqual({
      createDisabled: true,
      checkDisabled: false,
      note: 'Your plan does not allow this batch (limit on items per batch).',
      tone: 'bad',
    });
  });

  it('says so when the dry run got no verdict, and lets it be run again', () => {
    const failed = run({ type: 'check' }, { type: 'checkFailed', ticket: 1, error: ApiError.network('') });
    expect(controls(failed)).toEqual({
      createDisabled: true,
      checkDisabled: false,
      note: 'The quota could not be checked: batchgate could not be reached. Check your connection and try again.',
      tone: 'bad',
    });
    const again = reduce(reduce(failed, { type: 'check' }), { type: 'verdict', ticket: 2, verdict: accepted });
    expect(canCreate(again)).toBe(true);
  });

  it('ignores the answer to an older dry run than the latest', () => {
    const flow = run({ type: 'check' }, { type: 'check' }, { type: 'verdict', ticket: 1, verdict: accepted });
    expect(flow).toMatchObject({ phase: 'checking', ticket: 2 });
    expect(reduce(flow, { type: 'checkFailed', ticket: 1, error: ApiError.network('') }).phase).toBe('checking');
    expect(reduce(flow, { type: 'verdict', ticket: 2, verdict: refused }).phase).toBe('refused');
  });

  it('creates only from an accepted verdict, once', () => {
    const ready = run({ type: 'check' }, { type: 'verdict', ticket: 1, verdict: accepted });
    const creating = reduce(ready, { type: 'create' });
    expect(creating.phase).toBe('creating');
    expect(controls(creating)).toMatchObject({
      createDisabled: true,
      checkDisabled: true,
      note: 'Creating the batch…',
    });
    // A second submit while the first is under way does nothing; neither does a dry run.
    expect(reduce(creating, { type: 'create' })).toBe(creating);
    expect(reduce(creating, { type: 'check' })).toBe(creating);
    expect(reduce(creating, { type: 'created' }).phase).toBe('created');
    expect(reduce(run({ type: 'check' }), { type: 'create' }).phase).toBe('checking');
    expect(reduce(initialFlow(), { type: 'create' }).phase).toBe('idle');
  });

  it('lets a create be sent again after a lost answer, under the same key', () => {
    const creating = run({ type: 'check' }, { type: 'verdict', ticket: 1, verdict: accepted }, { type: 'create' });
    for (const error of [
      ApiError.network(''),
      apiError(503, 'internal_error'),
      apiError(409, 'idempotency_conflict'),
    ]) {
      const flow = reduce(creating, { type: 'createFailed', error });
      expect(flow.phase).toBe('accepted');
      expect(controls(flow)).toMatchObject({ createDisabled: false, tone: 'bad' });
      expect(controls(flow).note).toMatch(/^Not created yet: /);
    }
  });

  it('turns Create batch off after a definite refusal, saying why', () => {
    const creating = run({ type: 'check' }, { type: 'verdict', ticket: 1, verdict: accepted }, { type: 'create' });
    const flow = reduce(creating, {
      type: 'createFailed',
      error: apiError(402, 'quota_exceeded', { limit: 'maxConcurrentBatches' }),
    });
    expect(flow.phase).toBe('refused');
    expect(controls(flow)).toEqual({
      createDisabled: true,
      checkDisabled: false,
      note: 'Your plan does not allow this batch (limit on batches in progress at once).',
      tone: 'bad',
    });
  });

  it('stops everything once the upload has expired', () => {
    const ready = run({ type: 'check' }, { type: 'verdict', ticket: 1, verdict: accepted });
    const expired = reduce(ready, { type: 'expired' });
    expect(canCreate(expired)).toBe(false);
    expect(controls(expired)).toEqual({
      createDisabled: true,
      checkDisabled: true,
      note: 'This upload has expired and can no longer be used. Upload the file again.',
      tone: 'bad',
    });
    expect(reduce(expired, { type: 'check' })).toBe(expired);
    expect(reduce(expired, { type: 'create' })).toBe(expired);
    expect(reduce(expired, { type: 'reset' })).toEqual(initialFlow());
  });

  it('announces the verdict', () => {
    expect(verdictAnnouncement(accepted)).toBe(
      `Dry run: the batch would be accepted and use ${(370).toLocaleString()} items of your monthly quota.`,
    );
    expect(verdictAnnouncement(refused)).toBe(
      'Dry run: the batch would be refused. Your plan does not allow this batch (limit on items per batch).',
    );
  });
});
