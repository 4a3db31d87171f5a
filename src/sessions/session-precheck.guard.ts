import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import type Redis from 'ioredis';
import { authOf } from '../auth/auth-context';
import { batchNotOnPlan, storageNotConfigured, storageUnavailable } from '../errors/errors';
import { REDIS } from '../redis/redis.module';
import { FILE_STORAGE, type FileStorage } from '../storage/file-storage';

/** As for direct uploads: the plan (402), storage switched off (503 for every session route), Redis down (503). */
@Injectable()
export class SessionPrecheckGuard implements CanActivate {
  constructor(
    @Inject(FILE_STORAGE) private readonly storage: FileStorage,
    @Inject(REDIS) private readonly redis: Redis,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<Request>();
    const auth = authOf(req);
    if (!auth) throw new Error('SessionPrecheckGuard needs the API key guard');
    if (!this.storage.configured) throw storageNotConfigured();
    if (!auth.plan.batchEnabled) throw batchNotOnPlan(auth.plan.name);
    if (this.redis.status !== 'ready') throw storageUnavailable();
    return true;
  }
}
