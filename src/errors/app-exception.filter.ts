import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { randomUUID } from 'node:crypto';
import { AppError, type ErrorCode, storageUnavailable } from './app-error';
import { isInfrastructureError } from './infrastructure';
import { JSON_BODY_LIMIT_BYTES } from '../common/limits';
import { requestIdOf } from '../common/request-id';
import { formatBytes } from '../common/format';

const HTTP_CODES: Record<number, ErrorCode> = {
  400: 'validation_error',
  401: 'unauthorized',
  404: 'not_found',
  413: 'payload_too_large',
  415: 'unsupported_format',
  429: 'rate_limited',
};

/** How much of an unread body is discarded after an early answer before the connection is cut. */
const DRAIN_BYTES = 64 * 1024 * 1024;
const DRAIN_MS = 5000;

/**
 * An answer sent before the request body was read (refused up front, or cut off at the size limit).
 * Closing at once makes most clients fail with EPIPE/ECONNRESET before they read the answer, so the
 * rest of the body is read and thrown away (the connection stays usable), but only within a bound:
 * past DRAIN_BYTES or DRAIN_MS the connection is cut.
 */
function drainThenClose(req: Request, res: Response): void {
  let seen = 0;
  const cut = () => req.socket?.destroy();
  const timer = setTimeout(cut, DRAIN_MS);
  timer.unref();
  req.once('close', () => clearTimeout(timer));
  req.once('end', () => clearTimeout(timer));
  // Node's server drops 'data' listeners when it dumps an unread body at 'finish': count after it.
  res.once('finish', () => {
    req.on('data', (chunk: Buffer) => {
      seen += chunk.length;
      if (seen > DRAIN_BYTES) cut();
    });
    req.resume();
  });
}

/** API.md's envelope. Built here only: by the filter, and for answers written outside Nest (clientError). */
export function errorBody(error: AppError, requestId: string): Record<string, unknown> {
  return {
    error: { code: error.code, message: error.message, ...(error.details && { details: error.details }) },
    ...(error.rows ?? {}),
    requestId,
  };
}

/** Writes `error` as the answer to `req`; also used where no Nest handler is running (body idle timeout). */
export function sendAppError(req: Request, res: Response, error: AppError): void {
  if (error.retryAfter !== undefined) res.setHeader('Retry-After', String(error.retryAfter));
  if (error.code === 'request_timeout') {
    // The client stopped sending: nothing left to drain, and the connection is not worth keeping.
    res.setHeader('Connection', 'close');
  } else if (!req.complete) {
    drainThenClose(req, res);
  }
  res.status(error.status).json(errorBody(error, requestIdOf(req)));
}

/** The single place that maps exceptions to error answers: API.md's envelope, with the request id. */
@Catch()
export class AppExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const req = ctx.getRequest<Request>();
    const res = ctx.getResponse<Response>();
    const error = this.toAppError(exception, req);
    if (res.headersSent) {
      // A streamed body was under way: all we can do is cut it so the client sees it incomplete.
      // (An answer already complete, such as a body idle timeout's 408, is left to reach the client.)
      if (!res.writableEnded) res.destroy();
      return;
    }
    sendAppError(req, res, error);
  }

  private toAppError(exception: unknown, req: Request): AppError {
    if (exception instanceof AppError) return exception;
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const code = HTTP_CODES[status];
      if (status === 404) return new AppError('not_found', `Route ${req.method} ${req.path} not found`);
      if (status === 400 && /JSON/i.test(exception.message)) {
        return new AppError('validation_error', 'Request body is not valid JSON');
      }
      if (code) return new AppError(code, exception.message);
    }
    const type = (exception as { type?: string })?.type;
    if (type === 'entity.parse.failed') return new AppError('validation_error', 'Request body is not valid JSON');
    if (type === 'entity.too.large') {
      return new AppError('payload_too_large', `File size exceeds maximum of ${formatBytes(JSON_BODY_LIMIT_BYTES)}`, {
        maxBytes: JSON_BODY_LIMIT_BYTES,
        hint: 'Larger batches: upload a file and create the batch from its fileId.',
      });
    }
    if (isInfrastructureError(exception)) {
      this.logger.warn(`storage or Redis unavailable: ${(exception as Error).message}`);
      return storageUnavailable();
    }
    const errorId = randomUUID();
    this.logger.error(`unexpected error ${errorId}: ${(exception as Error)?.stack ?? String(exception)}`);
    return new AppError('internal_error', `Internal error (id ${errorId})`, { errorId });
  }
}
