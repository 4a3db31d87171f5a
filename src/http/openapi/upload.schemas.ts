import type { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import {
  ERROR_SUMMARY_EXAMPLE,
  PARSING_EXAMPLE,
  PREVIEW_EXAMPLE,
  ROW_ERROR_EXAMPLE,
  ROW_ERROR_PAGE_EXAMPLE,
  UPLOAD_EXAMPLE,
  UPLOAD_VIEW_EXAMPLE,
} from './examples';
import { type Schema, count, dateTime, schemaRef } from './schema-kit';

/** API.md, "Uploads" and "Row-level validation errors". */

export const FORMAT_ENUM = ['csv', 'json', 'ndjson'];
export const ENCODING_ENUM = ['utf-8', 'utf-16le', 'utf-16be', 'windows-1252'];

const RowError: SchemaObject = {
  type: 'object',
  description: 'One row skipped at its first error.',
  required: ['row', 'code', 'error'],
  properties: {
    row: {
      type: 'integer',
      minimum: 1,
      description:
        'The row a person sees: in CSV the header is row 1 and the first record row 2; the element (JSON) or line (NDJSON), 1-based',
    },
    line: { type: 'integer', minimum: 1, description: 'CSV only: the physical line where the record starts' },
    field: { type: 'string', description: 'The schema property; absent for whole-row errors' },
    code: {
      type: 'string',
      description: 'The failed rule: required, maxLength, type, format, minimum, enum, parse, ...',
    },
    error: { type: 'string', description: 'A sentence for people' },
  },
  example: ROW_ERROR_EXAMPLE,
};

const ErrorSummaryEntry: SchemaObject = {
  type: 'object',
  description: 'One kind of error over the whole file.',
  required: ['code', 'count'],
  properties: {
    field: { type: 'string', description: 'Absent for whole-row errors' },
    code: { type: 'string' },
    count: count('Rows with this error (never capped)'),
  },
  example: ERROR_SUMMARY_EXAMPLE,
};

const ParsingInfo: SchemaObject = {
  type: 'object',
  description: 'How the file was read. `delimiter`, `lineEnding` and `header` are there for CSV only.',
  required: ['encoding', 'bom', 'compressed'],
  properties: {
    encoding: { type: 'string', enum: ENCODING_ENUM },
    bom: { type: 'boolean' },
    compressed: { type: 'boolean', description: 'gzip' },
    delimiter: { type: 'string', enum: [',', ';', '\t', '|'] },
    lineEnding: { type: 'string', enum: ['crlf', 'lf', 'cr', 'none'] },
    header: { type: 'array', items: { type: 'string' }, description: 'The header cells as the file has them' },
  },
  example: PARSING_EXAMPLE,
};

const UploadForm: SchemaObject = {
  type: 'object',
  required: ['file'],
  properties: {
    file: { type: 'string', format: 'binary', description: 'CSV, JSON or NDJSON, optionally gzip-compressed' },
    schema: { type: 'string', description: 'A registered item schema (default: `default`)' },
    format: { type: 'string', enum: FORMAT_ENUM, description: 'Overrides detection' },
    encoding: { type: 'string', enum: ENCODING_ENUM, description: 'Overrides detection' },
  },
};

/**
 * The row errors of a body that involves rows (an upload, a direct-items batch, a dry run, a
 * file_parsing_failed envelope): at most the first 100 in row order, with the full count.
 */
export const rowErrorFields = {
  validationErrors: {
    type: 'array',
    items: schemaRef('RowError'),
    maxItems: 100,
    description: 'The first 100 row errors, in row order',
  },
  validationErrorCount: count('Every row error (never capped)'),
  validationErrorsTruncated: { type: 'boolean', description: 'True when `validationErrors` was cut at 100' },
  errorSummary: { type: 'array', items: schemaRef('ErrorSummaryEntry'), description: 'One entry per kind of error' },
} satisfies Record<string, Schema>;

/** The fields an upload's POST answer and its GET share, in the order the service writes them. */
const uploadHead = {
  fileId: { type: 'string', description: 'Single use: creating a batch consumes it' },
  originalFileName: { type: 'string' },
  format: { type: 'string', enum: FORMAT_ENUM },
  schema: { type: 'string', description: 'The item schema the rows were validated against' },
  itemCount: count('Valid rows (rows with an error are not counted)'),
  validationErrorCount: rowErrorFields.validationErrorCount,
} satisfies Record<string, Schema>;

const uploadTail = {
  validationErrorsTruncated: rowErrorFields.validationErrorsTruncated,
  errorSummary: rowErrorFields.errorSummary,
  parsing: schemaRef('ParsingInfo'),
  sizeBytes: count('Of the bytes as uploaded (compressed, for a gzip file)'),
  sha256: { type: 'string', pattern: '^[0-9a-f]{64}$', description: 'Of the bytes as uploaded' },
  expiresAt: dateTime('When the unconsumed fileId expires'),
  message: { type: 'string' },
} satisfies Record<string, Schema>;

const Upload: SchemaObject = {
  type: 'object',
  description: 'POST /v1/batch/upload: the file is stored and its fileId can create one batch.',
  required: [...Object.keys(uploadHead), 'validationErrors', ...Object.keys(uploadTail)],
  properties: {
    ...uploadHead,
    validationErrors: {
      ...rowErrorFields.validationErrors,
      description: 'The first 100 row errors, in row order; all of them on GET /v1/batch/upload/{fileId}/errors',
    },
    ...uploadTail,
  },
  example: UPLOAD_EXAMPLE,
};

const UploadView: SchemaObject = {
  type: 'object',
  description: "GET /v1/batch/upload/{fileId}: the upload's body without its error list, with its state.",
  required: [...Object.keys(uploadHead), ...Object.keys(uploadTail), 'createdAt', 'status'],
  properties: {
    ...uploadHead,
    ...uploadTail,
    createdAt: dateTime('When it was uploaded'),
    status: { type: 'string', enum: ['available', 'consumed'] },
    batchId: { type: 'string', description: 'Once consumed: the batch it created' },
  },
  example: UPLOAD_VIEW_EXAMPLE,
};

const PageMeta: SchemaObject = {
  type: 'object',
  required: ['offset', 'limit', 'count', 'total'],
  properties: {
    offset: count('As asked'),
    limit: count('As asked'),
    count: count('Entries in `data`'),
    total: count('Entries in all pages'),
  },
};

const RowErrorPage: SchemaObject = {
  type: 'object',
  required: ['data', 'meta'],
  properties: { data: { type: 'array', items: schemaRef('RowError') }, meta: schemaRef('PageMeta') },
  example: ROW_ERROR_PAGE_EXAMPLE,
};

const PreviewItem: SchemaObject = {
  type: 'object',
  required: ['row', 'item'],
  properties: {
    row: { type: 'integer', minimum: 1 },
    item: { type: 'object', additionalProperties: true, description: 'After coercion, as it will be processed' },
  },
};

const UploadPreview: SchemaObject = {
  type: 'object',
  required: ['items', 'validationErrors'],
  properties: {
    items: { type: 'array', items: schemaRef('PreviewItem'), maxItems: 100 },
    validationErrors: { type: 'array', items: schemaRef('RowError'), description: 'The first errors' },
  },
  example: PREVIEW_EXAMPLE,
};

export const UPLOAD_SCHEMAS = {
  RowError,
  ErrorSummaryEntry,
  ParsingInfo,
  UploadForm,
  Upload,
  UploadView,
  PageMeta,
  RowErrorPage,
  PreviewItem,
  UploadPreview,
};
