import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../config/app-config';
import { BUILT_IN_PLANS } from '../plans/plans';
import { ApiKeyFile, KeyFileError, parseKeyFile } from './api-key-file';
import { looksLikeJwt } from './jwt-verifier';
import { KeyCommandError, newKey, newKeyText } from './new-key';
import { allows, requiredScope, scopesOfClaim } from './scopes';

const HASH = 'a'.repeat(64);
const entry = (over: Record<string, unknown> = {}) => ({
  sha256: HASH,
  orgId: 'acme',
  plan: 'pro',
  name: 'ci',
  ...over,
});

describe('API_KEYS_FILE', () => {
  it('reads entries by hash, lower-casing it, with optional scopes', () => {
    const keys = parseKeyFile(
      JSON.stringify([entry({ sha256: 'AB'.repeat(32) }), entry({ sha256: 'c'.repeat(64), scopes: ['read', 'read'] })]),
      BUILT_IN_PLANS,
    );
    expect(keys.get('ab'.repeat(32))).toEqual({ sha256: 'ab'.repeat(32), orgId: 'acme', plan: 'pro', name: 'ci' });
    expect(keys.get('c'.repeat(64))?.scopes).toEqual(['read']);
    expect(parseKeyFile('[]', BUILT_IN_PLANS).size).toBe(0);
  });

  it.each([
    ['{', /not valid JSON/],
    ['{}', /JSON array/],
    [JSON.stringify([1]), /entry 1 is not an object/],
    [JSON.stringify([entry({ sha256: 'xyz' })]), /entry 1 \("ci"\): sha256/],
    [JSON.stringify([entry({ orgId: 'a b' })]), /orgId/],
    [JSON.stringify([entry({ plan: 'gold' })]), /unknown plan "gold" \(plans: free, pro, enterprise\)/],
    [JSON.stringify([entry({ plan: 'toString' })]), /unknown plan/],
    [JSON.stringify([entry({ name: '' })]), /name/],
    [JSON.stringify([entry({ scopes: [] })]), /scopes must list/],
    [JSON.stringify([entry({ scopes: ['admin'] })]), /scopes must list/],
    // A misspelt "scopes" must not leave a key with every scope.
    [JSON.stringify([entry({ scope: ['read'] })]), /unknown field "scope"/],
    [JSON.stringify([entry(), entry({ name: 'again' })]), /entry 2 has the same sha256/],
  ])('refuses %s', (text, why) => {
    expect(() => parseKeyFile(text, BUILT_IN_PLANS)).toThrow(KeyFileError);
    expect(() => parseKeyFile(text, BUILT_IN_PLANS)).toThrow(why);
  });

  describe('at start', () => {
    let dir: string;
    beforeAll(async () => (dir = await mkdtemp(join(tmpdir(), 'batchgate-keys-'))));
    afterAll(() => rm(dir, { recursive: true, force: true }));

    it('stops the start-up with one line naming API_KEYS_FILE when there is no good set', async () => {
      const bad = join(dir, 'bad.json');
      await writeFile(bad, JSON.stringify([entry({ plan: 'gold' })]));
      for (const path of [bad, join(dir, 'missing.json')]) {
        let error: unknown;
        try {
          new ApiKeyFile(path, BUILT_IN_PLANS);
        } catch (e) {
          error = e;
        }
        expect(error).toBeInstanceOf(ConfigError);
        expect((error as Error).message).toMatch(/^API_KEYS_FILE: /);
        expect((error as Error).message).not.toContain('\n');
      }
    });

    it('looks a key up by the hex SHA-256 of the presented key', async () => {
      const key = 'bg_a-key-for-the-unit-test';
      const sha256 = createHash('sha256').update(key).digest('hex');
      const path = join(dir, 'good.json');
      await writeFile(path, JSON.stringify([entry({ sha256 })]));
      const file = new ApiKeyFile(path, BUILT_IN_PLANS);
      expect(file.lookup(sha256)).toMatchObject({ orgId: 'acme', plan: 'pro' });
      expect(file.lookup(HASH)).toBeUndefined();
    });
  });
});

describe('scopes', () => {
  it('needs the declared scope, else read for GET and HEAD; other methods take only unscoped credentials', () => {
    expect(requiredScope('POST', 'uploads:write')).toBe('uploads:write');
    expect(requiredScope('GET', undefined)).toBe('read');
    expect(requiredScope('HEAD', undefined)).toBe('read');
    expect(requiredScope('POST', undefined)).toBeUndefined();
    expect(allows(undefined, undefined)).toBe(true);
    expect(allows(undefined, 'batches:write')).toBe(true);
    expect(allows(['read'], undefined)).toBe(false);
    // Independent: a write scope does not grant the GETs.
    expect(allows(['uploads:write'], 'read')).toBe(false);
    expect(allows(['uploads:write', 'read'], 'read')).toBe(true);
  });

  it("reads a JWT's space-separated scope claim, ignoring names it does not know", () => {
    expect(scopesOfClaim('read  uploads:write openid')).toEqual(['read', 'uploads:write']);
    expect(scopesOfClaim('openid profile')).toEqual([]);
    expect(scopesOfClaim('')).toEqual([]);
  });
});

describe('telling a JWT from an API key', () => {
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  it.each([
    [`${b64({ alg: 'RS256' })}.${b64({ sub: 'x' })}.c2ln`, true],
    [`${b64({ alg: 'none' })}.${b64({ sub: 'x' })}.`, true],
    ['bg_J9vQaZinV6GDhyhVhJHaaTEA1uzC6ufYloEkOf1hqs4', false],
    ['key.with.dots', false],
    [`${b64({ typ: 'JWT' })}.${b64({})}.c2ln`, false],
    [`${b64({ alg: 'HS256' })}.${b64({})}.c2ln.more`, false],
  ])('%s → %s', (credential, jwt) => expect(looksLikeJwt(credential)).toBe(jwt));
});

describe('npm run key', () => {
  it('makes a random key and the entry whose sha256 is its hash', () => {
    const made = newKey(
      ['--org', 'acme', '--plan', 'pro', '--name', 'ci', '--scopes', 'read,uploads:write'],
      BUILT_IN_PLANS,
    );
    expect(made.key).toMatch(/^bg_[A-Za-z0-9_-]{43}$/);
    expect(made.entry).toEqual({
      sha256: createHash('sha256').update(made.key).digest('hex'),
      orgId: 'acme',
      plan: 'pro',
      name: 'ci',
      scopes: ['read', 'uploads:write'],
    });
    // The entry it prints is one the service accepts.
    const line = newKeyText(made)
      .split('\n')
      .find((l) => l.trim().startsWith('{'))!;
    expect(parseKeyFile(`[${line}]`, BUILT_IN_PLANS).get(made.entry.sha256)?.orgId).toBe('acme');
    expect(newKey(['--org', 'acme', '--plan', 'pro', '--name', 'ci'], BUILT_IN_PLANS).key).not.toBe(made.key);
  });

  it.each([
    [['--org', 'acme', '--plan', 'pro']],
    [['--org', 'acme', '--plan', 'gold', '--name', 'ci']],
    [['--org', 'a c', '--plan', 'pro', '--name', 'ci']],
    [['--org', 'acme', '--plan', 'pro', '--name', 'ci', '--scopes', 'admin']],
    [['--org', 'acme', '--plan', 'pro', '--name', 'ci', '--nope']],
  ])('refuses %j', (argv) => {
    expect(() => newKey(argv, BUILT_IN_PLANS)).toThrow(KeyCommandError);
  });
});
