import type { NextFunction, Request, Response } from 'express';
import { AppError } from '../errors/app-error';
import { sendAppError } from '../errors/app-exception.filter';

/**
 * Emitted on the request when its body has been idle too long. A reader that owns something to
 * clean up (the multipart spool file) listens, fails its read with the error and lets the exception
 * filter answer; with no listener, the answer is written here.
 */
export const BODY_IDLE = Symbol('batchgate.bodyIdle');

export function bodyIdleError(ms: number): AppError {
  const seconds = ms / 1000;
  return new AppError(
    'request_timeout',
    `No part of the request body arrived for ${seconds} s: the request timed out.`,
    { idleTimeoutSeconds: seconds },
  );
}

/**
 * A request whose body stops arriving for `ms` (a client trickling bytes, or gone silent) is
 * answered 408 and its connection closed, instead of being held until Node's requestTimeout
 * (5 minutes) answers a bare 408.
 *
 * It uses the socket's idle timer, which Node's HTTP parser refreshes on every byte read. Node
 * emits 'timeout' on the request only while its body is incomplete; once the body is in, the
 * handler may take as long as it needs, so the timer is switched off.
 */
export function bodyIdleTimeout(ms: number) {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (req.complete) return next();
    const socket = req.socket;
    const off = () => {
      // After the answer Node sets the keep-alive timer on this socket: leave that one alone.
      if (!res.writableFinished) socket.setTimeout(0);
    };
    req.setTimeout(ms, () => {
      if (req.complete) return off();
      const error = bodyIdleError(ms);
      if (req.listenerCount(BODY_IDLE) > 0) req.emit(BODY_IDLE, error);
      else if (!res.headersSent) sendAppError(req, res, error);
      else req.socket.destroy();
    });
    // Node destroys a timed-out socket unless the request or the response handles 'timeout':
    // past the body (req.complete), the response's listener keeps a slow handler's connection.
    res.on('timeout', off);
    req.once('end', off);
    next();
  };
}
