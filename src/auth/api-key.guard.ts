import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { createHash, timingSafeEqual } from 'node:crypto';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { AppError } from '../errors/app-error';
import { type AuthContext, setAuth } from './auth-context';

function digest(key: string): Buffer {
  return createHash('sha256').update(key).digest();
}

/**
 * `Authorization: Bearer <key>` on every /v1 route. Guards run before interceptors, so an
 * unknown key is refused before multer reads a byte of an upload.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  private readonly keys: { digest: Buffer; orgId: string; plan: string }[];

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    this.keys = config.apiKeys.map((k) => ({ digest: digest(k.key), orgId: k.orgId, plan: k.plan }));
  }

  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<Request>();
    const match = /^Bearer\s+(\S+)\s*$/i.exec(req.header('authorization') ?? '');
    if (!match) throw new AppError('unauthorized', 'Missing API key: send "Authorization: Bearer <api key>".');
    const given = digest(match[1]);
    // Compare digests in constant time so key prefixes cannot be probed by timing.
    const found = this.keys.find((k) => timingSafeEqual(k.digest, given));
    if (!found) throw new AppError('unauthorized', 'Unknown API key.');
    const auth: AuthContext = {
      orgId: found.orgId,
      plan: this.config.plans[found.plan],
      keyId: found.digest.toString('base64url').slice(0, 22),
    };
    setAuth(req, auth);
    return true;
  }
}
