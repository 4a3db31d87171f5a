import { SetMetadata } from '@nestjs/common';

/**
 * API.md's scopes (Conventions). They are independent: a write scope does not grant the GETs.
 * A credential without scopes (an API key without `scopes`, a JWT without a `scope` claim) may do
 * everything its plan allows.
 */
export const SCOPES = ['uploads:write', 'batches:write', 'read'] as const;
export type Scope = (typeof SCOPES)[number];

export const isScope = (s: unknown): s is Scope => (SCOPES as readonly unknown[]).includes(s);

export const SCOPE_METADATA = 'batchgate:scope';
export const PUBLIC_METADATA = 'batchgate:public';

/**
 * The scope a route needs, on a handler (or a controller). Without it a GET (or HEAD) needs `read`,
 * and any other method is open only to credentials without scopes: a new write route that forgets
 * this decorator fails closed for scoped credentials rather than open.
 */
export const RequireScope = (scope: Scope) => SetMetadata(SCOPE_METADATA, scope);

/**
 * A route under an authenticated controller that takes no credential (e.g. a part URL the service
 * signed itself, which checks its own signature).
 */
export const Public = () => SetMetadata(PUBLIC_METADATA, true);

/** What the route needs: its declared scope, `read` for reads, or `undefined` (only unscoped credentials). */
export function requiredScope(method: string, declared: Scope | undefined): Scope | undefined {
  if (declared) return declared;
  return method === 'GET' || method === 'HEAD' ? 'read' : undefined;
}

/** Whether credential scopes (undefined: every scope) allow a route needing `needed`. */
export function allows(scopes: readonly Scope[] | undefined, needed: Scope | undefined): boolean {
  if (scopes === undefined) return true;
  return needed !== undefined && scopes.includes(needed);
}

/**
 * A JWT's `scope` claim (RFC 8693 §4.2: space-separated). Names batchgate does not know are ignored,
 * so a claim holding none of its scopes grants nothing.
 */
export function scopesOfClaim(claim: string): Scope[] {
  return [...new Set(claim.split(/\s+/).filter(isScope))];
}
