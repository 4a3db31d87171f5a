import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from './exit';

/** Where the service is and how to reach it. */
export interface ClientConfig {
  url: string;
  /** An API key or a JWT: either goes in `Authorization: Bearer`. */
  apiKey: string | undefined;
  /** Tries after the first, for answers and failures that a retry can fix. */
  retries: number;
  /** The first backoff; doubled at every retry (a Retry-After answer header wins). */
  retryDelayMs: number;
  /** For every request but the upload bodies, which take as long as the file does. */
  timeoutMs: number;
  /** Files over this size go through an upload session (BATCHGATE_SESSION_THRESHOLD, "sessionThreshold"). */
  sessionThresholdBytes: number;
  /** Where the file was looked for (named in the "no API key" sentence). */
  configFile: string;
}

/** The global flags, as commander parsed them (strings: numbers are checked here). */
export interface GlobalFlags {
  url?: string;
  apiKey?: string;
  retries?: string;
  retryDelay?: string;
  timeout?: string;
}

export const DEFAULT_URL = 'http://localhost:3000';

/** $XDG_CONFIG_HOME/batchgate/config.json, else ~/.config/batchgate/config.json. */
export function configFilePath(env: NodeJS.ProcessEnv): string {
  const base =
    env.XDG_CONFIG_HOME && env.XDG_CONFIG_HOME.startsWith('/') ? env.XDG_CONFIG_HOME : join(homedir(), '.config');
  return join(base, 'batchgate', 'config.json');
}

interface FileConfig {
  url?: string;
  apiKey?: string;
  retries?: number;
  retryDelayMs?: number;
  timeoutMs?: number;
  sessionThreshold?: number;
}

function readConfigFile(path: string): FileConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new UsageError(`Cannot read ${path}: ${(e as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new UsageError(`${path} is not valid JSON.`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new UsageError(`${path} must hold a JSON object ({ "url": ..., "apiKey": ... }).`);
  }
  const known = ['url', 'apiKey', 'retries', 'retryDelayMs', 'timeoutMs', 'sessionThreshold'];
  for (const [key, value] of Object.entries(parsed)) {
    if (!known.includes(key)) throw new UsageError(`${path}: unknown key "${key}" (known: ${known.join(', ')}).`);
    const wanted = key === 'url' || key === 'apiKey' ? 'string' : 'number';
    if (typeof value !== wanted) throw new UsageError(`${path}: "${key}" must be a ${wanted}.`);
  }
  return parsed;
}

function whole(raw: string | number | undefined, what: string, min: number, max: number): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  const n = typeof raw === 'number' ? raw : /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isInteger(n) || n < min || n > max)
    throw new UsageError(`${what} must be a whole number from ${min} to ${max}.`);
  return n;
}

function checkedUrl(raw: string, where: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`${where}: "${raw}" is not a URL (http://host:port).`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new UsageError(`${where} must be an http or https URL.`);
  return url.href.replace(/\/+$/, '');
}

export const DEFAULT_SESSION_THRESHOLD = 16 * 1024 * 1024;
const UNITS: Record<string, number> = { '': 1, b: 1, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3 };

/** A size in bytes: a whole number, or one with KiB, MiB or GiB (binary, as the plans' sizes are). */
export function parseSize(raw: string | number | undefined, what: string): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (typeof raw === 'number') return whole(raw, what, 0, Number.MAX_SAFE_INTEGER);
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(raw.trim());
  const unit = m ? UNITS[m[2].toLowerCase()] : undefined;
  const n = m && unit !== undefined ? Math.round(Number(m[1]) * unit) : NaN;
  if (!Number.isSafeInteger(n))
    throw new UsageError(`${what} must be a size: bytes, or a number with KiB, MiB or GiB.`);
  return n;
}

/** Flags first, then BATCHGATE_* variables, then the config file, then the defaults. */
export function resolveConfig(flags: GlobalFlags, env: NodeJS.ProcessEnv): ClientConfig {
  const configFile = configFilePath(env);
  const file = readConfigFile(configFile);
  const pick = <T>(...values: (T | undefined)[]): T | undefined => values.find((v) => v !== undefined && v !== '');
  const urlFrom: [string | undefined, string][] = [
    [flags.url, '--url'],
    [env.BATCHGATE_URL, 'BATCHGATE_URL'],
    [file.url, configFile],
  ];
  const [url, where] = urlFrom.find(([v]) => v !== undefined && v !== '') ?? [DEFAULT_URL, 'default'];
  return {
    url: checkedUrl(url ?? DEFAULT_URL, where),
    apiKey: pick(flags.apiKey, env.BATCHGATE_API_KEY, file.apiKey),
    retries:
      whole(flags.retries, '--retries', 0, 20) ??
      whole(env.BATCHGATE_RETRIES, 'BATCHGATE_RETRIES', 0, 20) ??
      whole(file.retries, `${configFile}: retries`, 0, 20) ??
      4,
    retryDelayMs:
      whole(flags.retryDelay, '--retry-delay', 0, 600_000) ??
      whole(env.BATCHGATE_RETRY_DELAY_MS, 'BATCHGATE_RETRY_DELAY_MS', 0, 600_000) ??
      whole(file.retryDelayMs, `${configFile}: retryDelayMs`, 0, 600_000) ??
      500,
    timeoutMs:
      whole(flags.timeout, '--timeout', 1, 3_600_000) ??
      whole(env.BATCHGATE_TIMEOUT_MS, 'BATCHGATE_TIMEOUT_MS', 1, 3_600_000) ??
      whole(file.timeoutMs, `${configFile}: timeoutMs`, 1, 3_600_000) ??
      30_000,
    sessionThresholdBytes:
      parseSize(env.BATCHGATE_SESSION_THRESHOLD, 'BATCHGATE_SESSION_THRESHOLD') ??
      parseSize(file.sessionThreshold, `${configFile}: sessionThreshold`) ??
      DEFAULT_SESSION_THRESHOLD,
    configFile,
  };
}
