import { type KeyObject, X509Certificate, createPublicKey } from 'node:crypto';
import { hasControlCharacters } from '../common/text';

/**
 * How JWT bearer tokens are verified (API.md, Conventions and Configuration): exactly one of a
 * remote key set, one public key, or one HS256 secret. The algorithms a token may use come from
 * this key material, never from the token: a token's `alg` is only checked against them (so
 * `alg: none` and an HS256 token "signed" with the RSA public key are refused).
 */
export type JwtKeySource =
  | {
      kind: 'jwks';
      url: URL;
      /** After a refetch for an unknown `kid`, the next such refetch waits this long. */
      cooldownMs: number;
      /** A key-set fetch that takes longer is abandoned (503 auth_unavailable, never a hang). */
      timeoutMs: number;
      algorithms: string[];
    }
  | { kind: 'public-key'; key: KeyObject; algorithms: string[] }
  | { kind: 'secret'; secret: Uint8Array; algorithms: string[] };

export interface JwtConfig {
  source: JwtKeySource;
  issuer?: string;
  /** Any of them matches the token's `aud`. */
  audience?: string[];
  orgClaim: string;
  planClaim: string;
}

/** Thrown with one line naming the variable; the caller wraps it in its ConfigError. */
export class JwtConfigError extends Error {}

const SOURCES = ['AUTH_JWT_JWKS_URL', 'AUTH_JWT_PUBLIC_KEY', 'AUTH_JWT_SECRET'] as const;
const OPTIONS = ['AUTH_JWT_ISSUER', 'AUTH_JWT_AUDIENCE', 'AUTH_JWT_ORG_CLAIM', 'AUTH_JWT_PLAN_CLAIM'] as const;

const RSA = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'];
const EC_BY_CURVE: Record<string, string> = { prime256v1: 'ES256', secp384r1: 'ES384', secp521r1: 'ES512' };
/** A remote key set holds public keys only: its `kid`s decide among them, HS* never applies. */
const ASYMMETRIC = [...RSA, 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];
/** RFC 7518 §3.2: an HS256 key is at least as long as the hash output. */
const MIN_SECRET_BYTES = 32;

const set = (env: NodeJS.ProcessEnv, name: string) => (env[name]?.trim() ? env[name] : undefined);

/** Which algorithms one public key can verify: from its type (and curve), nothing else. */
function algorithmsOf(key: KeyObject): string[] {
  const details = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case 'rsa':
    case 'rsa-pss':
      // jose refuses RSA keys under 2048 bits: say so at start rather than on every token.
      if ((details.modulusLength ?? 0) < 2048)
        throw new JwtConfigError(`AUTH_JWT_PUBLIC_KEY: RSA keys need at least 2048 bits, got ${details.modulusLength}`);
      return key.asymmetricKeyType === 'rsa' ? RSA : RSA.filter((a) => a.startsWith('PS'));
    case 'ec': {
      const alg = EC_BY_CURVE[details.namedCurve ?? ''];
      if (!alg)
        throw new JwtConfigError(
          `AUTH_JWT_PUBLIC_KEY: EC curve ${details.namedCurve} is not one of P-256, P-384, P-521`,
        );
      return [alg];
    }
    case 'ed25519':
      return ['EdDSA', 'Ed25519'];
    case 'ed448':
      return ['EdDSA'];
    default:
      throw new JwtConfigError(
        `AUTH_JWT_PUBLIC_KEY: a ${key.asymmetricKeyType} key cannot verify JWTs (RSA, EC or Ed25519)`,
      );
  }
}

function publicKey(raw: string): KeyObject {
  // One-line environments (.env files, CI secrets) often carry the PEM's newlines as "\n".
  const pem = raw.trim().replace(/\\n/g, '\n');
  if (/PRIVATE KEY-----/.test(pem))
    throw new JwtConfigError('AUTH_JWT_PUBLIC_KEY holds a private key: give the public key (BEGIN PUBLIC KEY)');
  try {
    if (pem.includes('-----BEGIN CERTIFICATE-----')) return new X509Certificate(pem).publicKey;
    return createPublicKey({ key: pem, format: 'pem' });
  } catch {
    throw new JwtConfigError('AUTH_JWT_PUBLIC_KEY must be a PEM public key (BEGIN PUBLIC KEY) or certificate');
  }
}

function jwksUrl(raw: string): URL {
  try {
    const url = new URL(raw.trim());
    if (url.protocol === 'https:' || url.protocol === 'http:') return url;
  } catch {
    // reported below
  }
  throw new JwtConfigError(`AUTH_JWT_JWKS_URL must be an http(s) URL, got "${raw.trim().slice(0, 200)}"`);
}

/** A claim name: any JSON member name (namespaced URIs are common), but not blank or absurd. */
function claimName(env: NodeJS.ProcessEnv, name: string, def: string): string {
  const raw = env[name]?.trim();
  if (!raw) return def;
  if (raw.length > 200 || hasControlCharacters(raw))
    throw new JwtConfigError(`${name} must be a claim name, got ${JSON.stringify(raw.slice(0, 200))}`);
  return raw;
}

/**
 * AUTH_JWT_*: undefined when JWTs are not configured. `int(name, def, min, max)` is the caller's
 * whole-number reader, so those variables fail with the same line as every other.
 */
export function loadJwtConfig(
  env: NodeJS.ProcessEnv,
  int: (name: string, def: number, min: number, max: number) => number,
): JwtConfig | undefined {
  const given = SOURCES.filter((name) => set(env, name));
  if (given.length > 1)
    throw new JwtConfigError(`${SOURCES.join(', ')}: set only one of them, got ${given.join(' and ')}`);
  if (given.length === 0) {
    const stray = OPTIONS.find((name) => set(env, name));
    if (stray) throw new JwtConfigError(`${stray} is set but none of ${SOURCES.join(', ')} is`);
    return undefined;
  }

  let source: JwtKeySource;
  switch (given[0]) {
    case 'AUTH_JWT_JWKS_URL':
      source = {
        kind: 'jwks',
        url: jwksUrl(env.AUTH_JWT_JWKS_URL!),
        cooldownMs: int('AUTH_JWT_JWKS_COOLDOWN_SECONDS', 30, 0, 3600) * 1000,
        timeoutMs: int('AUTH_JWT_JWKS_TIMEOUT_MS', 5000, 100, 60_000),
        algorithms: ASYMMETRIC,
      };
      break;
    case 'AUTH_JWT_PUBLIC_KEY': {
      const key = publicKey(env.AUTH_JWT_PUBLIC_KEY!);
      source = { kind: 'public-key', key, algorithms: algorithmsOf(key) };
      break;
    }
    case 'AUTH_JWT_SECRET': {
      // Taken as given (no trimming): it is the key's bytes.
      const secret = new TextEncoder().encode(env.AUTH_JWT_SECRET);
      if (secret.length < MIN_SECRET_BYTES)
        throw new JwtConfigError(
          `AUTH_JWT_SECRET must have at least ${MIN_SECRET_BYTES} bytes (HS256 needs a 256-bit key, RFC 7518 §3.2), got ${secret.length}`,
        );
      source = { kind: 'secret', secret, algorithms: ['HS256'] };
      break;
    }
  }

  const audience = env.AUTH_JWT_AUDIENCE?.split(',')
    .map((a) => a.trim())
    .filter(Boolean);
  return {
    source,
    issuer: env.AUTH_JWT_ISSUER?.trim() || undefined,
    audience: audience?.length ? audience : undefined,
    orgClaim: claimName(env, 'AUTH_JWT_ORG_CLAIM', 'org_id'),
    planClaim: claimName(env, 'AUTH_JWT_PLAN_CLAIM', 'plan'),
  };
}
