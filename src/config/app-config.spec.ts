import { generateKeyPairSync } from 'node:crypto';
import { ConfigError, loadConfig } from './app-config';

const pem = (type: 'rsa' | 'ec' | 'ed25519', opts: Record<string, unknown> = {}) =>
  generateKeyPairSync(
    type as 'rsa',
    {
      modulusLength: 2048,
      ...opts,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    } as never,
  ) as unknown as { publicKey: string; privateKey: string };
const RSA = pem('rsa');
const SECRET = 'a-secret-of-at-least-thirty-two-bytes!';

describe('configuration', () => {
  it('has the defaults of API.md', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      port: 3000,
      redisUrl: 'redis://127.0.0.1:6379',
      storageDriver: 'local',
      fileTtlSeconds: 3600,
      processor: 'accept',
      workerConcurrency: 4,
      batchRetentionDays: 7,
      logFormat: 'auto',
      shutdownGraceMs: 20_000,
      shutdownTimeoutMs: 25_000,
      bodyIdleTimeoutMs: 30_000,
    });
    expect(c.storageDir).toMatch(/data\/uploads$/);
    // With no API_KEYS, a development key on the pro plan.
    expect(c.apiKeys).toEqual([{ key: c.generatedDevKey, orgId: 'dev', plan: 'pro' }]);
  });

  it('reads API_KEYS as key:orgId:plan', () => {
    const c = loadConfig({ API_KEYS: 'key-aaaa-1:acme:pro, key-bbbb-2:globex:enterprise' });
    expect(c.apiKeys).toEqual([
      { key: 'key-aaaa-1', orgId: 'acme', plan: 'pro' },
      { key: 'key-bbbb-2', orgId: 'globex', plan: 'enterprise' },
    ]);
    expect(c.generatedDevKey).toBeUndefined();
  });

  it('logs JSON lines under NODE_ENV=production unless LOG_FORMAT says otherwise', () => {
    expect(loadConfig({ NODE_ENV: 'production' }).logFormat).toBe('json');
    expect(loadConfig({ NODE_ENV: 'production', LOG_FORMAT: 'pretty' }).logFormat).toBe('pretty');
    expect(loadConfig({ LOG_FORMAT: 'json' }).logFormat).toBe('json');
  });

  it('with REDIS_CLUSTER_NODES, REDIS_URL is not read (API.md)', () => {
    const c = loadConfig({ REDIS_URL: 'not a url', REDIS_CLUSTER_NODES: 'redis://a:7000, redis://b:7001,' });
    expect(c.redisClusterNodes).toEqual(['redis://a:7000', 'redis://b:7001']);
  });

  it('reads the shutdown deadline and the body idle timeout in seconds', () => {
    const c = loadConfig({
      SHUTDOWN_TIMEOUT_SECONDS: '40',
      SHUTDOWN_GRACE_MS: '30000',
      BODY_IDLE_TIMEOUT_SECONDS: '5',
    });
    expect(c).toMatchObject({ shutdownTimeoutMs: 40_000, shutdownGraceMs: 30_000, bodyIdleTimeoutMs: 5000 });
  });

  it.each([
    [{ PORT: 'abc' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ REDIS_URL: 'http://x' }, 'REDIS_URL'],
    // Past the scheme, a URL ioredis could not read (else a stack trace at connect, naming nothing).
    [{ REDIS_URL: 'redis://127.0.0.1:99999' }, 'REDIS_URL'],
    [{ REDIS_URL: 'redis://127.0.0.1:abc' }, 'REDIS_URL'],
    [{ REDIS_URL: 'redis://user:p%zz@127.0.0.1:6379' }, 'REDIS_URL'],
    [{ REDIS_CLUSTER_NODES: ',' }, 'REDIS_CLUSTER_NODES'],
    [{ REDIS_CLUSTER_NODES: 'redis://127.0.0.1:99999' }, 'REDIS_CLUSTER_NODES'],
    [{ REDIS_CLUSTER_NODES: 'redis://%zz@127.0.0.1:7001' }, 'REDIS_CLUSTER_NODES'],
    [{ STORAGE_DRIVER: 'ftp' }, 'STORAGE_DRIVER'],
    [{ FILE_TTL_SECONDS: '0' }, 'FILE_TTL_SECONDS'],
    [{ API_KEYS: 'short:o:pro' }, 'API_KEYS'],
    [{ API_KEYS: 'long-enough:o:gold' }, 'API_KEYS'],
    [{ API_KEYS: 'long-enough:o' }, 'API_KEYS'],
    [{ API_KEYS: 'long-enough:o:pro,long-enough:p:pro' }, 'API_KEYS'],
    [{ PROCESSOR: 'webhook' }, 'WEBHOOK_URL'],
    [{ PROCESSOR: 'webhook', WEBHOOK_URL: 'ftp://x' }, 'WEBHOOK_URL'],
    [{ WORKER_CONCURRENCY: '0' }, 'WORKER_CONCURRENCY'],
    [{ BATCH_RETENTION_DAYS: 'x' }, 'BATCH_RETENTION_DAYS'],
    [{ WORKER_IN_PROCESS: 'maybe' }, 'WORKER_IN_PROCESS'],
    [{ ADMIN_TOKEN: 'short' }, 'ADMIN_TOKEN'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ QUEUE_PREFIX: 'a:b' }, 'QUEUE_PREFIX'],
    [{ LOG_FORMAT: 'fancy' }, 'LOG_FORMAT'],
    [{ SHUTDOWN_TIMEOUT_SECONDS: 'soon' }, 'SHUTDOWN_TIMEOUT_SECONDS'],
    [{ SHUTDOWN_TIMEOUT_SECONDS: '0' }, 'SHUTDOWN_TIMEOUT_SECONDS'],
    // The drain (delay, then grace) must fit inside the deadline, else the deadline cuts every slow upload.
    [{ SHUTDOWN_GRACE_MS: '30000' }, 'SHUTDOWN_TIMEOUT_SECONDS'],
    [
      { SHUTDOWN_TIMEOUT_SECONDS: '10', SHUTDOWN_DELAY_MS: '5000', SHUTDOWN_GRACE_MS: '5000' },
      'SHUTDOWN_TIMEOUT_SECONDS',
    ],
    [{ BODY_IDLE_TIMEOUT_SECONDS: '0' }, 'BODY_IDLE_TIMEOUT_SECONDS'],
    [{ KEEP_ALIVE_TIMEOUT_SECONDS: '0' }, 'KEEP_ALIVE_TIMEOUT_SECONDS'],
    [{ BODY_IDLE_TIMEOUT_SECONDS: '1.5' }, 'BODY_IDLE_TIMEOUT_SECONDS'],
    // Exactly one way of verifying JWTs (API.md, Conventions).
    [{ AUTH_JWT_JWKS_URL: 'https://idp.example/jwks', AUTH_JWT_SECRET: SECRET }, 'AUTH_JWT_JWKS_URL'],
    [{ AUTH_JWT_PUBLIC_KEY: 'pem', AUTH_JWT_SECRET: SECRET }, 'AUTH_JWT_JWKS_URL'],
    [
      { AUTH_JWT_JWKS_URL: 'https://idp.example/jwks', AUTH_JWT_PUBLIC_KEY: 'pem', AUTH_JWT_SECRET: SECRET },
      'AUTH_JWT_JWKS_URL',
    ],
    [{ AUTH_JWT_ISSUER: 'https://idp.example/' }, 'AUTH_JWT_ISSUER'],
    [{ AUTH_JWT_AUDIENCE: 'batchgate' }, 'AUTH_JWT_AUDIENCE'],
    [{ AUTH_JWT_JWKS_URL: 'ftp://idp.example/jwks' }, 'AUTH_JWT_JWKS_URL'],
    [{ AUTH_JWT_JWKS_URL: 'not a url' }, 'AUTH_JWT_JWKS_URL'],
    [{ AUTH_JWT_JWKS_URL: 'https://idp.example/jwks', AUTH_JWT_JWKS_TIMEOUT_MS: '0' }, 'AUTH_JWT_JWKS_TIMEOUT_MS'],
    [
      { AUTH_JWT_JWKS_URL: 'https://idp.example/jwks', AUTH_JWT_JWKS_COOLDOWN_SECONDS: 'x' },
      'AUTH_JWT_JWKS_COOLDOWN_SECONDS',
    ],
    [{ AUTH_JWT_SECRET: 'too-short' }, 'AUTH_JWT_SECRET'],
    [{ AUTH_JWT_PUBLIC_KEY: 'not a pem' }, 'AUTH_JWT_PUBLIC_KEY'],
    [{ AUTH_JWT_PUBLIC_KEY: RSA.privateKey }, 'AUTH_JWT_PUBLIC_KEY'],
    [{ AUTH_JWT_PUBLIC_KEY: pem('rsa', { modulusLength: 1024 }).publicKey }, 'AUTH_JWT_PUBLIC_KEY'],
    [{ AUTH_JWT_PUBLIC_KEY: pem('ec', { namedCurve: 'secp256k1' }).publicKey }, 'AUTH_JWT_PUBLIC_KEY'],
    [{ AUTH_JWT_SECRET: SECRET, AUTH_JWT_ORG_CLAIM: 'a\nb' }, 'AUTH_JWT_ORG_CLAIM'],
  ])('stops on %j with one line naming %s', (env, variable) => {
    let error: unknown;
    try {
      loadConfig(env);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message.startsWith(variable)).toBe(true);
    expect(message).not.toContain('\n');
  });

  describe('authentication', () => {
    it('pins the algorithms to the key: RS*/PS* for RSA, ES256 for P-256, EdDSA for Ed25519, HS256 for a secret', () => {
      const rsa = loadConfig({ AUTH_JWT_PUBLIC_KEY: RSA.publicKey }).jwt!;
      expect(rsa.source.algorithms).toEqual(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512']);
      const ec = loadConfig({ AUTH_JWT_PUBLIC_KEY: pem('ec', { namedCurve: 'P-256' }).publicKey }).jwt!;
      expect(ec.source.algorithms).toEqual(['ES256']);
      expect(loadConfig({ AUTH_JWT_PUBLIC_KEY: pem('ed25519').publicKey }).jwt!.source.algorithms).toContain('EdDSA');
      const secret = loadConfig({ AUTH_JWT_SECRET: SECRET }).jwt!;
      expect(secret.source.algorithms).toEqual(['HS256']);
      const jwks = loadConfig({ AUTH_JWT_JWKS_URL: 'https://idp.example/.well-known/jwks.json' }).jwt!;
      expect(jwks.source.algorithms).not.toContain('HS256');
      expect(jwks.source).toMatchObject({ kind: 'jwks', cooldownMs: 30_000, timeoutMs: 5000 });
    });

    it('takes a PEM whose newlines are written as \\n (one-line environments)', () => {
      const oneLine = RSA.publicKey.trim().replace(/\n/g, '\\n');
      expect(oneLine).not.toContain('\n');
      expect(loadConfig({ AUTH_JWT_PUBLIC_KEY: oneLine }).jwt!.source.kind).toBe('public-key');
    });

    it('reads issuer, audiences and claim names, with the defaults of API.md', () => {
      expect(loadConfig({ AUTH_JWT_SECRET: SECRET }).jwt).toMatchObject({ orgClaim: 'org_id', planClaim: 'plan' });
      const c = loadConfig({
        AUTH_JWT_SECRET: SECRET,
        AUTH_JWT_ISSUER: 'https://idp.example/',
        AUTH_JWT_AUDIENCE: 'batchgate, batchgate-staging',
        AUTH_JWT_ORG_CLAIM: 'https://platform.example/org',
        AUTH_JWT_PLAN_CLAIM: 'tier',
      }).jwt!;
      expect(c).toMatchObject({
        issuer: 'https://idp.example/',
        audience: ['batchgate', 'batchgate-staging'],
        orgClaim: 'https://platform.example/org',
        planClaim: 'tier',
      });
    });

    it('makes a development key only when no credential at all is configured', () => {
      expect(loadConfig({}).generatedDevKey).toBeDefined();
      expect(loadConfig({ API_KEYS_FILE: '/etc/batchgate/keys.json' })).toMatchObject({
        generatedDevKey: undefined,
        apiKeys: [],
        apiKeysFile: '/etc/batchgate/keys.json',
      });
      expect(loadConfig({ AUTH_JWT_SECRET: SECRET })).toMatchObject({ generatedDevKey: undefined, apiKeys: [] });
    });
  });
});
