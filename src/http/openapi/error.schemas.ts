import type { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { API_ERROR_EXAMPLE, ERROR_ENVELOPE_EXAMPLE } from './examples';
import { schemaRef } from './schema-kit';
import { rowErrorFields } from './upload.schemas';

/** API.md, "Error envelope": the body of every non-2xx answer. */

const ApiError: SchemaObject = {
  type: 'object',
  required: ['code', 'message'],
  properties: {
    code: {
      type: 'string',
      description:
        "One of API.md's error codes (validation_error, file_parsing_failed, unauthorized, quota_exceeded, forbidden, file_not_found, batch_not_found, not_found, file_already_consumed, idempotency_conflict, batch_finished, file_expired, payload_too_large, unsupported_format, idempotency_key_reused, rate_limited, internal_error, auth_unavailable, FILE_STORAGE_UNAVAILABLE, ...); new codes may be added",
    },
    message: { type: 'string', description: 'A sentence for people' },
    details: {
      type: 'object',
      additionalProperties: true,
      description:
        'Per code: `{ limit, max, used, requested }` (quota_exceeded), `{ batchId }` (file_already_consumed), `{ errorId }` (internal_error), `{ checks }` (/ready), `{ field: "path", path }` (validation_error for a bad path), `{ limit: "maxFilesPerRequest", max }` (validation_error for too many file parts), ...; with `fileIds`, `fileId` names the upload that decided a 404, 409 or 410; when every file of a several-file upload is refused, `files` lists each refusal.',
      properties: {
        fileId: { type: 'string', description: 'With `fileIds`: the first listed upload that failed' },
        batchId: { type: 'string', description: 'file_already_consumed: the batch that consumed it' },
        files: {
          type: 'array',
          items: { anyOf: [schemaRef('RefusedFile'), schemaRef('UploadSessionRefusal')] },
          description:
            'Every file of a several-file upload (RefusedFile) or of POST /v1/uploads (UploadSessionRefusal) refused: each one, in index order',
        },
        missingParts: {
          type: 'array',
          items: { type: 'integer', minimum: 1 },
          description: 'upload_incomplete: the parts not received in full',
        },
        status: { type: 'string', description: "upload_state: the session's state; batch_finished: the batch's" },
        declared: { description: 'size_mismatch (bytes) and checksum_mismatch (sha256): what was declared' },
        actual: { description: 'size_mismatch and checksum_mismatch: what was stored' },
      },
    },
  },
  example: API_ERROR_EXAMPLE,
};

const ErrorEnvelope: SchemaObject = {
  type: 'object',
  description:
    'Every non-2xx answer. Where rows are involved (file_parsing_failed) the row-error fields are there too.',
  required: ['error', 'requestId'],
  properties: {
    error: schemaRef('ApiError'),
    requestId: { type: 'string', description: "The answer's X-Request-Id" },
    ...rowErrorFields,
  },
  example: ERROR_ENVELOPE_EXAMPLE,
};

export const ERROR_SCHEMAS = { ApiError, ErrorEnvelope };
