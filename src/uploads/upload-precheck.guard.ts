import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import type Redis from 'ioredis';
import { authOf } from '../auth/auth-context';
import { batchNotOnPlan, payloadTooLarge, storageNotConfigured, storageUnavailable } from '../errors/errors';
import { REDIS } from '../redis/redis.module';
import { FILE_STORAGE, type FileStorage } from '../storage/file-storage';
import { filesPerRequest } from '../plans/plans';

/** Room for the multipart boundaries, part headers and the small text fields around the file. */
export const MULTIPART_OVERHEAD_BYTES = 64 * 1024;

/**
 * Everything that can refuse an upload before a byte of its body is read: the plan (402), storage
 * switched off (503), a declared Content-Length over the plan's limit (413), Redis down (503).
 */
@Injectable()
export class UploadPrecheckGuard implements CanActivate {
  constructor(
    @Inject(FILE_STORAGE) private readonly storage: FileStorage,
    @Inject(REDIS) private readonly redis: Redis,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<Request>();
    const auth = authOf(req);
    if (!auth) throw new Error('UploadPrecheckGuard needs ApiKeyGuard');
    if (!auth.plan.batchEnabled) throw batchNotOnPlan(auth.plan.name);
    if (!this.storage.configured) throw storageNotConfigured();
    const declared = Number(req.header('content-length'));
    const max = auth.plan.maxFileBytes;
    // Several files may come in one body: only past every file's limit together is it surely too large.
    if (Number.isFinite(declared) && declared > max * filesPerRequest(auth.plan) + MULTIPART_OVERHEAD_BYTES) {
      throw payloadTooLarge(max);
    }
    if (this.redis.status !== 'ready') throw storageUnavailable();
    return true;
  }
}
