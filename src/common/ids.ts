import { randomBytes } from 'node:crypto';

/** 128 random bits, URL-safe (API.md asks for at least 122): `f_…` uploads, `b_…` batches. */
export function newId(prefix: string): string {
  return `${prefix}_${randomBytes(16).toString('base64url')}`;
}

/** Ids are URL-safe base64 with a prefix; anything else cannot exist, so it is simply not found. */
export function looksLikeId(id: string, prefix: string): boolean {
  return new RegExp(`^${prefix}_[A-Za-z0-9_-]{16,64}$`).test(id);
}

/**
 * An organization id, from API_KEYS, API_KEYS_FILE or a JWT's claim: it becomes part of Redis keys
 * and their hash tag, so only these characters.
 */
export const ORG_ID = /^[A-Za-z0-9_.-]{1,64}$/;
