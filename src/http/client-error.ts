import { Logger } from '@nestjs/common';
import { STATUS_CODES } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { AppError } from '../errors/app-error';
import { errorBody } from '../errors/app-exception.filter';

const logger = new Logger('HTTP');

/** What Node's HTTP parser or its request timers reported, as API.md's error. */
export function clientErrorToAppError(err: NodeJS.ErrnoException): AppError {
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW':
      return new AppError('headers_too_large', 'The request headers are too large.');
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return new AppError('payload_too_large', 'The chunk extensions of the request body are too large.');
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new AppError('request_timeout', 'The request did not arrive in time: it timed out.');
    default:
      // HPE_INVALID_HEADER_TOKEN (CR, LF or NUL in a header), HPE_INVALID_METHOD, HPE_INVALID_URL...
      return new AppError('validation_error', 'Malformed HTTP request: it cannot be parsed.', {
        ...(err.code && { parserError: err.code }),
      });
  }
}

/** The raw HTTP answer: there is no request or response object at this point, only the socket. */
export function clientErrorResponse(error: AppError, requestId: string): string {
  const body = JSON.stringify(errorBody(error, requestId));
  return (
    `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status] ?? ''}\r\n` +
    'Content-Type: application/json; charset=utf-8\r\n' +
    `Content-Length: ${Buffer.byteLength(body)}\r\n` +
    `X-Request-Id: ${requestId}\r\n` +
    'Connection: close\r\n\r\n' +
    body
  );
}

/**
 * The HTTP server's 'clientError' hook: requests that never reach Express (a bad request line,
 * CR/LF or NUL in a header, headers too large, Node's header and request timeouts) get the error
 * envelope and an X-Request-Id like every other answer, not Node's bare status line. The request's
 * own X-Request-Id cannot be read (its headers did not parse), so the id is always new.
 */
export function onClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  // A peer that reset or already closed the connection gets nothing: there is no one to read it.
  const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (err.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  const error = clientErrorToAppError(err);
  const requestId = randomUUID();
  logger.warn(`${error.status} before routing (${err.code ?? err.message}), requestId ${requestId}`);
  socket.end(clientErrorResponse(error, requestId));
  // Whatever the client still sends is not read; don't wait for it to close its side.
  setTimeout(() => socket.destroy(), 1000).unref();
}
