import { Logger } from '@nestjs/common';
import {
  type JWSHeaderParameters,
  type FlattenedJWSInput,
  type JSONWebKeySet,
  type KeyLike,
  createLocalJWKSet,
  createRemoteJWKSet,
  errors,
} from 'jose';

/** The identity provider's key set cannot be fetched, and no key fetched earlier fits the token. */
export class KeysUnavailableError extends Error {
  constructor(readonly retryAfterSeconds: number) {
    super('the JWKS cannot be fetched');
  }
}

type GetKey = (header: JWSHeaderParameters, token: FlattenedJWSInput) => Promise<KeyLike>;

/** After a failed fetch, requests are answered from the keys in hand for this long before the next try. */
const RETRY_MS = 5000;
/** How long a fetched key set is used before it is fetched again (a key removed from the set stops working then). */
const CACHE_MAX_AGE_MS = 10 * 60 * 1000;

/**
 * Not an outage: a token's `kid` the key set lacks (or several keys fit), or a key of the set that
 * cannot verify this token (jose's TypeError or JWKInvalid when it imports the key). A 401 each.
 */
const isMiss = (e: unknown) => e instanceof errors.JWKSNoMatchingKey || e instanceof errors.JWKSMultipleMatchingKeys;
const notAnOutage = (e: unknown) => isMiss(e) || e instanceof TypeError || e instanceof errors.JWKInvalid;

/**
 * AUTH_JWT_JWKS_URL through jose's createRemoteJWKSet (fetch with a timeout, cache), with two
 * things of batchgate's own around it:
 * - An unknown `kid` refetches the set at once, then at most once per cooldown: a rotated key works
 *   on its first use, and tokens with made-up `kid`s cannot make batchgate hammer the provider.
 *   (jose's own cooldown counts from any fetch, so a key rotated just after a fetch would wait.)
 * - The provider unreachable (refused, timed out, not 200, not a key set): the keys fetched
 *   earlier keep working; a token no such key fits answers 503 with Retry-After, and the next
 *   fetch is tried after RETRY_MS, so an outage costs each request no timeout of its own.
 */
export class JwksKeys {
  private readonly logger = new Logger('Jwks');
  private readonly remote: ReturnType<typeof createRemoteJWKSet>;
  private lastMissRefetch = -Infinity;
  private retryAt = 0;
  /** A local set of the keys jose holds (jose hands out copies: compared by content). */
  private fallback?: { text: string; getKey: GetKey };

  constructor(
    private readonly url: URL,
    private readonly cooldownMs: number,
    timeoutMs: number,
  ) {
    // cooldownDuration Infinity: jose never refetches on an unknown kid by itself; getKey below does.
    this.remote = createRemoteJWKSet(url, {
      timeoutDuration: timeoutMs,
      cooldownDuration: Number.POSITIVE_INFINITY,
      cacheMaxAge: CACHE_MAX_AGE_MS,
    });
  }

  /** For jose's jwtVerify. Throws KeysUnavailableError, or jose's errors for a token no key fits. */
  readonly getKey: GetKey = async (header, token) => {
    if (Date.now() >= this.retryAt) {
      try {
        return await this.fromRemote(header, token);
      } catch (e) {
        if (notAnOutage(e)) throw e;
        this.retryAt = Date.now() + RETRY_MS;
        this.logger.warn(`the JWKS at ${this.url.origin}${this.url.pathname} cannot be fetched: ${describe(e)}`);
      }
    }
    return this.fromKeysInHand(header, token);
  };

  private async fromRemote(header: JWSHeaderParameters, token: FlattenedJWSInput): Promise<KeyLike> {
    try {
      return await this.remote(header, token);
    } catch (e) {
      if (!(e instanceof errors.JWKSNoMatchingKey) || Date.now() - this.lastMissRefetch < this.cooldownMs) throw e;
      this.lastMissRefetch = Date.now();
      await this.remote.reload();
      return await this.remote(header, token);
    }
  }

  private async fromKeysInHand(header: JWSHeaderParameters, token: FlattenedJWSInput): Promise<KeyLike> {
    const jwks: JSONWebKeySet | undefined = this.remote.jwks();
    if (jwks) {
      const text = JSON.stringify(jwks);
      if (this.fallback?.text !== text) this.fallback = { text, getKey: createLocalJWKSet(jwks) };
      try {
        return await this.fallback.getKey(header, token);
      } catch (e) {
        if (!isMiss(e)) throw e;
      }
    }
    throw new KeysUnavailableError((this.retryAt - Date.now()) / 1000);
  }
}

/** One short reason for the log line (the provider's answer itself is not logged). */
function describe(e: unknown): string {
  if (e instanceof errors.JWKSTimeout) return 'timed out';
  const code = (e as NodeJS.ErrnoException)?.code;
  if (typeof code === 'string' && !code.startsWith('ERR_JOSE') && !code.startsWith('ERR_JWKS')) return code;
  return (e as Error)?.message ?? String(e);
}
