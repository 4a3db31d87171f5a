import { randomBytes } from 'node:crypto';

/** 128 random bits, URL-safe (API.md asks for at least 122): `f_…` uploads, `b_…` batches. */
export function newId(prefix: string): string {
  return `${prefix}_${randomBytes(16).toString('base64url')}`;
}

/** Ids are URL-safe base64 with a prefix; anything else cannot exist, so it is simply not found. */
export function looksLikeId(id: string, prefix: string): boolean {
  return new RegExp(`^${prefix}_[A-Za-z0-9_-]{16,64}$`).test(id);
}
