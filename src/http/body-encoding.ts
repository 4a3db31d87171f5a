import type { NextFunction, Request, Response } from 'express';
import { unsupportedBodyEncoding } from '../errors/errors';
import { isRawBodyRequest } from './raw-body';

/** What a JSON body may be sent as. Brotli and the rest are refused before a byte is read. */
const READABLE = new Set(['identity', 'gzip', 'x-gzip', 'deflate']);

/**
 * JSON bodies (POST /v1/batch) with a Content-Encoding batchgate does not take answer 415 up front,
 * rather than whatever the body parser makes of bytes it half-understands.
 */
export function bodyEncodingMiddleware(req: Request, _res: Response, next: NextFunction): void {
  const header = req.header('content-encoding');
  if (header === undefined || isRawBodyRequest(req) || !req.is('application/json')) return next();
  const unknown = header
    .split(',')
    .map((e) => e.trim().toLowerCase())
    .find((e) => e !== '' && !READABLE.has(e));
  next(unknown === undefined ? undefined : unsupportedBodyEncoding(unknown));
}
