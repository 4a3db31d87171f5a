import { Logger } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { ORG_ID } from '../common/ids';
import { hasControlCharacters } from '../common/text';
import { type AppConfig, ConfigError } from '../config/app-config';
import type { Plan } from '../plans/plans';
import { SCOPES, type Scope, isScope } from './scopes';

/** One API_KEYS_FILE entry (API.md, Conventions): the key itself is never stored, only its SHA-256. */
export interface HashedKey {
  /** Lower-case hex. */
  sha256: string;
  orgId: string;
  plan: string;
  name: string;
  /** Absent: every scope. */
  scopes?: Scope[];
}

/** Why a keys file cannot be used: one line, naming the entry (never a hash or a key). */
export class KeyFileError extends Error {}

const SHA256_HEX = /^[0-9a-fA-F]{64}$/;
const FIELDS = new Set(['sha256', 'orgId', 'plan', 'name', 'scopes']);
/** A keys file is a few kB; anything this large is not one. */
const MAX_FILE_BYTES = 16 * 1024 * 1024;

function entry(raw: unknown, n: number, plans: Record<string, Plan>): HashedKey {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new KeyFileError(`entry ${n} is not an object`);
  const e = raw as Record<string, unknown>;
  const where = typeof e.name === 'string' && e.name ? `entry ${n} ("${e.name.slice(0, 64)}")` : `entry ${n}`;
  // Strict: a misspelt "scope" must not silently give a key every scope.
  const unknown = Object.keys(e).find((k) => !FIELDS.has(k));
  if (unknown !== undefined)
    throw new KeyFileError(
      `${where} has an unknown field "${unknown.slice(0, 40)}" (sha256, orgId, plan, name, scopes)`,
    );
  if (typeof e.sha256 !== 'string' || !SHA256_HEX.test(e.sha256))
    throw new KeyFileError(`${where}: sha256 must be the 64 hex digits of the key's SHA-256`);
  if (typeof e.orgId !== 'string' || !ORG_ID.test(e.orgId))
    throw new KeyFileError(`${where}: orgId must be 1 to 64 letters, digits, '.', '_' or '-'`);
  if (typeof e.plan !== 'string' || !Object.hasOwn(plans, e.plan))
    throw new KeyFileError(
      `${where}: unknown plan ${JSON.stringify(e.plan)} (plans: ${Object.keys(plans).join(', ')})`,
    );
  if (typeof e.name !== 'string' || !e.name.trim() || e.name.length > 200 || hasControlCharacters(e.name))
    throw new KeyFileError(`${where}: name must be a non-empty line of at most 200 characters`);
  let scopes: Scope[] | undefined;
  if (e.scopes !== undefined) {
    if (!Array.isArray(e.scopes) || e.scopes.length === 0 || !e.scopes.every(isScope))
      throw new KeyFileError(
        `${where}: scopes must list one or more of ${SCOPES.join(', ')} (leave it out for a key that may do everything)`,
      );
    scopes = [...new Set(e.scopes)];
  }
  return { sha256: e.sha256.toLowerCase(), orgId: e.orgId, plan: e.plan, name: e.name, ...(scopes && { scopes }) };
}

/** The file's text as a set of keys by hash, or a KeyFileError saying what is wrong with it. */
export function parseKeyFile(text: string, plans: Record<string, Plan>): Map<string, HashedKey> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new KeyFileError(`not valid JSON (${(e as Error).message.slice(0, 120)})`);
  }
  if (!Array.isArray(json)) throw new KeyFileError('must be a JSON array of { sha256, orgId, plan, name, scopes? }');
  const keys = new Map<string, HashedKey>();
  json.forEach((raw: unknown, i) => {
    const key = entry(raw, i + 1, plans);
    if (keys.has(key.sha256)) throw new KeyFileError(`entry ${i + 1} has the same sha256 as an earlier entry`);
    keys.set(key.sha256, key);
  });
  return keys;
}

const digest = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * API_KEYS_FILE, read at start (a file that cannot be used stops the start-up) and then polled:
 * each poll reads the file (it is small) and compares its content, so an editor that replaces the
 * file (write a copy, rename over), one that rewrites it in place, and a file system whose mtime is
 * coarse are all seen. A new content is applied once it has stayed the same for one poll, so a
 * file caught half-written is not reported. A file that cannot be used (malformed, unknown plan,
 * missing) keeps the last good set, with one error line per content.
 */
export class ApiKeyFile {
  private readonly logger = new Logger('ApiKeys');
  private keys: Map<string, HashedKey>;
  /** Digest of the content in use (or last reported as unusable). */
  private settled: string;
  /** Digest seen at the previous poll, not yet settled. */
  private pending?: string;
  private timer?: NodeJS.Timeout;
  private polling = false;

  constructor(
    readonly path: string,
    private readonly plans: Record<string, Plan>,
    private readonly pollMs = 1000,
  ) {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      throw new ConfigError(`API_KEYS_FILE: cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    try {
      this.keys = parseKeyFile(text, plans);
    } catch (e) {
      throw new ConfigError(`API_KEYS_FILE: ${path}: ${(e as Error).message}`);
    }
    this.settled = digest(text);
  }

  get size(): number {
    return this.keys.size;
  }

  /** The entry whose hash is `sha256` (lower-case hex of the presented key). */
  lookup(sha256: string): HashedKey | undefined {
    return this.keys.get(sha256);
  }

  start(): void {
    this.timer ??= setInterval(() => void this.poll(), this.pollMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      let text: string | undefined;
      let why: string | undefined;
      try {
        if ((await stat(this.path)).size > MAX_FILE_BYTES) why = 'larger than 16 MB: not a keys file';
        else text = await readFile(this.path, 'utf8');
      } catch (e) {
        why = `cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'})`;
      }
      const seen = text === undefined ? `unreadable:${why}` : digest(text);
      if (seen === this.settled) {
        this.pending = undefined;
        return;
      }
      if (seen !== this.pending) {
        this.pending = seen; // changed since the last poll: wait until it stays put
        return;
      }
      this.settled = seen;
      this.pending = undefined;
      if (text !== undefined) {
        try {
          this.keys = parseKeyFile(text, this.plans);
          this.logger.log(`API_KEYS_FILE ${this.path} reloaded: ${this.keys.size} key(s)`);
          return;
        } catch (e) {
          why = (e as Error).message;
        }
      }
      this.logger.error(`API_KEYS_FILE ${this.path}: ${why}; keeping the last good set (${this.keys.size} key(s))`);
    } finally {
      this.polling = false;
    }
  }
}

/** Nest token of the API_KEYS_FILE in use (null when none is configured). */
export const API_KEY_FILE = Symbol('API_KEY_FILE');

/** API_KEYS_FILE read and checked: a ConfigError (one line) when it has no good set. */
export function openApiKeyFile(config: Pick<AppConfig, 'apiKeysFile' | 'plans'>): ApiKeyFile | null {
  return config.apiKeysFile ? new ApiKeyFile(config.apiKeysFile, config.plans) : null;
}
