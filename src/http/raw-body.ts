import type { Request } from 'express';

/** `PUT /v1/uploads/{uploadId}/parts/{n}`: a part's raw bytes, whatever its Content-Type says. */
const PART_UPLOAD = /^\/v1\/uploads\/[^/]+\/parts\/[^/]+\/?$/;

/** Requests whose body is streamed to storage by their handler: no body parser may read them. */
export function isRawBodyRequest(req: Pick<Request, 'method' | 'path'>): boolean {
  return req.method === 'PUT' && PART_UPLOAD.test(req.path);
}
