import { ApiError } from './api.js';
import { createFollower, POLL_MS, RETRY_MS } from './follow.js';

const batch = (status: string, processedCount = 0) => ({ id: 'b_1', status, itemCount: 3, processedCount });

/** A follower over answers given in order (a batch, or an error to throw), recording what it reports. */
function setup(answers: unknown[]) {
  const asked: string[] = [];
  const told: string[] = [];
  const follower = createFollower({
    fetchBatch: (id: string) => {
      asked.push(id);
      const next = answers.shift();
      return next instanceof Error ? Promise.reject(next) : Promise.resolve(next);
    },
    onBatch: (b: { id: string; status: string }, changed: boolean) =>
      told.push(`${b.id} ${b.status}${changed ? ' (new)' : ''}`),
    onLost: (e: ApiError) => told.push(`lost ${e.code}`),
    onError: (e: ApiError) => told.push(`error ${e.code}`),
    onFinished: (b: { status: string }) => told.push(`finished ${b.status}`),
  });
  return { follower, asked, told };
}

/** Lets the pending fetch's promise settle, then moves the clock on. */
async function after(ms: number) {
  await jest.advanceTimersByTimeAsync(ms);
}

describe('dashboard batch follower', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('asks every second until the batch ends, telling each status change once', async () => {
    const { follower, asked, told } = setup([
      batch('queued'),
      batch('processing', 1),
      batch('processing', 2),
      batch('completed', 3),
    ]);
    follower.follow('b_1');
    await after(0);
    expect(told).toEqual(['b_1 queued (new)']);
    await after(POLL_MS);
    await after(POLL_MS);
    await after(POLL_MS);
    expect(told).toEqual([
      'b_1 queued (new)',
      'b_1 processing (new)',
      'b_1 processing',
      'b_1 completed (new)',
      'finished completed',
    ]);
    // Nothing more is asked once it has ended; the id stays (its results can still be downloaded).
    await after(POLL_MS * 5);
    expect(asked).toHaveLength(4);
    expect(follower.id).toBe('b_1');
  });

  it('starts from a batch already in hand', async () => {
    const { follower, told } = setup([batch('processing'), batch('cancelled')]);
    follower.follow('b_1', batch('processing'));
    await after(0);
    await after(POLL_MS);
    expect(told).toEqual(['b_1 processing (new)', 'b_1 processing', 'b_1 cancelled (new)', 'finished cancelled']);
  });

  it('keeps following, slower, while batchgate cannot be reached, waiting as Retry-After says', async () => {
    const limited = new ApiError(429, { error: { code: 'rate_limited' } }, '10');
    const { follower, asked, told } = setup([ApiError.network(''), limited, batch('completed', 3)]);
    follower.follow('b_1');
    await after(0);
    expect(told).toEqual(['lost network']);
    await after(RETRY_MS - 1);
    expect(asked).toHaveLength(1);
    await after(1);
    expect(told).toEqual(['lost network', 'lost rate_limited']);
    await after(9_999);
    expect(asked).toHaveLength(2);
    await after(1);
    expect(told.slice(-1)).toEqual(['finished completed']);
  });

  it('stops at an error that waiting will not fix', async () => {
    const gone = new ApiError(404, { error: { code: 'batch_not_found' } }, null);
    const { follower, asked, told } = setup([gone]);
    follower.follow('b_1');
    await after(POLL_MS * 5);
    expect(told).toEqual(['error batch_not_found']);
    expect(asked).toHaveLength(1);
  });

  it('reports only the batch followed last, and nothing once stopped', async () => {
    const { follower, asked, told } = setup([batch('processing'), { ...batch('queued'), id: 'b_2' }]);
    follower.follow('b_1');
    follower.follow('b_2');
    await after(0);
    // b_1's answer arrived after b_2 was chosen: not reported.
    expect(told).toEqual(['b_2 queued (new)']);
    follower.stop();
    expect(follower.id).toBeNull();
    await after(POLL_MS * 3);
    expect(asked).toEqual(['b_1', 'b_2']);
  });
});
