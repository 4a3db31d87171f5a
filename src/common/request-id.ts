import type { NextFunction, Request, Response } from 'express';
import { randomUUID } from 'node:crypto';

const SANE = /^[A-Za-z0-9._:-]{1,128}$/;
const KEY = Symbol('requestId');

/** Every response carries X-Request-Id: the client's when it sent a sane one, else a new id. */
export function requestIdMiddleware(req: Request, res: Response, next: NextFunction): void {
  const given = req.header('x-request-id');
  const id = given && SANE.test(given) ? given : randomUUID();
  (req as unknown as Record<symbol, string>)[KEY] = id;
  res.setHeader('X-Request-Id', id);
  next();
}

export function requestIdOf(req: Request): string {
  return (req as unknown as Record<symbol, string | undefined>)[KEY] ?? randomUUID();
}
