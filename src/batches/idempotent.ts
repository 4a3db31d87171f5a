import type { IdempotencyRepository } from '../store/idempotency.repository';

export interface HttpAnswer {
  status: number;
  body: unknown;
  replayed?: boolean;
}

/**
 * The Idempotency-Key protocol around one request, per organization: the first successful answer is
 * replayed for 24 hours; the same key with another body is 422; the same key while the first request
 * is still in flight is 409. Failures are not stored, so a retry after a 402 or a 503 is judged afresh.
 */
export async function idempotent(
  records: IdempotencyRepository,
  orgId: string,
  key: string,
  body: unknown,
  run: () => Promise<HttpAnswer>,
): Promise<HttpAnswer> {
  const started = await records.start(orgId, key, body);
  if (started.kind === 'replay') return { status: started.status, body: started.body, replayed: true };
  try {
    const answer = await run();
    await records.succeed(orgId, key, started.hash, answer.status, answer.body);
    return answer;
  } catch (e) {
    await records.fail(orgId, key).catch(() => undefined);
    throw e;
  }
}
