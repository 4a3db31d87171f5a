import { ConfigError, loadConfig } from './app-config';

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
    [{ BODY_IDLE_TIMEOUT_SECONDS: '1.5' }, 'BODY_IDLE_TIMEOUT_SECONDS'],
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
});
