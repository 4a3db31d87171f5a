import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { randomUUID } from 'node:crypto';
import { AppError, type ErrorCode } from './app-error';
import {
  bodyIncomplete,
  bodyUnreadable,
  internalError,
  invalidJsonBody,
  payloadTooLarge,
  routeNotFound,
  storageUnavailable,
  unsupportedBodyCharset,
  unsupportedBodyEncoding,
} from './errors';
import { isInfrastructureError } from './infrastructure';
import { JSON_BODY_LIMIT_BYTES } from '../common/limits';
import { requestIdOf } from '../common/request-id';

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
  for (const [name, value] of Object.entries(error.headers ?? {})) res.setHeader(name, value);
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

  /**
   * Express's body parser fails with http-errors carrying a `type`: each becomes the contract's error
   * (a charset or Content-Encoding it cannot read is 415, a body that cannot be inflated is 400).
   */
  private fromBodyParser(exception: unknown): AppError | undefined {
    const e = exception as {
      type?: unknown;
      status?: unknown;
      charset?: unknown;
      encoding?: unknown;
      message?: unknown;
    };
    if (!e || typeof e !== 'object' || typeof e.status !== 'number' || e.status < 400 || e.status >= 500) return;
    switch (e.type) {
      case 'entity.parse.failed':
        return invalidJsonBody();
      case 'entity.too.large':
        return payloadTooLarge(JSON_BODY_LIMIT_BYTES, {
          hint: 'Larger batches: upload a file and create the batch from its fileId.',
        });
      case 'charset.unsupported':
        return unsupportedBodyCharset(typeof e.charset === 'string' ? e.charset : '');
      case 'encoding.unsupported':
        return unsupportedBodyEncoding(typeof e.encoding === 'string' ? e.encoding : '');
      case 'request.aborted':
        return bodyIncomplete();
      default:
        // zlib's errors (a corrupt gzip or deflate body) and every other 4xx of the parser.
        if (typeof e.type === 'string' || typeof (e as { code?: unknown }).code === 'string') return bodyUnreadable();
        return;
    }
  }

  private toAppError(exception: unknown, req: Request): AppError {
    if (exception instanceof AppError) return exception;
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const code = HTTP_CODES[status];
      if (status === 404) return routeNotFound(req.method, req.path);
      if (status === 400 && /JSON/i.test(exception.message)) return invalidJsonBody();
      if (code) return new AppError(code, exception.message);
    }
    const bodyError = this.fromBodyParser(exception);
    if (bodyError) return bodyError;
    if (isInfrastructureError(exception)) {
      this.logger.warn(`storage or Redis unavailable: ${(exception as Error).message}`);
      return storageUnavailable();
    }
    const errorId = randomUUID();
    this.logger.error(`unexpected error ${errorId}: ${(exception as Error)?.stack ?? String(exception)}`);
    return internalError(errorId);
  }
}
