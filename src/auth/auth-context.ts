import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import type { Plan } from '../plans/plans';
import type { Scope } from './scopes';

export interface AuthContext {
  orgId: string;
  plan: Plan;
  /**
   * What rate limits are counted by, never a secret: a digest of the API key, or for a JWT a digest
   * of its organization and `sub` (of its organization alone when it has no `sub`).
   */
  keyId: string;
  /** undefined: every scope (a credential without scopes may do everything its plan allows). */
  scopes?: readonly Scope[];
  /** How the caller authenticated. */
  via: 'api_key' | 'jwt';
  /** A JWT's `sub`, for the logs (never the token). */
  subject?: string;
  /** An API_KEYS_FILE entry's `name`, for the logs (never the key). */
  keyName?: string;
}

const KEY = Symbol('auth');

export function setAuth(req: Request, auth: AuthContext): void {
  (req as unknown as Record<symbol, AuthContext>)[KEY] = auth;
}

export function authOf(req: Request): AuthContext | undefined {
  return (req as unknown as Record<symbol, AuthContext | undefined>)[KEY];
}

/** The caller's organization and plan, set by ApiKeyGuard. */
export const Auth = createParamDecorator((_: unknown, ctx: ExecutionContext): AuthContext => {
  const auth = authOf(ctx.switchToHttp().getRequest<Request>());
  if (!auth) throw new Error('Auth used on a route without ApiKeyGuard');
  return auth;
});
