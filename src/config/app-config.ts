import { availableParallelism } from 'node:os';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { ORG_ID } from '../common/ids';
import { type Plan, loadPlans } from '../plans/plans';
import { type JwtConfig, JwtConfigError, loadJwtConfig } from './jwt-config';
import { type S3Config, S3ConfigError, loadS3Config } from './s3-config';

export type { JwtConfig, S3Config };

export const APP_CONFIG = Symbol('APP_CONFIG');

export interface ApiKey {
  key: string;
  orgId: string;
  plan: string;
}

export interface AppConfig {
  port: number;
  redisUrl: string;
  storageDriver: 'local' | 's3' | 'none';
  /** The local driver's directory; with s3, only the spool of requests in transit lives under it. */
  storageDir: string;
  /** Set when STORAGE_DRIVER=s3. */
  s3?: S3Config;
  /** REDIS_CLUSTER_NODES: when set, every client is a Redis Cluster client and REDIS_URL is not read. */
  redisClusterNodes?: string[];
  fileTtlSeconds: number;
  /** API_KEYS: plain keys (development). */
  apiKeys: ApiKey[];
  /** API_KEYS_FILE (absolute): hashed keys, read by the api at start and again whenever the file changes. */
  apiKeysFile?: string;
  /** AUTH_JWT_*: set when JWT bearer tokens are accepted. */
  jwt?: JwtConfig;
  /** Set when no credential is configured at all (no API_KEYS, API_KEYS_FILE or AUTH_JWT_*): the development key printed at start. */
  generatedDevKey?: string;
  plans: Record<string, Plan>;
  schemasDir?: string;
  processor: 'accept' | 'webhook';
  webhookUrl?: string;
  webhookSecret?: string;
  workerConcurrency: number;
  batchRetentionDays: number;
  /** BATCH_RETENTION_DAYS in seconds: how long finished batches, their results and tombstones are kept. */
  batchRetentionSeconds: number;
  workerInProcess: boolean;
  /** 'api' connections fail fast (503, no hanging request); 'worker' ones retry forever. */
  redisRole: 'api' | 'worker';
  /** BullMQ lock: a worker that dies is noticed (and its batch resumed elsewhere) after about this long. */
  workerLockMs: number;
  webhookAttempts: number;
  webhookRetryDelayMs: number;
  maxRecordBytes: number;
  /** Threads of the ingest pool that reads large files on every core (0: every file in-thread). */
  ingestThreads: number;
  /** Files with fewer UTF-8 bytes than this are read in-thread. */
  ingestParallelMinBytes: number;
  /** About this much text per chunk handed to a pool thread. */
  ingestChunkBytes: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** 'auto': readable lines when stdout is a terminal, JSON lines otherwise (NODE_ENV=production: 'json'). */
  logFormat: 'auto' | 'json' | 'pretty';
  /** Bull Board at /admin/queues is served only when set. */
  adminToken?: string;
  /** SIGTERM: how long in-flight requests (uploads) may take to finish before connections are cut. */
  shutdownGraceMs: number;
  /** SIGTERM: how long /ready says 503 while still serving, so load balancers stop sending first. */
  shutdownDelayMs: number;
  /** SIGTERM/SIGINT: past this, whatever is still shutting down is abandoned and the process exits 1. */
  shutdownTimeoutMs: number;
  /** A request body with no byte for this long is answered 408 (a trickling client holds no connection). */
  bodyIdleTimeoutMs: number;
  /**
   * How long an idle keep-alive connection is kept open. Longer than a load balancer's idle timeout
   * (60 s on AWS ALB and GCP), else it reuses a connection Node just closed and answers 502.
   */
  keepAliveTimeoutMs: number;
  /** BullMQ key prefix: deployments (and test runs) sharing one Redis keep their queues apart. */
  queuePrefix: string;
  /** How often the sweeps run (expired uploads' objects, batch requeue and retention). */
  sweepIntervalMs: number;
  /** A worker process serves its own /metrics on this port when set. */
  workerMetricsPort?: number;
  /** PUBLIC_URL: the service's base URL as clients reach it (the local driver's part URLs); else from the request. */
  publicUrl?: string;
  /** How long a signed part URL is valid. */
  uploadUrlTtlSeconds: number;
  /** How long an upload session may wait for its bytes and `complete`. */
  uploadSessionTtlSeconds: number;
  /** The local driver's part-URL signing key; when absent, one is made once and kept in Redis. */
  uploadSigningSecret?: string;
  /** Upload sessions validated at once per worker process. */
  validationConcurrency: number;
}

/** One clear line naming the variable; main.ts prints it and exits non-zero. */
export class ConfigError extends Error {}

function int(env: NodeJS.ProcessEnv, name: string, def: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return def;
  if (!/^\d+$/.test(raw.trim())) throw new ConfigError(`${name} must be a whole number, got "${raw}"`);
  const n = Number(raw);
  if (n < min || n > max) throw new ConfigError(`${name} must be between ${min} and ${max}, got ${n}`);
  return n;
}

function bool(env: NodeJS.ProcessEnv, name: string, def: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return def;
  if (['1', 'true', 'yes'].includes(raw)) return true;
  if (['0', 'false', 'no'].includes(raw)) return false;
  throw new ConfigError(`${name} must be true or false, got "${env[name]}"`);
}

function oneOf<T extends string>(env: NodeJS.ProcessEnv, name: string, def: T, allowed: readonly T[]): T {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return def;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new ConfigError(`${name} must be one of ${allowed.join(', ')}, got "${raw}"`);
  }
  return raw as T;
}

/**
 * BullMQ key prefix. On Redis Cluster every key of a queue must share one slot, so the prefix is a
 * hash tag there (`{bull}`): given as one, or wrapped into one.
 */
function queuePrefix(env: NodeJS.ProcessEnv, cluster: boolean): string {
  const prefix = env.QUEUE_PREFIX?.trim() || 'bull';
  if (!/^(\{[A-Za-z0-9_-]{1,62}\}|[A-Za-z0-9_-]{1,64})$/.test(prefix))
    throw new ConfigError(
      `QUEUE_PREFIX must use letters, digits, '_' or '-' (optionally as one {hash tag}), got "${prefix}"`,
    );
  return cluster && !prefix.startsWith('{') ? `{${prefix}}` : prefix;
}

function logFormat(env: NodeJS.ProcessEnv): AppConfig['logFormat'] {
  const def = env.NODE_ENV?.trim() === 'production' ? 'json' : 'auto';
  return oneOf(env, 'LOG_FORMAT', def, ['auto', 'json', 'pretty'] as const);
}

/** The shutdown deadline must leave the drain (delay, then grace) time to end on its own. */
function shutdownTimeoutMs(env: NodeJS.ProcessEnv, delayMs: number, graceMs: number): number {
  const ms = int(env, 'SHUTDOWN_TIMEOUT_SECONDS', 25, 1, 3600) * 1000;
  if (delayMs + graceMs >= ms) {
    throw new ConfigError(
      `SHUTDOWN_TIMEOUT_SECONDS (${ms / 1000}) must be longer than SHUTDOWN_DELAY_MS + SHUTDOWN_GRACE_MS (${(delayMs + graceMs) / 1000} s)`,
    );
  }
  return ms;
}

function adminToken(env: NodeJS.ProcessEnv): string | undefined {
  const token = env.ADMIN_TOKEN?.trim();
  if (!token) return undefined;
  if (token.length < 12) throw new ConfigError('ADMIN_TOKEN must have at least 12 characters');
  return token;
}

const REDIS_URL = /^rediss?:\/\/[^\s]+$/;

/** A redis:// URL that ioredis and the cluster set-up can read (a port out of range or a bad %-escape is caught here). */
function isRedisUrl(raw: string): boolean {
  if (!REDIS_URL.test(raw)) return false;
  try {
    const u = new URL(raw);
    decodeURIComponent(u.username);
    decodeURIComponent(u.password);
    return u.hostname !== '';
  } catch {
    return false;
  }
}

function clusterNodes(env: NodeJS.ProcessEnv): string[] | undefined {
  const raw = env.REDIS_CLUSTER_NODES?.trim();
  if (!raw) return undefined;
  const nodes = raw
    .split(',')
    .map((n) => n.trim())
    .filter(Boolean);
  if (!nodes.length) throw new ConfigError(`REDIS_CLUSTER_NODES lists no node, got "${raw}"`);
  for (const node of nodes) {
    if (!isRedisUrl(node)) {
      throw new ConfigError(`REDIS_CLUSTER_NODES must be comma-separated redis:// or rediss:// URLs, got "${node}"`);
    }
  }
  return nodes;
}

function publicUrl(env: NodeJS.ProcessEnv): string | undefined {
  const raw = env.PUBLIC_URL?.trim();
  if (!raw) return undefined;
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new ConfigError(`PUBLIC_URL must be an http(s) URL, got "${raw}"`);
  }
  if ((u.protocol !== 'http:' && u.protocol !== 'https:') || u.search || u.hash) {
    throw new ConfigError(`PUBLIC_URL must be an http(s) URL without query or fragment, got "${raw}"`);
  }
  return raw.replace(/\/+$/, '');
}

function signingSecret(env: NodeJS.ProcessEnv): string | undefined {
  const raw = env.UPLOAD_SIGNING_SECRET;
  if (raw === undefined || raw === '') return undefined;
  if (raw.length < 32) throw new ConfigError('UPLOAD_SIGNING_SECRET must be at least 32 characters');
  return raw;
}

/** The environment, read and checked once. Nothing else reads process.env. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  let plans: Record<string, Plan>;
  try {
    plans = loadPlans(env.PLANS_FILE || undefined);
  } catch (e) {
    throw new ConfigError((e as Error).message);
  }

  const redisClusterNodes = clusterNodes(env);
  // With a cluster, REDIS_URL is not read (API.md).
  const redisUrl = env.REDIS_URL?.trim() || 'redis://127.0.0.1:6379';
  if (!redisClusterNodes && !isRedisUrl(redisUrl))
    throw new ConfigError(`REDIS_URL must be a redis:// or rediss:// URL, got "${redisUrl}"`);

  const driver = oneOf(env, 'STORAGE_DRIVER', 'local', ['local', 's3', 'none'] as const);
  let s3: S3Config | undefined;
  if (driver === 's3') {
    try {
      s3 = loadS3Config(env, (name, def) => bool(env, name, def));
    } catch (e) {
      if (e instanceof S3ConfigError) throw new ConfigError(e.message);
      throw e;
    }
  }

  let jwt: JwtConfig | undefined;
  try {
    jwt = loadJwtConfig(env, (name, def, min, max) => int(env, name, def, min, max));
  } catch (e) {
    if (e instanceof JwtConfigError) throw new ConfigError(e.message);
    throw e;
  }
  const apiKeysFile = env.API_KEYS_FILE?.trim() ? resolve(env.API_KEYS_FILE.trim()) : undefined;

  let apiKeys: ApiKey[] = [];
  let generatedDevKey: string | undefined;
  const rawKeys = env.API_KEYS?.trim();
  if (rawKeys) {
    const seen = new Set<string>();
    for (const entry of rawKeys
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)) {
      const [key, orgId, plan, ...rest] = entry.split(':');
      if (rest.length || !key || !orgId || !plan)
        throw new ConfigError(`API_KEYS entries are key:orgId:plan, got "${entry.slice(0, 4)}…"`);
      if (key.length < 8) throw new ConfigError(`API_KEYS: each key needs at least 8 characters (org ${orgId})`);
      if (!ORG_ID.test(orgId))
        throw new ConfigError(`API_KEYS: orgId "${orgId}" must use letters, digits, '.', '_' or '-'`);
      if (!Object.hasOwn(plans, plan))
        throw new ConfigError(
          `API_KEYS: unknown plan "${plan}" for org ${orgId} (plans: ${Object.keys(plans).join(', ')})`,
        );
      if (seen.has(key)) throw new ConfigError(`API_KEYS: a key appears twice (org ${orgId})`);
      seen.add(key);
      apiKeys.push({ key, orgId, plan });
    }
  } else if (!apiKeysFile && !jwt) {
    // Only when nothing else is configured: a deployment with a keys file or JWTs gets no extra key.
    generatedDevKey = `bg_dev_${randomBytes(18).toString('base64url')}`;
    apiKeys = [{ key: generatedDevKey, orgId: 'dev', plan: 'pro' }];
  }

  const processor = oneOf(env, 'PROCESSOR', 'accept', ['accept', 'webhook'] as const);
  const webhookUrl = env.WEBHOOK_URL?.trim() || undefined;
  if (processor === 'webhook') {
    if (!webhookUrl) throw new ConfigError('WEBHOOK_URL is required when PROCESSOR=webhook');
    try {
      const u = new URL(webhookUrl);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error();
    } catch {
      throw new ConfigError(`WEBHOOK_URL must be an http(s) URL, got "${webhookUrl}"`);
    }
  }

  const batchRetentionDays = int(env, 'BATCH_RETENTION_DAYS', 7, 1, 3650);
  const shutdownGraceMs = int(env, 'SHUTDOWN_GRACE_MS', 20_000, 0, 3_600_000);
  const shutdownDelayMs = int(env, 'SHUTDOWN_DELAY_MS', 0, 0, 600_000);

  return {
    port: int(env, 'PORT', 3000, 0, 65535),
    redisUrl,
    storageDriver: driver,
    s3,
    redisClusterNodes,
    storageDir: resolve(env.STORAGE_DIR?.trim() || './data/uploads'),
    fileTtlSeconds: int(env, 'FILE_TTL_SECONDS', 3600, 1, 30 * 24 * 3600),
    apiKeys,
    apiKeysFile,
    jwt,
    generatedDevKey,
    plans,
    schemasDir: env.SCHEMAS_DIR?.trim() || undefined,
    processor,
    webhookUrl,
    webhookSecret: env.WEBHOOK_SECRET || undefined,
    workerConcurrency: int(env, 'WORKER_CONCURRENCY', 4, 1, 256),
    batchRetentionDays,
    batchRetentionSeconds: batchRetentionDays * 86400,
    workerInProcess: bool(env, 'WORKER_IN_PROCESS', false),
    redisRole: 'api',
    workerLockMs: int(env, 'WORKER_LOCK_MS', 30_000, 1000, 600_000),
    webhookAttempts: int(env, 'WEBHOOK_ATTEMPTS', 5, 1, 20),
    webhookRetryDelayMs: int(env, 'WEBHOOK_RETRY_DELAY_MS', 500, 0, 60_000),
    maxRecordBytes: int(env, 'MAX_RECORD_BYTES', 1024 * 1024, 1024, 64 * 1024 * 1024),
    ingestThreads: int(env, 'INGEST_THREADS', availableParallelism(), 0, 64),
    ingestParallelMinBytes: int(env, 'INGEST_PARALLEL_MIN_BYTES', 2 * 1024 * 1024, 1, 1024 * 1024 * 1024),
    ingestChunkBytes: int(env, 'INGEST_CHUNK_BYTES', 1024 * 1024, 1, 64 * 1024 * 1024),
    logLevel: oneOf(env, 'LOG_LEVEL', 'info', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const),
    logFormat: logFormat(env),
    adminToken: adminToken(env),
    shutdownGraceMs,
    shutdownDelayMs,
    shutdownTimeoutMs: shutdownTimeoutMs(env, shutdownDelayMs, shutdownGraceMs),
    bodyIdleTimeoutMs: int(env, 'BODY_IDLE_TIMEOUT_SECONDS', 30, 1, 3600) * 1000,
    keepAliveTimeoutMs: int(env, 'KEEP_ALIVE_TIMEOUT_SECONDS', 65, 1, 3600) * 1000,
    queuePrefix: queuePrefix(env, redisClusterNodes !== undefined),
    sweepIntervalMs: int(env, 'SWEEP_INTERVAL_SECONDS', 60, 1, 86_400) * 1000,
    workerMetricsPort: env.WORKER_METRICS_PORT ? int(env, 'WORKER_METRICS_PORT', 0, 1, 65535) : undefined,
    publicUrl: publicUrl(env),
    uploadUrlTtlSeconds: int(env, 'UPLOAD_URL_TTL_SECONDS', 900, 1, 7 * 24 * 3600),
    uploadSessionTtlSeconds: int(env, 'UPLOAD_SESSION_TTL_SECONDS', 86_400, 1, 30 * 24 * 3600),
    uploadSigningSecret: signingSecret(env),
    validationConcurrency: int(env, 'VALIDATION_CONCURRENCY', 2, 1, 64),
  };
}
