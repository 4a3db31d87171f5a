import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { forbidden } from '../errors/errors';
import { setAuth } from './auth-context';
import { Credentials } from './credentials';
import { PUBLIC_METADATA, SCOPE_METADATA, type Scope, allows, requiredScope } from './scopes';

/**
 * `Authorization: Bearer <API key or JWT>` on every /v1 route (API.md, Conventions), then the
 * route's scope: its @RequireScope, else `read` for a GET. Guards run before interceptors, so a
 * refused credential is refused before multer reads a byte of an upload. A route marked @Public()
 * takes no credential.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly credentials: Credentials,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean | undefined>(PUBLIC_METADATA, targets)) return true;
    const req = context.switchToHttp().getRequest<Request>();
    const auth = await this.credentials.authenticate(req.header('authorization'));
    // Set before the scope check, so that a 403's log line names the organization too.
    setAuth(req, auth);
    const needed = requiredScope(
      req.method,
      this.reflector.getAllAndOverride<Scope | undefined>(SCOPE_METADATA, targets),
    );
    if (!allows(auth.scopes, needed)) throw forbidden(needed);
    return true;
  }
}
