import { applyDecorators } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';
import type { HeaderObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { type SchemaName, schemaRef } from './schema-kit';

/**
 * Response decorators that always name a schema, so that every answer in the document has a body a
 * client generator can type. Each gives `content` itself: @ApiProduces (which would list an error
 * envelope under text/csv too) does not apply to them.
 */

const RETRY_AFTER: Record<string, HeaderObject> = {
  'Retry-After': { description: 'Seconds to wait before trying again', schema: { type: 'integer', minimum: 0 } },
};

/** POST /v1/batch with an Idempotency-Key: set on an answer replayed from the first request. */
export const IDEMPOTENT_REPLAYED: Record<string, HeaderObject> = {
  'Idempotent-Replayed': { description: 'true when this is the stored first answer', schema: { type: 'string' } },
};

const WWW_AUTHENTICATE: Record<string, HeaderObject> = {
  'WWW-Authenticate': {
    description:
      'RFC 6750: `Bearer`; for a refused JWT `Bearer error="invalid_token", error_description="..."`; on 403 `Bearer error="insufficient_scope", scope="..."`',
    schema: { type: 'string' },
  },
};

/** Headers API.md gives error answers besides the envelope (Conventions; "Error envelope"). */
const ERROR_HEADERS: Record<number, Record<string, HeaderObject>> = {
  401: WWW_AUTHENTICATE,
  403: WWW_AUTHENTICATE,
  429: RETRY_AFTER,
  503: RETRY_AFTER,
};

/** A JSON answer with one of the component schemas. */
export function ApiJsonResponse(
  status: number,
  schema: SchemaName,
  description: string,
  headers?: Record<string, HeaderObject>,
) {
  return ApiResponse({
    status,
    description,
    ...(headers && { headers }),
    content: { 'application/json': { schema: schemaRef(schema) } },
  });
}

/**
 * An NDJSON stream: `schema` is the schema of one line (OpenAPI 3.0 has no way to say "a sequence of";
 * 3.2's `itemSchema` is what this means).
 */
export function ApiNdjsonResponse(status: number, schema: SchemaName, description: string) {
  return ApiResponse({
    status,
    description,
    content: { 'application/x-ndjson': { schema: schemaRef(schema) } },
  });
}

/** A non-JSON answer (text/csv, NDJSON, Prometheus text, HTML): a string of that media type. */
export function ApiTextResponse(status: number, mediaType: string, description: string, example?: string) {
  return ApiResponse({
    status,
    description,
    content: { [mediaType]: { schema: { type: 'string' }, ...(example !== undefined && { example }) } },
  });
}

/** One error status: the envelope, whatever the route produces otherwise. `description` names the codes. */
export function ApiErrorResponse(status: number, description: string) {
  return ApiResponse({
    status,
    description,
    ...(ERROR_HEADERS[status] && { headers: ERROR_HEADERS[status] }),
    content: { 'application/json': { schema: schemaRef('ErrorEnvelope') } },
  });
}

/** Several error statuses at once: `ApiErrorResponses([404, 'file_not_found'], [410, 'file_expired'])`. */
export function ApiErrorResponses(...errors: [status: number, description: string][]) {
  return applyDecorators(...errors.map(([status, description]) => ApiErrorResponse(status, description)));
}
