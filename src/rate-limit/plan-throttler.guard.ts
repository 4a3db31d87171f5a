import { type ExecutionContext, Injectable } from '@nestjs/common';
import { ThrottlerGuard, type ThrottlerLimitDetail } from '@nestjs/throttler';
import type { Request } from 'express';
import { authOf } from '../auth/auth-context';
import { AppError } from '../errors/app-error';
import { keys } from '../store/redis-keys';

/**
 * @nestjs/throttler, counted per API key across every route and every api process (its storage is
 * Redis), at the plan's `requestsPerMinute`. Runs after ApiKeyGuard; a plan with `null` is unlimited.
 */
@Injectable()
export class PlanThrottlerGuard extends ThrottlerGuard {
  protected override shouldSkip(context: ExecutionContext): Promise<boolean> {
    const auth = authOf(context.switchToHttp().getRequest<Request>());
    return Promise.resolve(!auth || auth.plan.requestsPerMinute === null);
  }

  protected override getTracker(req: Record<string, unknown>): Promise<string> {
    return Promise.resolve(authOf(req as unknown as Request)!.keyId);
  }

  protected override generateKey(_context: ExecutionContext, tracker: string, name: string): string {
    return keys.rateLimit(tracker, name);
  }

  protected override throwThrottlingException(_context: ExecutionContext, detail: ThrottlerLimitDetail): Promise<void> {
    const retryAfter = Math.max(1, Math.ceil(detail.timeToBlockExpire));
    throw new AppError(
      'rate_limited',
      `Too many requests: your plan allows ${detail.limit} per minute. Retry after ${retryAfter} s.`,
      { limit: detail.limit, windowSeconds: Math.round(detail.ttl / 1000) },
      undefined,
      retryAfter,
    );
  }
}

/** The plan's per-minute limit, read per request (plans differ per key). */
export function planLimit(context: ExecutionContext): number {
  return authOf(context.switchToHttp().getRequest<Request>())?.plan.requestsPerMinute ?? Number.MAX_SAFE_INTEGER;
}
