import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { invalidToken, missingCredential, unknownApiKey } from '../errors/errors';
import { API_KEY_FILE, type ApiKeyFile } from './api-key-file';
import type { AuthContext } from './auth-context';
import { JwtVerifier, looksLikeJwt } from './jwt-verifier';
import type { Scope } from './scopes';

interface KnownKey {
  orgId: string;
  plan: string;
  name?: string;
  scopes?: Scope[];
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * Every credential the service takes: API_KEYS, API_KEYS_FILE (both count) and, when AUTH_JWT_* is
 * set, JWTs. Each request's `Authorization: Bearer` value becomes the caller's AuthContext or a 401.
 *
 * API keys are looked up by the SHA-256 of the presented value in a Map. That is constant time in
 * the sense that matters: what a lookup's timing could reveal is about the hash of the attacker's
 * own guess, and learning which hashes are near a stored one gives no way to build a key that
 * hashes to it (that would be a preimage). The plain keys of API_KEYS are hashed at start too, so
 * no key is compared as text.
 */
@Injectable()
export class Credentials implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly envKeys = new Map<string, KnownKey>();
  private readonly jwt?: JwtVerifier;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(API_KEY_FILE) private readonly file: ApiKeyFile | null,
  ) {
    for (const k of config.apiKeys) this.envKeys.set(sha256(k.key), { orgId: k.orgId, plan: k.plan });
    if (config.jwt) this.jwt = new JwtVerifier(config.jwt, config.plans);
  }

  onApplicationBootstrap(): void {
    this.file?.start();
  }

  onModuleDestroy(): void {
    this.file?.stop();
  }

  /** The caller of `authorization` (the header's value), or an AppError: 401, or 503 auth_unavailable. */
  async authenticate(authorization: string | undefined): Promise<AuthContext> {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    if (!match) throw missingCredential();
    const credential = match[1];
    // API keys first, whatever they look like: a configured key always works, even one with dots.
    const hash = sha256(credential);
    const key = this.envKeys.get(hash) ?? this.file?.lookup(hash);
    if (key) {
      return {
        orgId: key.orgId,
        plan: this.config.plans[key.plan],
        keyId: Buffer.from(hash, 'hex').toString('base64url').slice(0, 22),
        ...(key.scopes && { scopes: key.scopes }),
        via: 'api_key',
        ...(key.name && { keyName: key.name }),
      };
    }
    if (!looksLikeJwt(credential)) throw unknownApiKey();
    if (!this.jwt) throw invalidToken('this service takes API keys, not JWTs');
    return this.jwt.verify(credential);
  }
}
