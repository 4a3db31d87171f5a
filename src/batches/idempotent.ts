import { Logger } from '@nestjs/common';
import type { IdempotencyRepository } from '../store/idempotency.repository';

const logger = new Logger('Idempotency');

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
  let answer: HttpAnswer;
  try {
    answer = await run();
  } catch (e) {
    await records.fail(orgId, key, started.marker).catch(() => undefined);
    throw e;
  }
  // The batch exists now: its answer is the truth even if Redis fails before it is kept for replays
  // (a 503 here would have the client retry, and make a second batch once the marker expires).
  for (let attempt = 0; ; attempt++) {
    try {
      await records.succeed(orgId, key, started.hash, answer.status, answer.body);
      return answer;
    } catch (e) {
      if (attempt === 2) {
        logger.warn(`Idempotency-Key answer not kept (${(e as Error).message}): a retry within 120 s gets 409`);
        return answer;
      }
      await new Promise((r) => setTimeout(r, 200 * (attempt + 1)));
    }
  }
}
