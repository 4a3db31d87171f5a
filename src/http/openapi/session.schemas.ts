import type { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { ENCODING_ENUM, FORMAT_ENUM, Upload, duplicateOf } from './upload.schemas';
import { count, dateTime, nullableString, schemaRef } from './schema-kit';

/** API.md, "Upload sessions: large files straight to storage". */

const SESSION_STATUS = ['pending', 'validating', 'ready', 'failed'];

const UploadSessionFile: SchemaObject = {
  type: 'object',
  required: ['filename', 'sizeBytes'],
  properties: {
    filename: { type: 'string', minLength: 1, maxLength: 1024, description: 'Its extension helps detect the format' },
    sizeBytes: {
      type: 'integer',
      minimum: 1,
      description: "Exactly the file's size; at most the plan's maxFileBytes (413)",
    },
    contentType: { type: 'string', maxLength: 255 },
    sha256: { type: 'string', pattern: '^[0-9a-fA-F]{64}$', description: 'When given, the stored bytes must match it' },
    path: { type: 'string', maxLength: 512, description: 'Where the file belongs (a relative POSIX path)' },
    schema: { type: 'string', default: 'default' },
    format: { type: 'string', enum: FORMAT_ENUM },
    encoding: { type: 'string', enum: ENCODING_ENUM },
  },
};

const UploadSessionRequest: SchemaObject = {
  type: 'object',
  required: ['files'],
  properties: {
    files: { type: 'array', minItems: 1, items: UploadSessionFile, description: '1 to maxFilesPerRequest files' },
  },
  example: { files: [{ filename: 'claims.csv', sizeBytes: 734003200, contentType: 'text/csv' }] },
};

const SignedPart: SchemaObject = {
  type: 'object',
  required: ['partNumber', 'url', 'method', 'sizeBytes', 'headers'],
  properties: {
    partNumber: { type: 'integer', minimum: 1 },
    url: {
      type: 'string',
      format: 'uri',
      description: "PUT exactly sizeBytes here (the store's presigned URL, or batchgate's own)",
    },
    method: { type: 'string', enum: ['PUT'] },
    sizeBytes: { type: 'integer', minimum: 1 },
    headers: {
      type: 'object',
      additionalProperties: { type: 'string' },
      description: 'Send these headers with the PUT',
    },
  },
};

const sessionShape = {
  uploadId: { type: 'string', description: 'u_…' },
  filename: { type: 'string' },
  path: nullableString('Where the file belongs; null when none'),
  sizeBytes: { type: 'integer', minimum: 1 },
  method: { type: 'string', enum: ['put', 'multipart'], description: 'put: one part up to 16 MiB; else multipart' },
  partSize: {
    type: 'integer',
    minimum: 1,
    description: 'Every part but the last is exactly this (≥ 8 MiB for multipart)',
  },
  partCount: { type: 'integer', minimum: 1, maximum: 10000 },
  expiresAt: dateTime('The session expires (410) unless completed by then'),
} satisfies Record<string, SchemaObject>;

const UploadSessionCreated: SchemaObject = {
  type: 'object',
  required: ['index', ...Object.keys(sessionShape), 'status', 'parts', 'urlsExpireAt', 'duplicateOf'],
  properties: {
    index: { type: 'integer', minimum: 0, description: "The file's position in the request's `files` (0-based)" },
    ...sessionShape,
    status: { type: 'string', enum: ['pending'] },
    parts: { type: 'array', items: SignedPart, description: "Every part's URL" },
    urlsExpireAt: dateTime('The part URLs stop working (ask for new ones with POST …/parts)'),
    duplicateOf: {
      ...duplicateOf,
      description: 'With a declared sha256: an earlier upload of the same bytes and schema (as in Upload), else null',
    },
  },
};

const UploadSessionRefusal: SchemaObject = {
  type: 'object',
  required: ['index', 'filename', 'status', 'error', 'validationErrors'],
  properties: {
    index: { type: 'integer', minimum: 0, description: "The file's position in `files` (0-based)" },
    filename: nullableString('As given'),
    status: { type: 'integer', minimum: 400, maximum: 499 },
    error: schemaRef('ApiError'),
    validationErrors: { type: 'array', items: schemaRef('RowError') },
  },
};

const UploadSessionsCreated: SchemaObject = {
  type: 'object',
  required: ['data', 'errors'],
  properties: {
    data: { type: 'array', items: UploadSessionCreated, description: 'The sessions created, in file order' },
    errors: {
      type: 'array',
      items: schemaRef('UploadSessionRefusal'),
      description: 'The files refused before any URL was signed',
    },
  },
};

const UploadSessionPartsRequest: SchemaObject = {
  type: 'object',
  properties: {
    partNumbers: {
      type: 'array',
      items: { type: 'integer', minimum: 1 },
      description: 'Absent: every part not received yet',
    },
  },
};

const UploadSessionParts: SchemaObject = {
  type: 'object',
  required: ['parts', 'urlsExpireAt'],
  properties: { parts: { type: 'array', items: SignedPart }, urlsExpireAt: dateTime('The URLs stop working') },
};

const UploadSessionCompleteRequest: SchemaObject = {
  type: 'object',
  properties: {
    parts: {
      type: 'array',
      description: 'Optional: batchgate lists the stored parts itself either way',
      items: {
        type: 'object',
        required: ['partNumber'],
        properties: { partNumber: { type: 'integer', minimum: 1 }, etag: { type: 'string' } },
      },
    },
  },
};

const progress: SchemaObject = {
  type: 'object',
  nullable: true,
  description: 'Validation progress (updated at least every second); null while pending',
  required: ['bytesRead', 'rowsRead', 'itemCount', 'validationErrorCount'],
  properties: {
    bytesRead: count('Bytes of the stored file read so far'),
    rowsRead: count('Rows read so far'),
    itemCount: count('Valid items so far'),
    validationErrorCount: count('Rows skipped so far'),
  },
};

const UploadSession: SchemaObject = {
  type: 'object',
  required: [
    ...Object.keys(sessionShape),
    'status',
    'receivedParts',
    'progress',
    'fileId',
    'result',
    'error',
    'createdAt',
  ],
  properties: {
    ...sessionShape,
    status: { type: 'string', enum: SESSION_STATUS, description: 'pending → validating → ready | failed' },
    receivedParts: {
      type: 'array',
      nullable: true,
      description: 'The parts stored so far (a client that lost its state resumes from this)',
      items: {
        type: 'object',
        required: ['partNumber', 'sizeBytes'],
        properties: { partNumber: { type: 'integer', minimum: 1 }, sizeBytes: count('Bytes stored') },
      },
    },
    progress,
    fileId: nullableString('Set once ready: its hour starts then'),
    // Inline rather than a $ref: OpenAPI 3.0 ignores `nullable` beside a $ref.
    result: {
      ...Upload,
      nullable: true,
      example: undefined,
      description: 'Once ready: the body POST /v1/batch/upload answers with 200 (as Upload)',
    },
    error: {
      type: 'object',
      nullable: true,
      description: 'Once failed: the status, error and row errors the direct upload would have answered',
      required: ['status', 'error', 'validationErrors'],
      properties: {
        status: { type: 'integer', minimum: 400, maximum: 599 },
        error: schemaRef('ApiError'),
        validationErrors: { type: 'array', items: schemaRef('RowError') },
      },
    },
    createdAt: dateTime('When the session was created'),
  },
};

const UploadPartReceived: SchemaObject = {
  type: 'object',
  required: ['etag', 'partNumber', 'sizeBytes'],
  properties: {
    etag: { type: 'string', description: 'Also the ETag answer header; may be sent back in complete (optional)' },
    partNumber: { type: 'integer', minimum: 1 },
    sizeBytes: count('The bytes stored: exactly the signed size'),
  },
};

export const SESSION_SCHEMAS = {
  UploadPartReceived,
  UploadSessionRequest,
  UploadSessionsCreated,
  UploadSessionPartsRequest,
  UploadSessionParts,
  UploadSessionCompleteRequest,
  UploadSession,
  UploadSessionRefusal,
};
