import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import type { Plan } from '../plans/plans';

export interface AuthContext {
  orgId: string;
  plan: Plan;
  /** A digest of the API key (never the key): what rate limits are counted by. */
  keyId: string;
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
