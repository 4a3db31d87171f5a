import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppModule } from '../../src/app.module';
import { configureApp } from '../../src/app.setup';
import { openApiKeyFile } from '../../src/auth/api-key-file';
import { type AppConfig, loadConfig } from '../../src/config/app-config';

export interface TestKeys {
  pro: string;
  free: string;
  enterprise: string;
  other: string;
}

export interface TestApp {
  url: string;
  app: NestExpressApplication;
  config: AppConfig;
  keys: TestKeys;
  orgs: Record<keyof TestKeys, string>;
  storageDir: string;
  close(): Promise<void>;
}

/** The private Redis that test/global-setup.js started for this run (never the developer's 6379). */
export function testRedisUrl(): string {
  const url = process.env.BATCHGATE_TEST_REDIS_URL;
  if (!url) throw new Error('BATCHGATE_TEST_REDIS_URL is not set: run the tests with `npm test`');
  return url;
}

/**
 * The real app, configured from environment variables as in production, listening on a random
 * port. Organizations get fresh random names, so tests never see each other's data.
 */
export async function startApp(env: Record<string, string> = {}, opts: { tag?: string } = {}): Promise<TestApp> {
  const storageDir = await mkdtemp(join(tmpdir(), 'batchgate-e2e-'));
  // Two instances started with the same tag share keys and organizations (one service, two processes).
  const tag = opts.tag ?? randomBytes(4).toString('hex');
  const orgs = { pro: `pro-${tag}`, free: `free-${tag}`, enterprise: `ent-${tag}`, other: `other-${tag}` };
  const keys: TestKeys = {
    pro: `key-pro-${tag}`,
    free: `key-free-${tag}`,
    enterprise: `key-ent-${tag}`,
    other: `key-other-${tag}`,
  };
  const config = loadConfig({
    LOG_LEVEL: process.env.BATCHGATE_TEST_LOGS ? 'info' : 'silent',
    // A queue of its own per test app (as bullmq's tests do), so no test's worker takes another's jobs.
    QUEUE_PREFIX: `bgtest-${tag}`,
    REDIS_URL: testRedisUrl(),
    STORAGE_DIR: storageDir,
    API_KEYS: [
      `${keys.pro}:${orgs.pro}:pro`,
      `${keys.free}:${orgs.free}:free`,
      `${keys.enterprise}:${orgs.enterprise}:enterprise`,
      `${keys.other}:${orgs.other}:pro`,
    ].join(','),
    // BATCHGATE_TEST_INGEST=pool sends every upload through the ingest pool in small chunks (the
    // answers must not change: issue 14's differential run of the e2e specs).
    ...(process.env.BATCHGATE_TEST_INGEST === 'pool' && { INGEST_PARALLEL_MIN_BYTES: '1', INGEST_CHUNK_BYTES: '4096' }),
    ...env,
  });
  // As main.ts: the keys file is read before Nest starts, so a refused one builds no half an app
  // (whose Redis clients and ingest threads nothing would close, holding the test process open).
  const keysFile = openApiKeyFile(config);
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config, undefined, keysFile), {
    bodyParser: false,
    logger: process.env.BATCHGATE_TEST_LOGS ? new Logger() : false,
    // As main.ts: a start-up error (an unusable API_KEYS_FILE, say) is thrown, not a process.exit.
    abortOnError: false,
  });
  configureApp(app, config);
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  return {
    url: `http://127.0.0.1:${address.port}`,
    app,
    config,
    keys,
    orgs,
    storageDir,
    close: async () => {
      await app.close();
      await rm(storageDir, { recursive: true, force: true });
    },
  };
}

export interface UploadOptions {
  name?: string;
  type?: string;
  fields?: Record<string, string>;
  /** Put the text fields after the file part. */
  fieldsAfter?: boolean;
  headers?: Record<string, string>;
}

/** A real multipart upload over HTTP with Node's fetch. */
export async function upload(
  t: TestApp,
  key: string,
  content: string | Buffer,
  opts: UploadOptions = {},
): Promise<{ status: number; body: any; headers: Headers }> {
  const form = new FormData();
  const fields = Object.entries(opts.fields ?? {});
  if (!opts.fieldsAfter) for (const [k, v] of fields) form.append(k, v);
  const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  form.append('file', new Blob([bytes], opts.type ? { type: opts.type } : {}), opts.name ?? 'data.csv');
  if (opts.fieldsAfter) for (const [k, v] of fields) form.append(k, v);
  const res = await fetch(`${t.url}/v1/batch/upload`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${key}`, ...(opts.headers ?? {}) },
    body: form,
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as unknown) : undefined, headers: res.headers };
}

export async function api(
  t: TestApp,
  key: string | undefined,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: any; text: string; headers: Headers }> {
  const res = await fetch(`${t.url}${path}`, {
    method,
    headers: {
      ...(key && { Authorization: `Bearer ${key}` }),
      ...(body !== undefined && { 'Content-Type': 'application/json' }),
      ...headers,
    },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: res.status, body: parsed, text, headers: res.headers };
}
