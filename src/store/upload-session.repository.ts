import { Inject, Injectable } from '@nestjs/common';
import type Redis from 'ioredis';
import { randomBytes } from 'node:crypto';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { REDIS } from '../redis/redis.module';
import { lua } from './lua';
import { keys } from './redis-keys';
import { TRACE_GRACE_SECONDS } from './file-token.repository';
import type { SessionMeta, SessionProgress, SessionState, SessionStatus } from './upload-session-record';

type Reply = [string, string];

/** After the last part URL handed out expires, this long for a late PUT to a store's own URL to have landed. */
const LATE_PUT_MARGIN_MS = 60_000;

/** An ended (or abandoned) session answers 410/404 rather than unknown for this long: API.md's 24 hours. */
export const SESSION_GRACE_SECONDS = TRACE_GRACE_SECONDS;

/** Upload sessions in Redis: one hash per session in the org's slot, every change one script. */
@Injectable()
export class UploadSessionRepository {
  private readonly script = lua('session-transition');

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(APP_CONFIG) private readonly config: Pick<AppConfig, 'queuePrefix' | 'sweepIntervalMs'>,
  ) {}

  /** The sweep's index entry first (a crash after it leaves an entry the sweep clears, never parts no entry points at). */
  async create(meta: SessionMeta, urlsExpireAtMs: number): Promise<void> {
    const expiresAtMs = Date.parse(meta.expiresAt);
    await this.schedule(meta.orgId, meta.uploadId, expiresAtMs);
    const key = keys.uploadSession(meta.orgId, meta.uploadId);
    const ttl = Math.ceil((expiresAtMs - Date.now()) / 1000) + SESSION_GRACE_SECONDS;
    await this.redis
      .multi()
      .hset(key, {
        status: 'pending',
        meta: JSON.stringify(meta),
        expiresAtMs: String(expiresAtMs),
        urlsExpireAtMs: String(urlsExpireAtMs),
      })
      .expire(key, ttl)
      .exec()
      .then(assertExec);
  }

  async get(orgId: string, uploadId: string): Promise<SessionState | undefined> {
    const h = await this.redis.hgetall(keys.uploadSession(orgId, uploadId));
    if (!h.status || !h.meta) return undefined;
    return {
      meta: JSON.parse(h.meta) as SessionMeta,
      status: h.status as SessionStatus,
      fileId: h.fileId || undefined,
      progress: h.progress ? (JSON.parse(h.progress) as SessionProgress) : undefined,
      result: h.result ? (JSON.parse(h.result) as Record<string, unknown>) : undefined,
      error: h.error ? (JSON.parse(h.error) as SessionState['error']) : undefined,
      urlsExpireAtMs: Number(h.urlsExpireAtMs ?? 0),
    };
  }

  private async run(orgId: string, uploadId: string, op: string, ...args: (string | number)[]): Promise<Reply> {
    return (await this.redis.eval(
      this.script,
      1,
      keys.uploadSession(orgId, uploadId),
      op,
      Date.now(),
      ...args,
    )) as Reply;
  }

  /** pending → validating: 'started'; otherwise the current status ('expired' past expiresAt, 'missing' when gone). */
  async complete(orgId: string, uploadId: string): Promise<string> {
    return (await this.run(orgId, uploadId, 'complete'))[0];
  }

  /** A validation run starts: 'claimed' with the fileId of an earlier run (to clean up), or the status that stops it. */
  async claim(orgId: string, uploadId: string, fileId: string, run: string): Promise<Reply> {
    return this.run(orgId, uploadId, 'claim', fileId, run);
  }

  /** 'ok' while the run is still the session's; else why it must stop ('cancelled', 'stale', ...). */
  async progress(orgId: string, uploadId: string, run: string, progress: SessionProgress): Promise<string> {
    return (await this.run(orgId, uploadId, 'progress', run, JSON.stringify(progress)))[0];
  }

  /** validating → ready | failed; replies the new status, or the one that refused it. */
  async finish(
    orgId: string,
    uploadId: string,
    run: string,
    outcome: { status: 'ready'; result: unknown } | { status: 'failed'; error: unknown },
    progress: SessionProgress,
    keepSeconds: number,
  ): Promise<string> {
    const [field, value] = outcome.status === 'ready' ? ['result', outcome.result] : ['error', outcome.error];
    const reply = await this.run(
      orgId,
      uploadId,
      'finish',
      run,
      outcome.status,
      field,
      JSON.stringify(value),
      JSON.stringify(progress),
      keepSeconds + SESSION_GRACE_SECONDS,
    );
    return reply[0];
  }

  /** → cancelled; a ready session only with `allowReady` (its fileId discarded first). Replies [status, fileId]. */
  cancel(orgId: string, uploadId: string, allowReady = false): Promise<Reply> {
    return this.run(orgId, uploadId, 'cancel', allowReady ? '1' : '0');
  }

  async expire(orgId: string, uploadId: string): Promise<string> {
    return (await this.run(orgId, uploadId, 'expire'))[0];
  }

  async extendUrls(orgId: string, uploadId: string, untilMs: number): Promise<string> {
    return (await this.run(orgId, uploadId, 'urls', untilMs))[0];
  }

  /** The sweep looks at the session at `atMs` (or earlier, if it was due sooner). */
  async schedule(orgId: string, uploadId: string, atMs: number): Promise<void> {
    await this.redis.zadd(keys.uploadSessions(this.config.queuePrefix), atMs, `${orgId}/${uploadId}`);
  }

  /**
   * An ended session: the sweep looks again at its next pass, and at every pass until its last part
   * URL has expired (a PUT to a store's presigned URL cannot be refused, so what a late one leaves
   * is deleted within a sweep interval, not at the URL's expiry, up to UPLOAD_URL_TTL_SECONDS
   * later); then the session leaves the sweep's index.
   */
  async lookAgain(orgId: string, uploadId: string, urlsExpireAtMs: number, now = Date.now()): Promise<void> {
    const until = urlsExpireAtMs + LATE_PUT_MARGIN_MS;
    if (until > now) await this.schedule(orgId, uploadId, Math.min(until, now + this.config.sweepIntervalMs));
    else await this.forget(orgId, uploadId);
  }

  async due(now: number, limit: number): Promise<{ orgId: string; uploadId: string }[]> {
    const members = await this.redis.zrangebyscore(
      keys.uploadSessions(this.config.queuePrefix),
      0,
      now,
      'LIMIT',
      0,
      limit,
    );
    return members.map((m) => {
      const [orgId, uploadId] = m.split('/');
      return { orgId, uploadId };
    });
  }

  /** The local driver's signing key: made by whichever api asks first, then the same for all (SET NX). */
  async signingSecret(): Promise<string> {
    const key = keys.uploadSigningSecret();
    await this.redis.set(key, randomBytes(32).toString('base64url'), 'NX');
    const secret = await this.redis.get(key);
    if (!secret) throw new Error('the upload signing secret vanished from Redis');
    return secret;
  }

  async forget(orgId: string, uploadId: string): Promise<void> {
    await this.redis.zrem(keys.uploadSessions(this.config.queuePrefix), `${orgId}/${uploadId}`);
  }
}

function assertExec(reply: [Error | null, unknown][] | null): void {
  const failed = reply?.find(([err]) => err);
  if (!reply || failed) throw failed?.[0] ?? new Error('Redis transaction aborted');
}
