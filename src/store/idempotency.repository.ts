import { Inject, Injectable } from '@nestjs/common';
import type Redis from 'ioredis';
import { createHash, randomUUID } from 'node:crypto';
import { AppError } from '../errors/app-error';
import { idempotencyInProgress, idempotencyKeyReused } from '../errors/errors';
import { REDIS } from '../redis/redis.module';
import { keys } from './redis-keys';

const REPLAY_SECONDS = 24 * 3600;
/** A request still "in flight" after this long is taken to have died with its process. */
const IN_FLIGHT_SECONDS = 120;

interface Stored {
  state: 'pending' | 'done';
  hash: string;
  /** A pending marker's owner: only the request that set it may drop it. */
  token?: string;
  status?: number;
  body?: unknown;
}

/**
 * JSON with object keys sorted, so that two equal bodies hash the same whatever their key order.
 * Iterative, not recursive: a body nested 100,000 levels deep (which JSON.parse accepts) must not
 * overflow the stack here before its items are validated (and the deep one refused as a row error).
 */
export function canonicalJson(value: unknown): string {
  const out: string[] = [];
  // Each entry is a value still to write, or (boxed) text to write as it is.
  const todo: ({ text: string } | { value: unknown })[] = [{ value }];
  while (todo.length) {
    const next = todo.pop()!;
    if ('text' in next) {
      out.push(next.text);
      continue;
    }
    const v = next.value;
    if (Array.isArray(v)) {
      todo.push({ text: ']' });
      for (let i = v.length - 1; i >= 0; i--) {
        todo.push({ value: v[i] as unknown });
        if (i > 0) todo.push({ text: ',' });
      }
      out.push('[');
    } else if (v && typeof v === 'object') {
      const keys = Object.keys(v).sort();
      todo.push({ text: '}' });
      for (let i = keys.length - 1; i >= 0; i--) {
        todo.push({ value: (v as Record<string, unknown>)[keys[i]] });
        todo.push({ text: `${i > 0 ? ',' : ''}${JSON.stringify(keys[i])}:` });
      }
      out.push('{');
    } else out.push(JSON.stringify(v) ?? 'null');
  }
  return out.join('');
}

export type IdempotencyStart =
  { kind: 'new'; hash: string; marker: string } | { kind: 'replay'; status: number; body: unknown };

/** Deletes the key only while it still holds this request's pending marker. */
const DROP_OWN_MARKER = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0";

/**
 * Idempotency-Key on POST /v1/batch, per organization: the first successful response is replayed
 * for 24 hours; the same key with another body is 422; the same key while the first request is still
 * in flight is 409. Failures are not stored, so a retry after a 402 or a 503 is evaluated afresh.
 */
@Injectable()
export class IdempotencyRepository {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  private key(orgId: string, idemKey: string): string {
    return keys.idempotency(orgId, createHash('sha256').update(idemKey).digest('base64url'));
  }

  async start(orgId: string, idemKey: string, body: unknown): Promise<IdempotencyStart> {
    if (idemKey.length > 255) throw new AppError('validation_error', 'Idempotency-Key must be at most 255 characters.');
    const hash = createHash('sha256').update(canonicalJson(body)).digest('hex');
    const key = this.key(orgId, idemKey);
    for (let attempt = 0; attempt < 3; attempt++) {
      const marker = JSON.stringify({ state: 'pending', hash, token: randomUUID() } satisfies Stored);
      if (await this.redis.set(key, marker, 'EX', IN_FLIGHT_SECONDS, 'NX')) return { kind: 'new', hash, marker };
      const raw = await this.redis.get(key);
      if (!raw) continue; // expired between the two calls
      const stored = JSON.parse(raw) as Stored;
      if (stored.hash !== hash) {
        throw idempotencyKeyReused();
      }
      if (stored.state === 'pending') {
        throw idempotencyInProgress();
      }
      return { kind: 'replay', status: stored.status ?? 200, body: stored.body };
    }
    throw idempotencyInProgress();
  }

  async succeed(orgId: string, idemKey: string, hash: string, status: number, body: unknown): Promise<void> {
    const stored: Stored = { state: 'done', hash, status, body };
    await this.redis.set(this.key(orgId, idemKey), JSON.stringify(stored), 'EX', REPLAY_SECONDS);
  }

  /**
   * The request failed: its key is free again, unless its marker is no longer there (a request
   * past IN_FLIGHT_SECONDS must not drop a newer request's marker).
   */
  async fail(orgId: string, idemKey: string, marker: string): Promise<void> {
    await this.redis.eval(DROP_OWN_MARKER, 1, this.key(orgId, idemKey), marker);
  }
}
