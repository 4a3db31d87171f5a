/**
 * Identity (API.md, Conventions): JWT bearer tokens verified through a JWKS that the test serves
 * over HTTP, a public key or an HS256 secret; hashed API keys in API_KEYS_FILE changed while the
 * service runs; scopes per route. Every request is real HTTP to the real app; every key and token
 * is made here.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModulesContainer } from '@nestjs/core';
import { GUARDS_METADATA, METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { RequestMethod } from '@nestjs/common';
import { type JWK, type JWTPayload, type KeyLike, SignJWT, exportJWK, exportSPKI, generateKeyPair } from 'jose';
import { ApiKeyGuard } from '../src/auth/api-key.guard';
import { PUBLIC_METADATA, SCOPE_METADATA } from '../src/auth/scopes';
import { ConfigError } from '../src/config/app-config';
import { api, startApp, testRedisUrl, upload, type TestApp } from './support/app';
import { type JwksServer, startJwksServer } from './support/jwks';
import { plansFile } from './support/plans';
import { runToExit } from './support/run-to-exit';
import { putPart, startSession } from './support/sessions';
import { waitFor } from './support/wait';

jest.setTimeout(60_000);

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { findFreePort } = require('../scripts/private-redis.js') as { findFreePort(): Promise<number> };

const ISSUER = 'https://idp.test/';
const AUDIENCE = 'batchgate';
const CSV = 'content,externalId\nfirst,a-1\nsecond,a-2\n';
const AUTH_UNAVAILABLE = "The identity provider's keys cannot be fetched. Try again shortly.";

const tag = () => randomBytes(4).toString('hex');
const now = () => Math.floor(Date.now() / 1000);
const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

interface Signer {
  key: KeyLike | Uint8Array;
  alg: string;
  kid?: string;
}

/** A token as an identity provider makes one: iss, aud, iat, exp in 5 minutes; `claims` override. */
function token(signer: Signer, claims: JWTPayload, header: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT({ iss: ISSUER, aud: AUDIENCE, iat: now(), exp: now() + 300, ...claims })
    .setProtectedHeader({ alg: signer.alg, ...(signer.kid && { kid: signer.kid }), ...header })
    .sign(signer.key);
}

async function keyPair(alg: 'RS256' | 'ES256', kid: string): Promise<{ signer: Signer; jwk: JWK; spki: string }> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { signer: { key: privateKey, alg, kid }, jwk, spki: await exportSPKI(publicKey) };
}

/** 401 for a JWT: the envelope, and RFC 6750's header with a description a developer can act on. */
function expectInvalidToken(res: { status: number; body: any; headers: Headers }, description: RegExp) {
  expect([res.status, res.body?.error?.code]).toEqual([401, 'unauthorized']);
  const header = res.headers.get('www-authenticate') ?? '';
  expect(header).toMatch(/^Bearer error="invalid_token", error_description="[^"]+"$/);
  expect(header).toMatch(description);
  expect(res.body.error.message).toMatch(description);
  expect(typeof res.body.requestId).toBe('string');
}

function expectForbidden(res: { status: number; body: any; headers: Headers }, scope: string) {
  expect([res.status, res.body?.error?.code, res.body?.error?.details]).toEqual([
    403,
    'forbidden',
    { requiredScope: scope },
  ]);
  expect(res.headers.get('www-authenticate')).toBe(`Bearer error="insufficient_scope", scope="${scope}"`);
}

describe('JWT bearer tokens through a JWKS (RS256, ES256)', () => {
  let jwks: JwksServer;
  let t: TestApp;
  let rsa: Awaited<ReturnType<typeof keyPair>>;
  let ec: Awaited<ReturnType<typeof keyPair>>;
  const org = `jwks-${tag()}`;

  beforeAll(async () => {
    rsa = await keyPair('RS256', 'rsa-1');
    ec = await keyPair('ES256', 'ec-1');
    jwks = await startJwksServer([rsa.jwk, ec.jwk]);
    t = await startApp({
      AUTH_JWT_JWKS_URL: jwks.url,
      AUTH_JWT_ISSUER: ISSUER,
      AUTH_JWT_AUDIENCE: AUDIENCE,
      AUTH_JWT_JWKS_COOLDOWN_SECONDS: '0',
      AUTH_JWT_JWKS_TIMEOUT_MS: '500',
    });
  });
  afterAll(async () => {
    await t?.close();
    await jwks?.stop();
  });

  it('accepts RS256 and ES256 tokens, fetching the key set once and keeping it', async () => {
    const byRsa = await api(t, await token(rsa.signer, { org_id: org, plan: 'pro', sub: 'u-1' }), 'GET', '/v1/batches');
    expect([byRsa.status, byRsa.body.meta.total]).toEqual([200, 0]);
    const byEc = await api(t, await token(ec.signer, { org_id: org, plan: 'pro', sub: 'u-2' }), 'GET', '/v1/batches');
    expect(byEc.status).toBe(200);
    const fetched = jwks.fetches;
    expect(fetched).toBe(1);
    for (let i = 0; i < 3; i++) {
      expect((await api(t, await token(rsa.signer, { org_id: org, plan: 'pro' }), 'GET', '/v1/batches')).status).toBe(
        200,
      );
    }
    expect(jwks.fetches).toBe(fetched);
  });

  it('picks up a rotated key (a new kid) on its first use, and refuses a kid the set does not have', async () => {
    const next = await keyPair('RS256', `rsa-${tag()}`);
    jwks.keys = [next.jwk, ec.jwk, rsa.jwk];
    const rotated = await api(t, await token(next.signer, { org_id: org, plan: 'pro' }), 'GET', '/v1/batches');
    expect(rotated.status).toBe(200);

    const stranger = await keyPair('RS256', 'nobody-has-this-kid');
    expectInvalidToken(
      await api(t, await token(stranger.signer, { org_id: org, plan: 'pro' }), 'GET', '/v1/batches'),
      /no signing key matches/,
    );
    // A key the set has, but the token claims a kid of it while signed by another: a bad signature.
    const forged = await token({ ...stranger.signer, kid: 'rsa-1' }, { org_id: org, plan: 'pro' });
    expectInvalidToken(await api(t, forged, 'GET', '/v1/batches'), /bad signature/);
  });

  it('refuses a token whose key in the set cannot be used (RSA under 2048 bits) with a 401, not a 500', async () => {
    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const kid = `weak-${tag()}`;
    jwks.keys = [...jwks.keys, { ...(weak.publicKey.export({ format: 'jwk' }) as JWK), kid, alg: 'RS256' }];
    const input = `${b64({ alg: 'RS256', kid })}.${b64({ iss: ISSUER, aud: AUDIENCE, org_id: org, plan: 'pro', exp: now() + 300 })}`;
    const signature = sign('sha256', Buffer.from(input), weak.privateKey).toString('base64url');
    expectInvalidToken(await api(t, `${input}.${signature}`, 'GET', '/v1/batches'), /cannot be used/);
    // Not an outage: tokens of the other keys still verify against the provider.
    expect((await api(t, await token(rsa.signer, { org_id: org, plan: 'pro' }), 'GET', '/v1/batches')).status).toBe(
      200,
    );
  });

  it('refuses HS256 "signed" with the RSA public key, and alg none', async () => {
    const confused = await token(
      { key: new TextEncoder().encode(rsa.spki), alg: 'HS256', kid: 'rsa-1' },
      {
        org_id: org,
        plan: 'pro',
      },
    );
    expectInvalidToken(await api(t, confused, 'GET', '/v1/batches'), /algorithm is not accepted/);
    const none = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ iss: ISSUER, aud: AUDIENCE, org_id: org, plan: 'pro', exp: now() + 300 })}.`;
    expectInvalidToken(await api(t, none, 'GET', '/v1/batches'), /algorithm is not accepted/);
  });

  it('with the key set unreachable: keys already fetched keep working, an unseen kid is 503 auth_unavailable', async () => {
    await jwks.stop();
    try {
      const known = await api(t, await token(rsa.signer, { org_id: org, plan: 'pro' }), 'GET', '/v1/batches');
      expect(known.status).toBe(200);
      const unseen = await keyPair('ES256', `ec-${tag()}`);
      const started = Date.now();
      const res = await api(t, await token(unseen.signer, { org_id: org, plan: 'pro' }), 'GET', '/v1/batches');
      expect(Date.now() - started).toBeLessThan(3000);
      expect([res.status, res.body.error]).toEqual([503, { code: 'auth_unavailable', message: AUTH_UNAVAILABLE }]);
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      // Answered from the keys in hand until the retry time: no request waits on the provider.
      const again = await api(t, await token(unseen.signer, { org_id: org, plan: 'pro' }), 'GET', '/v1/batches');
      expect(again.status).toBe(503);
      expect((await api(t, await token(ec.signer, { org_id: org, plan: 'pro' }), 'GET', '/v1/batches')).status).toBe(
        200,
      );

      // The provider back with the new key: it works once the retry time has passed.
      jwks.keys = [rsa.jwk, ec.jwk, unseen.jwk];
      await jwks.start();
      const back = await waitFor(
        async () =>
          (await api(t, await token(unseen.signer, { org_id: org, plan: 'pro' }), 'GET', '/v1/batches')).status,
        (s) => s === 200,
        15_000,
        500,
      );
      expect(back).toBe(200);
    } finally {
      await jwks.start().catch(() => undefined);
    }
  });

  describe('a cold start with the key set unreachable', () => {
    it('answers 503 auth_unavailable with Retry-After, refused at once or after the fetch timeout, never a hang', async () => {
      const hanging = await startJwksServer([rsa.jwk]);
      hanging.mode = 'hang';
      const closedPort = await findFreePort();
      const apps = [
        await startApp({ AUTH_JWT_JWKS_URL: `http://127.0.0.1:${closedPort}/jwks.json` }),
        await startApp({ AUTH_JWT_JWKS_URL: hanging.url, AUTH_JWT_JWKS_TIMEOUT_MS: '700' }),
      ];
      try {
        for (const app of apps) {
          const started = Date.now();
          const res = await api(app, await token(rsa.signer, { org_id: org, plan: 'pro' }), 'GET', '/v1/batches');
          expect(Date.now() - started).toBeLessThan(4000);
          expect([res.status, res.body.error.code, res.body.error.message]).toEqual([
            503,
            'auth_unavailable',
            AUTH_UNAVAILABLE,
          ]);
          expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
          // API keys do not depend on the provider.
          expect((await api(app, app.keys.pro, 'GET', '/v1/batches')).status).toBe(200);
        }
        expect(hanging.fetches).toBe(1);
      } finally {
        await Promise.all(apps.map((a) => a.close()));
        await hanging.stop();
      }
    });
  });
});

describe('JWT bearer tokens with an HS256 secret', () => {
  const secret = randomBytes(32).toString('base64url');
  const hs: Signer = { key: new TextEncoder().encode(secret), alg: 'HS256' };
  const orgA = `hs-a-${tag()}`;
  const orgB = `hs-b-${tag()}`;
  let t: TestApp;

  beforeAll(async () => {
    t = await startApp({
      AUTH_JWT_SECRET: secret,
      AUTH_JWT_ISSUER: ISSUER,
      AUTH_JWT_AUDIENCE: AUDIENCE,
      PLANS_FILE: await plansFile({ rated: { requestsPerMinute: 3 } }),
    });
  });
  afterAll(() => t?.close());

  const get = async (claims: JWTPayload, path = '/v1/batches', signer = hs) =>
    api(t, await token(signer, claims), 'GET', path);

  it('accepts a valid token, and takes exp and nbf with 30 s of leeway', async () => {
    expect((await get({ org_id: orgA, plan: 'pro' })).status).toBe(200);
    expect((await get({ org_id: orgA, plan: 'pro', exp: now() - 10 })).status).toBe(200);
    expect((await get({ org_id: orgA, plan: 'pro', nbf: now() + 10 })).status).toBe(200);
  });

  it.each<[string, () => JWTPayload, RegExp]>([
    ['expired', () => ({ exp: now() - 120 }), /the token has expired/],
    ['not yet valid', () => ({ nbf: now() + 120 }), /not valid yet/],
    ['from another issuer', () => ({ iss: 'https://elsewhere.test/' }), /unexpected issuer/],
    ['for another audience', () => ({ aud: 'another-service' }), /unexpected audience/],
    ['on an unknown plan', () => ({ plan: 'platinum' }), /unknown plan/],
    ['without a plan', () => ({ plan: undefined }), /no plan claim/],
    ['without org_id', () => ({ org_id: undefined }), /no org_id claim/],
    [
      'with an org_id that is no organization id',
      () => ({ org_id: 'a b/c' }),
      /org_id claim is not an organization id/,
    ],
    ['with a scope claim that is not a string', () => ({ scope: ['read'] }), /scope claim must be a space-separated/],
  ])('refuses a token %s with 401 invalid_token', async (_what, claims, description) => {
    expectInvalidToken(await get({ org_id: orgA, plan: 'pro', ...claims() }), description);
  });

  it('refuses a token signed with another secret, and says nothing secret', async () => {
    const other = { key: new TextEncoder().encode(randomBytes(32).toString('hex')), alg: 'HS256' };
    const res = await get({ org_id: orgA, plan: 'pro' }, '/v1/batches', other);
    expectInvalidToken(res, /bad signature/);
    expect(JSON.stringify(res.body) + res.headers.get('www-authenticate')).not.toContain(secret);
  });

  it('refuses alg none, and an RS256 token where only HS256 is configured', async () => {
    const none = `${b64({ alg: 'none' })}.${b64({ iss: ISSUER, aud: AUDIENCE, org_id: orgA, plan: 'pro' })}.`;
    expectInvalidToken(await api(t, none, 'GET', '/v1/batches'), /algorithm is not accepted/);
    const rsa = await keyPair('RS256', 'k');
    expectInvalidToken(
      await get({ org_id: orgA, plan: 'pro' }, '/v1/batches', rsa.signer),
      /algorithm is not accepted/,
    );
  });

  it('answers a missing or unknown credential with WWW-Authenticate: Bearer', async () => {
    for (const key of [undefined, 'not-a-known-key']) {
      const res = await api(t, key, 'GET', '/v1/batches');
      expect([res.status, res.body.error.code, res.headers.get('www-authenticate')]).toEqual([
        401,
        'unauthorized',
        'Bearer',
      ]);
    }
    // API keys still work beside JWTs.
    expect((await api(t, t.keys.pro, 'GET', '/v1/batches')).status).toBe(200);
  });

  it("keeps each token's organization apart: another org's fileId and batch are 404", async () => {
    const a = await token(hs, { org_id: orgA, plan: 'pro', sub: 'alice' });
    const b = await token(hs, { org_id: orgB, plan: 'pro', sub: 'bob' });
    const up = await upload(t, a, CSV);
    expect(up.status).toBe(200);
    const fileId = up.body.fileId as string;
    expect((await api(t, a, 'GET', `/v1/batch/upload/${fileId}`)).status).toBe(200);
    const other = await api(t, b, 'GET', `/v1/batch/upload/${fileId}`);
    expect([other.status, other.body.error.code]).toEqual([404, 'file_not_found']);
    expect((await api(t, b, 'POST', '/v1/batch', { fileId })).status).toBe(404);
    // An API key of yet another organization sees nothing either.
    expect((await api(t, t.keys.pro, 'GET', `/v1/batch/upload/${fileId}`)).status).toBe(404);

    const batch = await api(t, a, 'POST', '/v1/batch', { fileId });
    expect(batch.status).toBe(202);
    const bView = await api(t, b, 'GET', `/v1/batch/${batch.body.id}`);
    expect([bView.status, bView.body.error.code]).toEqual([404, 'batch_not_found']);
    expect((await api(t, b, 'GET', '/v1/batches')).body.meta.total).toBe(0);
    expect((await api(t, a, 'GET', '/v1/batches')).body.meta.total).toBe(1);
  });

  it('counts the rate limit per token sub, else per organization', async () => {
    const org = `rated-${tag()}`;
    const statuses = async (claims: JWTPayload, n: number) => {
      const out: number[] = [];
      for (let i = 0; i < n; i++) out.push((await get({ org_id: org, plan: 'rated', ...claims })).status);
      return out;
    };
    expect(await statuses({ sub: 'alice' }, 4)).toEqual([200, 200, 200, 429]);
    // Another subject of the same organization has its own count; so has the org's sub-less tokens.
    expect(await statuses({ sub: 'bob' }, 3)).toEqual([200, 200, 200]);
    expect(await statuses({}, 4)).toEqual([200, 200, 200, 429]);
  });
});

describe('scopes per route', () => {
  const secret = randomBytes(32).toString('base64url');
  const hs: Signer = { key: new TextEncoder().encode(secret), alg: 'HS256' };
  const org = `scoped-${tag()}`;
  const NO_SESSION = 'u_unknownunknownunknown';
  let t: TestApp;
  let fileId: string;
  let batchId: string;

  beforeAll(async () => {
    // A worker in the process, for the upload session's validation.
    t = await startApp({ AUTH_JWT_SECRET: secret, AUTH_JWT_ISSUER: ISSUER, WORKER_IN_PROCESS: 'true' });
    const all = await token(hs, { org_id: org, plan: 'pro' });
    fileId = (await upload(t, all, CSV)).body.fileId;
    const direct = await api(t, all, 'POST', '/v1/batch', { items: [{ content: 'x' }] });
    batchId = direct.body.id;
  });
  afterAll(() => t?.close());

  /** Each route with the scope API.md gives it, and a request that is allowed once the scope is there. */
  const routes: [string, string, (key: string) => Promise<{ status: number; body: any; headers: Headers }>][] = [
    ['uploads:write', 'POST /v1/batch/upload', (k) => upload(t, k, CSV)],
    [
      'uploads:write',
      'DELETE /v1/batch/upload/{id}',
      (k) => api(t, k, 'DELETE', '/v1/batch/upload/f_unknownunknownunknown'),
    ],
    ['batches:write', 'POST /v1/batch', (k) => api(t, k, 'POST', '/v1/batch', { items: [{ content: 'y' }] })],
    ['batches:write', 'POST /v1/batch/{id}/cancel', (k) => api(t, k, 'POST', `/v1/batch/${batchId}/cancel`)],
    [
      'uploads:write',
      'POST /v1/uploads',
      (k) => api(t, k, 'POST', '/v1/uploads', { files: [{ filename: 'a.csv', sizeBytes: CSV.length }] }),
    ],
    ['uploads:write', 'POST /v1/uploads/{id}/parts', (k) => api(t, k, 'POST', `/v1/uploads/${NO_SESSION}/parts`, {})],
    ['uploads:write', 'POST /v1/uploads/{id}/complete', (k) => api(t, k, 'POST', `/v1/uploads/${NO_SESSION}/complete`)],
    ['uploads:write', 'DELETE /v1/uploads/{id}', (k) => api(t, k, 'DELETE', `/v1/uploads/${NO_SESSION}`)],
    ['read', 'GET /v1/uploads/{id}', (k) => api(t, k, 'GET', `/v1/uploads/${NO_SESSION}`)],
    ['read', 'GET /v1/batch/upload/{id}', (k) => api(t, k, 'GET', `/v1/batch/upload/${fileId}`)],
    ['read', 'GET /v1/batch/upload/{id}/errors', (k) => api(t, k, 'GET', `/v1/batch/upload/${fileId}/errors`)],
    ['read', 'GET /v1/batch/upload/{id}/preview', (k) => api(t, k, 'GET', `/v1/batch/upload/${fileId}/preview`)],
    ['read', 'GET /v1/batch/{id}', (k) => api(t, k, 'GET', `/v1/batch/${batchId}`)],
    ['read', 'GET /v1/batches', (k) => api(t, k, 'GET', '/v1/batches')],
    ['read', 'GET /v1/batch/{id}/results', (k) => api(t, k, 'GET', `/v1/batch/${batchId}/results`)],
  ];

  it.each(routes)('%s is needed by %s: other scopes get 403 forbidden', async (scope, _route, call) => {
    const withScope = async (s: string | undefined) =>
      call(await token(hs, { org_id: org, plan: 'pro', ...(s !== undefined && { scope: s }) }));
    for (const other of ['uploads:write', 'batches:write', 'read'].filter((s) => s !== scope)) {
      expectForbidden(await withScope(other), scope);
    }
    // A scope claim with none of batchgate's scopes grants nothing.
    expectForbidden(await withScope('openid profile'), scope);
    expectForbidden(await withScope(''), scope);
    for (const allowed of [scope, `openid ${scope} profile`, undefined]) {
      // Allowed: the route's own answer (200, 202, 204, or 404/409 for the ids used here), never 401/403.
      const res = await withScope(allowed);
      expect([allowed, res.status < 400 || res.status === 404 || res.status === 409]).toEqual([allowed, true]);
    }
  });

  it("takes an upload session's signed part URL without a credential, the rest of the session with uploads:write", async () => {
    const writer = await token(hs, { org_id: org, plan: 'pro', scope: 'uploads:write' });
    const bytes = Buffer.from(CSV);
    const session = await startSession(t, writer, bytes);
    const put = await putPart(session.parts[0], bytes);
    expect(put.status).toBe(200);
    const done = await api(t, writer, 'POST', `/v1/uploads/${session.uploadId}/complete`, undefined, {
      Prefer: 'wait=20',
    });
    expect([done.status, done.body.status]).toEqual([200, 'ready']);
    // Its fileId then needs read to be seen, and batches:write to make a batch.
    expectForbidden(await api(t, writer, 'GET', `/v1/batch/upload/${done.body.fileId}`), 'read');
    expectForbidden(await api(t, writer, 'POST', '/v1/batch', { fileId: done.body.fileId }), 'batches:write');
  });

  it('refuses an upload with the wrong scope before reading its body', async () => {
    const read = await token(hs, { org_id: org, plan: 'pro', scope: 'read' });
    const big = 'content\n' + 'x'.repeat(64 * 1024) + '\n';
    const res = await upload(t, read, big.repeat(64));
    expectForbidden(res, 'uploads:write');
  });

  it('every non-GET /v1 route declares its scope (or is public), so none is left to the default', () => {
    const undeclared: string[] = [];
    for (const module of t.app.get(ModulesContainer).values()) {
      for (const wrapper of module.controllers.values()) {
        const controller = wrapper.metatype as (new (...args: unknown[]) => unknown) | undefined;
        if (!controller) continue;
        const guards = (Reflect.getMetadata(GUARDS_METADATA, controller) ?? []) as unknown[];
        if (!guards.includes(ApiKeyGuard)) continue;
        const proto = controller.prototype as Record<string, unknown>;
        for (const name of Object.getOwnPropertyNames(proto)) {
          const handler = proto[name];
          if (name === 'constructor' || typeof handler !== 'function') continue;
          const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
          if (method === undefined || method === RequestMethod.GET || method === RequestMethod.HEAD) continue;
          const declared =
            Reflect.getMetadata(SCOPE_METADATA, handler) ??
            Reflect.getMetadata(SCOPE_METADATA, controller) ??
            Reflect.getMetadata(PUBLIC_METADATA, handler);
          if (!declared)
            undeclared.push(`${RequestMethod[method]} ${String(Reflect.getMetadata(PATH_METADATA, handler))}`);
        }
      }
    }
    expect(undeclared).toEqual([]);
  });
});

describe('JWT bearer tokens with a public key (AUTH_JWT_PUBLIC_KEY)', () => {
  let t: TestApp;
  let rsa: Awaited<ReturnType<typeof keyPair>>;
  const org = `pem-${tag()}`;

  beforeAll(async () => {
    rsa = await keyPair('RS256', 'pem');
    t = await startApp({ AUTH_JWT_PUBLIC_KEY: rsa.spki, AUTH_JWT_ORG_CLAIM: 'tenant', AUTH_JWT_PLAN_CLAIM: 'tier' });
  });
  afterAll(() => t?.close());

  it('verifies RS256 with the configured claim names, and refuses HS256 signed with that public key', async () => {
    expect((await api(t, await token(rsa.signer, { tenant: org, tier: 'pro' }), 'GET', '/v1/batches')).status).toBe(
      200,
    );
    expectInvalidToken(
      await api(t, await token(rsa.signer, { org_id: org, plan: 'pro' }), 'GET', '/v1/batches'),
      /no tenant claim/,
    );
    const confused = await token(
      { key: new TextEncoder().encode(rsa.spki), alg: 'HS256' },
      { tenant: org, tier: 'pro' },
    );
    expectInvalidToken(await api(t, confused, 'GET', '/v1/batches'), /algorithm is not accepted/);
  });
});

describe('API_KEYS_FILE', () => {
  let dir: string;
  let file: string;
  let t: TestApp;
  const org = `file-${tag()}`;
  const newKey = () => `bg_${randomBytes(32).toString('base64url')}`;
  const sha256 = (key: string) => createHash('sha256').update(key).digest('hex');
  const entry = (key: string, name: string, more: Record<string, unknown> = {}) => ({
    sha256: sha256(key),
    orgId: org,
    plan: 'pro',
    name,
    ...more,
  });
  const status = async (key: string) => (await api(t, key, 'GET', '/v1/batches')).status;
  /** As editors save: write a copy, rename it over the file. */
  const replace = async (content: string) => {
    const tmp = join(dir, `.keys-${tag()}.tmp`);
    await writeFile(tmp, content);
    await rename(tmp, file);
  };
  const first = newKey();
  const readOnly = newKey();

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'batchgate-keysfile-'));
    file = join(dir, 'keys.json');
    await writeFile(file, JSON.stringify([entry(first, 'ci'), entry(readOnly, 'dashboards', { scopes: ['read'] })]));
    t = await startApp({ API_KEYS_FILE: file });
  });
  afterAll(async () => {
    await t?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('takes the hashed keys, with their scopes, beside API_KEYS', async () => {
    expect(await status(first)).toBe(200);
    expect(await status(readOnly)).toBe(200);
    expectForbidden(await api(t, readOnly, 'POST', '/v1/batch', { items: [{ content: 'x' }] }), 'batches:write');
    expect((await api(t, first, 'POST', '/v1/batch', { items: [{ content: 'x' }] })).status).toBe(202);
    // API_KEYS and API_KEYS_FILE together: both sets count.
    expect(await status(t.keys.pro)).toBe(200);
    // The file holds hashes: the hash itself is no key.
    expect(await status(sha256(first))).toBe(401);
  });

  it('picks up a rotated key within seconds and stops a removed one, keeping the last good set when the file is malformed', async () => {
    const rotated = newKey();
    await replace(JSON.stringify([entry(rotated, 'ci'), entry(readOnly, 'dashboards', { scopes: ['read'] })]));
    expect(
      await waitFor(
        () => status(rotated),
        (s) => s === 200,
        10_000,
        200,
      ),
    ).toBe(200);
    expect(await status(first)).toBe(401);

    // Malformed (not JSON, then an unknown plan, then the file gone): the last good set stays.
    for (const bad of ['[{"sha256": ', JSON.stringify([entry(newKey(), 'x', { plan: 'platinum' })])]) {
      await replace(bad);
      await new Promise((r) => setTimeout(r, 3000));
      expect(await status(rotated)).toBe(200);
    }
    await rm(file);
    await new Promise((r) => setTimeout(r, 3000));
    expect(await status(rotated)).toBe(200);

    // Rewritten in place (no rename): seen too; the removed keys stop.
    const third = newKey();
    await writeFile(file, JSON.stringify([entry(third, 'ci')]));
    expect(
      await waitFor(
        () => status(third),
        (s) => s === 200,
        10_000,
        200,
      ),
    ).toBe(200);
    expect(await status(rotated)).toBe(401);
    expect(await status(readOnly)).toBe(401);
  });

  it('answers a JWT with invalid_token when JWTs are not configured', async () => {
    const jwt = await token({ key: new TextEncoder().encode('x'.repeat(32)), alg: 'HS256' }, { org_id: org });
    expectInvalidToken(await api(t, jwt, 'GET', '/v1/batches'), /takes API keys, not JWTs/);
  });

  it('stops the start-up when the file has no good set', async () => {
    const bad = join(dir, 'bad.json');
    await writeFile(bad, JSON.stringify([entry(newKey(), 'x', { plan: 'platinum' })]));
    await expect(startApp({ API_KEYS_FILE: bad })).rejects.toThrow(ConfigError);
    await expect(startApp({ API_KEYS_FILE: join(dir, 'missing.json') })).rejects.toThrow(/^API_KEYS_FILE: /);
  });
});

/** The built service as a process: what its operator sees (logs, start-up refusals). */
describe('the service process', () => {
  const main = join(__dirname, '..', 'dist', 'main.js');
  const built = existsSync(main);
  const itBuilt = built ? it : it.skip;
  let dir: string;

  beforeAll(async () => (dir = await mkdtemp(join(tmpdir(), 'batchgate-authproc-'))));
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const env = (more: Record<string, string>) => ({
    PATH: process.env.PATH,
    REDIS_URL: testRedisUrl(),
    STORAGE_DIR: join(dir, 'data'),
    LOG_LEVEL: 'info',
    LOG_FORMAT: 'json',
    ...more,
  });

  const run = (more: Record<string, string>) => runToExit(main, env({ PORT: '0', ...more }));

  itBuilt('refuses to start with one line: two JWT sources, or a keys file without a good set', async () => {
    const bad = join(dir, 'bad-keys.json');
    await writeFile(bad, '[{"sha256": "nope"}]');
    for (const [more, first] of [
      [{ AUTH_JWT_SECRET: 'x'.repeat(40), AUTH_JWT_JWKS_URL: 'https://idp.test/jwks' }, 'AUTH_JWT_JWKS_URL'],
      [{ API_KEYS_FILE: bad }, 'API_KEYS_FILE'],
    ] as const) {
      const { code, out } = await run(more);
      expect(code).toBe(1);
      const lines = out.trim().split('\n');
      expect(lines).toEqual([expect.stringMatching(new RegExp(`^batchgate: configuration error: ${first}`))]);
    }
  });

  itBuilt(
    "logs the organization and the token's sub, never the token; one error line for a malformed keys file",
    async () => {
      const port = await findFreePort();
      const secret = randomBytes(32).toString('base64url');
      const keysFile = join(dir, 'keys.json');
      const key = `bg_${randomBytes(32).toString('base64url')}`;
      const sha = createHash('sha256').update(key).digest('hex');
      await writeFile(keysFile, JSON.stringify([{ sha256: sha, orgId: 'logorg', plan: 'pro', name: 'ops' }]));
      const child: ChildProcess = spawn(process.execPath, [main], {
        env: env({ PORT: String(port), AUTH_JWT_SECRET: secret, API_KEYS_FILE: keysFile }),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
      child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
      try {
        await waitFor(
          () =>
            fetch(`http://127.0.0.1:${port}/ready`).then(
              (r) => r.status,
              () => 0,
            ),
          (s) => s === 200,
          15_000,
        );
        const jwt = await new SignJWT({ org_id: 'logorg', plan: 'pro', sub: 'alice@example.test' })
          .setProtectedHeader({ alg: 'HS256' })
          .setExpirationTime('5m')
          .sign(new TextEncoder().encode(secret));
        const res = await fetch(`http://127.0.0.1:${port}/v1/batches`, {
          headers: { Authorization: `Bearer ${jwt}`, 'X-Request-Id': 'jwt-log-check' },
        });
        expect(res.status).toBe(200);
        const line = await waitFor(
          () => Promise.resolve(out.split('\n').find((l) => l.includes('"requestId":"jwt-log-check"'))),
          (l) => l !== undefined,
          5000,
        );
        expect(JSON.parse(line!)).toMatchObject({ orgId: 'logorg', sub: 'alice@example.test', status: 200 });

        await writeFile(keysFile, '[{"sha256": ');
        await new Promise((r) => setTimeout(r, 3500));
        const errors = out.split('\n').filter((l) => l.includes('keeping the last good set'));
        expect(errors).toHaveLength(1);
        expect(errors[0]).toContain('API_KEYS_FILE');
        const byKey = await fetch(`http://127.0.0.1:${port}/v1/batches`, {
          headers: { Authorization: `Bearer ${key}` },
        });
        expect(byKey.status).toBe(200);

        expect(out).not.toContain(jwt);
        expect(out).not.toContain(jwt.split('.')[2]);
        expect(out).not.toContain(key);
        expect(out).not.toContain(secret);
      } finally {
        child.kill('SIGKILL');
      }
    },
  );
});
