import type { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import {
  ERROR_SUMMARY_EXAMPLE,
  PARSING_EXAMPLE,
  PREVIEW_EXAMPLE,
  REFUSED_FILE_EXAMPLE,
  ROW_ERROR_EXAMPLE,
  ROW_ERROR_PAGE_EXAMPLE,
  SEVERAL_UPLOADS_EXAMPLE,
  UPLOADED_FILE_EXAMPLE,
  UPLOAD_EXAMPLE,
  UPLOAD_VIEW_EXAMPLE,
} from './examples';
import { type Schema, count, dateTime, nullableString, schemaRef } from './schema-kit';

/** API.md, "Uploads", "The same bytes twice: duplicateOf", "Several files" and "Row-level validation errors". */

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

/** One segment of API.md's `path`: not `.` or `..`, no `/`, `\\` or control character. */
const PATH_SEGMENT = String.raw`(?!\.{1,2}(?:/|$))[^/\\\u0000-\u001f\u007f-\u009f]+`;

/** API.md's `path` rules, as the service checks them (src/intake/upload-path.ts). */
const PATH_RULES: SchemaObject = {
  type: 'string',
  minLength: 1,
  maxLength: 512,
  pattern: `^${PATH_SEGMENT}(?:/${PATH_SEGMENT})*$`,
  description:
    'A label for where the file belongs (`reports/2026/jan.csv`), carried to the batch and its results; never a storage location. A relative POSIX path of 1 to 512 characters: no leading `/`, no `\\`, no empty, `.` or `..` segment, no control characters (else 400 validation_error with `details: { field: "path", path }`).',
};

const binary: SchemaObject = { type: 'string', format: 'binary' };

const UploadForm: SchemaObject = {
  type: 'object',
  description:
    "At least one file part, in `file`, `files` or `file[]` (repeated for several files: at most the plan's `maxFilesPerRequest`, else 400 with `details: { limit: \"maxFilesPerRequest\", max }`). A part's filename may carry a relative path (`jan/claims.csv`, as browsers send a folder's files), which becomes that file's `path`. The text fields apply to every file of the request, before or after the file parts.",
  properties: {
    file: {
      ...binary,
      description:
        'CSV, JSON or NDJSON, optionally gzip-compressed. Repeat the field (or use `files` or `file[]`) to send several files',
    },
    files: { type: 'array', items: binary, description: 'Several files (the same as repeating `file`)' },
    'file[]': { type: 'array', items: binary, description: 'Several files (the same as repeating `file`)' },
    path: {
      ...PATH_RULES,
      description: `With one file part: its \`path\` (instead of the one in its filename; with several, each file's path comes from its own filename). ${PATH_RULES.description}`,
    },
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

/**
 * API.md's `duplicateOf`: null, or the most recent earlier upload of the same bytes (sha256) with the
 * same schema by the organization, still available or consumed less than 24 hours ago. Information,
 * not a refusal. Inline rather than a $ref: OpenAPI 3.0 ignores `nullable` beside a $ref.
 */
export const duplicateOf: SchemaObject = {
  type: 'object',
  nullable: true,
  description:
    'null, or the most recent earlier upload by the organization of the same bytes (same sha256) with the same schema that is still available or was consumed less than 24 hours ago. Information, not a refusal: this upload is stored as usual.',
  required: ['fileId', 'status', 'createdAt'],
  properties: {
    fileId: { type: 'string' },
    status: { type: 'string', enum: ['available', 'consumed'] },
    batchId: { type: 'string', description: 'When consumed: the batch it created' },
    createdAt: dateTime('When that upload was made'),
  },
};

/** The fields an upload's POST answer and its GET share, in the order the service writes them. */
const uploadHead = {
  fileId: { type: 'string', description: 'Single use: creating a batch consumes it' },
  originalFileName: { type: 'string', description: 'The file name, without the path a filename may carry' },
  path: nullableString(
    "The `path` field, or the relative path in the part's filename (`jan/claims.csv`); null when none",
  ),
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
  duplicateOf,
  expiresAt: dateTime('When the unconsumed fileId expires'),
  message: { type: 'string' },
} satisfies Record<string, Schema>;

const uploadFields = {
  ...uploadHead,
  validationErrors: {
    ...rowErrorFields.validationErrors,
    description: 'The first 100 row errors, in row order; all of them on GET /v1/batch/upload/{fileId}/errors',
  },
  ...uploadTail,
} satisfies Record<string, Schema>;

export const Upload: SchemaObject = {
  type: 'object',
  description: 'POST /v1/batch/upload with one file part: the file is stored and its fileId can create one batch.',
  required: Object.keys(uploadFields),
  properties: uploadFields,
  example: UPLOAD_EXAMPLE,
};

/** The single-file body without `path`, which a several-file answer puts second, after `index`. */
const { path: _path, ...uploadFieldsButPath } = uploadFields;

const UploadedFile: SchemaObject = {
  type: 'object',
  description: "One accepted file of a several-file upload: its part's position, then the single-file body.",
  required: ['index', 'path', ...Object.keys(uploadFieldsButPath)],
  properties: {
    index: { type: 'integer', minimum: 0, description: "The part's position among the file parts (0-based)" },
    path: nullableString("The relative path in the part's filename (`jan/claims.csv`); null when none"),
    ...uploadFieldsButPath,
  },
  example: UPLOADED_FILE_EXAMPLE,
};

const RefusedFile: SchemaObject = {
  type: 'object',
  description:
    'One refused file of a several-file upload: the status and error the file would have had alone. One bad file does not fail the others.',
  required: ['index', 'originalFileName', 'path', 'status', 'error', 'validationErrors'],
  properties: {
    index: { type: 'integer', minimum: 0, description: "The part's position among the file parts (0-based)" },
    originalFileName: { type: 'string' },
    path: nullableString("The relative path in the part's filename; null when none"),
    status: {
      type: 'integer',
      minimum: 400,
      maximum: 499,
      description:
        '400 (file_parsing_failed, or validation_error for a bad path), 413 (over maxFileBytes: the rest of the request is still read), 415, ...',
    },
    error: schemaRef('ApiError'),
    validationErrors: {
      type: 'array',
      items: schemaRef('RowError'),
      maxItems: 100,
      description: 'file_parsing_failed: the first row errors; else empty',
    },
  },
  example: REFUSED_FILE_EXAMPLE,
};

const SeveralUploads: SchemaObject = {
  type: 'object',
  description:
    "POST /v1/batch/upload with two or more file parts, at least one accepted (every one refused: the first refusal's status and envelope, with this list in `error.details.files`). Each file is parsed, validated, stored and given its own fileId independently.",
  required: ['files', 'errors', 'message'],
  properties: {
    files: {
      type: 'array',
      items: schemaRef('UploadedFile'),
      minItems: 1,
      description: 'The accepted files, in index order',
    },
    errors: {
      type: 'array',
      items: schemaRef('RefusedFile'),
      description: 'The refused files, in index order; empty when every file was accepted',
    },
    message: { type: 'string', description: '`N files: A uploaded, R refused.`' },
  },
  example: SEVERAL_UPLOADS_EXAMPLE,
};

const UploadResult: SchemaObject = {
  description: 'One file part: the single-file body (Upload). Two or more: SeveralUploads.',
  oneOf: [schemaRef('Upload'), schemaRef('SeveralUploads')],
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
  UploadedFile,
  RefusedFile,
  SeveralUploads,
  UploadResult,
  UploadView,
  PageMeta,
  RowErrorPage,
  PreviewItem,
  UploadPreview,
};
