import { Inject, Injectable } from '@nestjs/common';
import type Redis from 'ioredis';
import { createHash } from 'node:crypto';
import { AppError } from '../errors/app-error';
import { REDIS } from '../redis/redis.module';
import { keys } from '../redis/redis-keys';

const REPLAY_SECONDS = 24 * 3600;
/** A request still "in flight" after this long is taken to have died with its process. */
const IN_FLIGHT_SECONDS = 120;

interface Stored {
  state: 'pending' | 'done';
  hash: string;
  status?: number;
  body?: unknown;
}

/** JSON with object keys sorted, so that two equal bodies hash the same whatever their key order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export type IdempotencyStart = { kind: 'new'; hash: string } | { kind: 'replay'; status: number; body: unknown };

/**
 * Idempotency-Key on POST /v1/batch, per organization: the first successful response is replayed
 * for 24 hours; the same key with another body is 422; the same key while the first request is still
 * in flight is 409. Failures are not stored, so a retry after a 402 or a 503 is evaluated afresh.
 */
@Injectable()
export class IdempotencyService {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  private key(orgId: string, idemKey: string): string {
    return keys.idempotency(orgId, createHash('sha256').update(idemKey).digest('base64url'));
  }

  async start(orgId: string, idemKey: string, body: unknown): Promise<IdempotencyStart> {
    if (idemKey.length > 255) throw new AppError('validation_error', 'Idempotency-Key must be at most 255 characters.');
    const hash = createHash('sha256').update(canonicalJson(body)).digest('hex');
    const key = this.key(orgId, idemKey);
    for (let attempt = 0; attempt < 3; attempt++) {
      const pending: Stored = { state: 'pending', hash };
      if (await this.redis.set(key, JSON.stringify(pending), 'EX', IN_FLIGHT_SECONDS, 'NX'))
        return { kind: 'new', hash };
      const raw = await this.redis.get(key);
      if (!raw) continue; // expired between the two calls
      const stored = JSON.parse(raw) as Stored;
      if (stored.hash !== hash) {
        throw new AppError(
          'idempotency_key_reused',
          'This Idempotency-Key was already used with a different request body.',
        );
      }
      if (stored.state === 'pending') {
        throw new AppError(
          'idempotency_conflict',
          'A request with this Idempotency-Key is still in progress.',
          undefined,
          undefined,
          1,
        );
      }
      return { kind: 'replay', status: stored.status ?? 200, body: stored.body };
    }
    throw new AppError(
      'idempotency_conflict',
      'A request with this Idempotency-Key is still in progress.',
      undefined,
      undefined,
      1,
    );
  }

  async succeed(orgId: string, idemKey: string, hash: string, status: number, body: unknown): Promise<void> {
    const stored: Stored = { state: 'done', hash, status, body };
    await this.redis.set(this.key(orgId, idemKey), JSON.stringify(stored), 'EX', REPLAY_SECONDS);
  }

  async fail(orgId: string, idemKey: string): Promise<void> {
    await this.redis.del(this.key(orgId, idemKey));
  }
}
