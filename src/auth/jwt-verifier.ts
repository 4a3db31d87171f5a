import { createHash } from 'node:crypto';
import { type JWTPayload, type JWTVerifyGetKey, type KeyLike, errors, jwtVerify } from 'jose';
import { ORG_ID } from '../common/ids';
import type { JwtConfig } from '../config/app-config';
import { authUnavailable, invalidToken } from '../errors/errors';
import type { Plan } from '../plans/plans';
import type { AuthContext } from './auth-context';
import { JwksKeys, KeysUnavailableError } from './jwks-keys';
import { scopesOfClaim } from './scopes';

/** API.md: `exp` and `nbf` are checked with 30 s of leeway. */
const CLOCK_TOLERANCE_SECONDS = 30;

/**
 * Three dot-separated base64url segments whose first decodes to a JSON object with an `alg`: a
 * JWS in compact form. (The signature may be empty: that is how `alg: none` tokens look, and they
 * must be told "not accepted", not "unknown API key".)
 */
export function looksLikeJwt(credential: string): boolean {
  const parts = credential.split('.');
  if (parts.length !== 3 || !parts.slice(0, 2).every((p) => /^[A-Za-z0-9_-]+$/.test(p))) return false;
  if (parts[2] !== '' && !/^[A-Za-z0-9_-]+$/.test(parts[2])) return false;
  try {
    const header: unknown = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8'));
    return typeof header === 'object' && header !== null && typeof (header as { alg?: unknown }).alg === 'string';
  } catch {
    return false;
  }
}

const rateKey = (text: string) => createHash('sha256').update(text).digest('base64url').slice(0, 22);

/**
 * What a developer reads in `error_description`: what is wrong, never the token, a key or a secret.
 * Errors that are not about the token (the key set unreachable) are left to the caller.
 */
function reasonOf(e: unknown): string | undefined {
  if (e instanceof errors.JWTExpired) return 'the token has expired';
  if (e instanceof errors.JWTClaimValidationFailed) {
    switch (e.claim) {
      case 'nbf':
        return 'the token is not valid yet (nbf)';
      case 'iss':
        return 'unexpected issuer';
      case 'aud':
        return 'unexpected audience';
      case 'iat':
        return 'the iat claim is invalid';
      default:
        return `the ${e.claim} claim is invalid`;
    }
  }
  if (e instanceof errors.JOSEAlgNotAllowed) return 'this signing algorithm is not accepted';
  if (e instanceof errors.JWSSignatureVerificationFailed) return 'bad signature';
  if (e instanceof errors.JWKSNoMatchingKey) return "no signing key matches the token's kid";
  if (e instanceof errors.JWKSMultipleMatchingKeys) return 'several signing keys match the token; give it a kid';
  if (e instanceof errors.JWTInvalid || e instanceof errors.JWSInvalid || e instanceof errors.JOSENotSupported)
    return 'malformed token';
  if (e instanceof errors.JWKInvalid) return "the key set's key for this token cannot be used";
  return undefined;
}

/**
 * JWT bearer tokens (API.md, Conventions), verified by jose against the one key source configured,
 * with the algorithms that source allows (never the token's word alone), then read for the
 * organization, plan, scopes and `sub`.
 */
export class JwtVerifier {
  private readonly key: KeyLike | Uint8Array | JWTVerifyGetKey;

  constructor(
    private readonly config: JwtConfig,
    private readonly plans: Record<string, Plan>,
  ) {
    const source = config.source;
    switch (source.kind) {
      case 'jwks':
        this.key = new JwksKeys(source.url, source.cooldownMs, source.timeoutMs).getKey;
        break;
      case 'public-key':
        this.key = source.key;
        break;
      case 'secret':
        this.key = source.secret;
        break;
    }
  }

  async verify(token: string): Promise<AuthContext> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.key as JWTVerifyGetKey, {
        algorithms: this.config.source.algorithms,
        issuer: this.config.issuer,
        audience: this.config.audience,
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
      }));
    } catch (e) {
      if (e instanceof KeysUnavailableError) throw authUnavailable(e.retryAfterSeconds);
      const reason = reasonOf(e);
      if (reason) throw invalidToken(reason);
      // jose's TypeErrors are about the key (an RSA key under 2048 bits, a JWK it cannot import). The
      // configured public key and secret were checked at start, so here it is the provider's key set.
      if (e instanceof TypeError && this.config.source.kind === 'jwks')
        throw invalidToken("the key set's key for this token cannot be used");
      throw e;
    }
    return this.contextOf(payload);
  }

  private contextOf(payload: JWTPayload): AuthContext {
    const { orgClaim, planClaim } = this.config;
    const orgId = payload[orgClaim];
    if (typeof orgId !== 'string' || !ORG_ID.test(orgId))
      throw invalidToken(
        orgId === undefined ? `the token has no ${orgClaim} claim` : `the ${orgClaim} claim is not an organization id`,
      );
    const planName = payload[planClaim];
    if (planName === undefined) throw invalidToken(`the token has no ${planClaim} claim`);
    if (typeof planName !== 'string' || !Object.hasOwn(this.plans, planName))
      throw invalidToken(`unknown plan in the ${planClaim} claim`);
    const scope = payload.scope;
    if (scope !== undefined && typeof scope !== 'string')
      throw invalidToken('the scope claim must be a space-separated string');
    const sub = payload.sub;
    if (sub !== undefined && typeof sub !== 'string') throw invalidToken('the sub claim must be a string');
    return {
      orgId,
      plan: this.plans[planName],
      // Rate limits count per token subject, else per organization (API.md, Conventions).
      keyId: rateKey(sub ? `jwt\n${orgId}\n${sub}` : `jwt-org\n${orgId}`),
      ...(scope !== undefined && { scopes: scopesOfClaim(scope) }),
      via: 'jwt',
      ...(sub && { subject: sub.slice(0, 200) }),
    };
  }
}
