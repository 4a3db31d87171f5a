/**
 * Real answers, copied from the README's walk-through (a CSV with one empty `content` cell), so the
 * document's examples are what the service actually says. The several-file ones are real answers
 * too: `jan/claims.csv` and `feb.pdf` in one request, then a batch of `fileIds` (that upload and the
 * walk-through's). The OpenAPI spec checks each one against its schema.
 */

const FILE_ID = 'f_aiWBzLY-JvLjzdEGH7ao8Q';
const BATCH_ID = 'b_duw460cutpRfewjfDT9Aeg';

export const ROW_ERROR_EXAMPLE = {
  row: 3,
  line: 3,
  field: 'content',
  code: 'required',
  error: 'Content is empty, row skipped',
};

export const ERROR_SUMMARY_EXAMPLE = { field: 'content', code: 'required', count: 1 };

export const PARSING_EXAMPLE = {
  encoding: 'utf-8',
  bom: false,
  compressed: false,
  delimiter: ',',
  lineEnding: 'lf',
  header: ['content', 'externalId'],
};

const UPLOAD_COMMON = {
  fileId: FILE_ID,
  originalFileName: 'claims.csv',
  path: null,
  format: 'csv',
  schema: 'default',
  itemCount: 2,
  validationErrorCount: 1,
};

const UPLOAD_TAIL = {
  validationErrorsTruncated: false,
  errorSummary: [ERROR_SUMMARY_EXAMPLE],
  parsing: PARSING_EXAMPLE,
  sizeBytes: 56,
  sha256: '711164d4a7c31d6abc8ce98fbe3c8964648738539481ccdcef41fa036f7b72cb',
  duplicateOf: null,
  expiresAt: '2026-11-22T01:32:44.161Z',
  message: 'File uploaded with 1 validation warning(s). Items with errors were skipped.',
};

export const UPLOAD_EXAMPLE = { ...UPLOAD_COMMON, validationErrors: [ROW_ERROR_EXAMPLE], ...UPLOAD_TAIL };

export const UPLOAD_VIEW_EXAMPLE = {
  ...UPLOAD_COMMON,
  ...UPLOAD_TAIL,
  createdAt: '2026-11-22T00:32:44.161Z',
  status: 'available',
};

/** The first file of a several-file upload: `jan/claims.csv`, one valid row. */
const JAN_FILE_ID = 'f_lTUfTn_YFidV9ZgZhaLR8w';

export const UPLOADED_FILE_EXAMPLE = {
  index: 0,
  path: 'jan/claims.csv',
  fileId: JAN_FILE_ID,
  originalFileName: 'claims.csv',
  format: 'csv',
  schema: 'default',
  itemCount: 1,
  validationErrorCount: 0,
  validationErrors: [],
  validationErrorsTruncated: false,
  errorSummary: [],
  parsing: PARSING_EXAMPLE,
  sizeBytes: 37,
  sha256: '00f54f15dba081237c782e3792fb70f4fd3d90f6f8c838fdfffb2e91f66a42a2',
  duplicateOf: null,
  expiresAt: '2026-12-01T12:36:23.486Z',
  message: 'File uploaded successfully',
};

export const REFUSED_FILE_EXAMPLE = {
  index: 1,
  originalFileName: 'feb.pdf',
  path: null,
  status: 415,
  error: { code: 'unsupported_format', message: 'The file is a PDF document, not CSV, JSON or NDJSON' },
  validationErrors: [],
};

export const SEVERAL_UPLOADS_EXAMPLE = {
  files: [UPLOADED_FILE_EXAMPLE],
  errors: [REFUSED_FILE_EXAMPLE],
  message: '2 files: 1 uploaded, 1 refused.',
};

export const ROW_ERROR_PAGE_EXAMPLE = {
  data: [ROW_ERROR_EXAMPLE],
  meta: { offset: 0, limit: 100, count: 1, total: 1 },
};

export const REJECTED_ROWS_CSV_EXAMPLE =
  'content,externalId,_row,_field,_code,_error\n,c-2,3,content,required,"Content is empty, row skipped"\n';

export const PREVIEW_EXAMPLE = {
  items: [
    { row: 2, item: { content: 'First claim', externalId: 'c-1' } },
    { row: 4, item: { content: 'Third claim', externalId: 'c-3' } },
  ],
  validationErrors: [ROW_ERROR_EXAMPLE],
};

export const BATCH_EXAMPLE = {
  id: BATCH_ID,
  name: 'January claims',
  status: 'completed',
  itemCount: 2,
  processedCount: 2,
  succeededCount: 2,
  failedCount: 0,
  source: { type: 'file', fileId: FILE_ID, originalFileName: 'claims.csv', path: null },
  metadata: null,
  createdAt: '2026-11-22T00:32:48.432Z',
  startedAt: '2026-11-22T00:32:48.436Z',
  completedAt: '2026-11-22T00:32:48.442Z',
  error: null,
};

export const BATCH_PAGE_EXAMPLE = { data: [BATCH_EXAMPLE], meta: { offset: 0, limit: 20, count: 1, total: 1 } };

export const CREATE_FROM_FILE_EXAMPLE = { fileId: FILE_ID, name: 'January claims' };

export const CREATE_FROM_FILES_EXAMPLE = { fileIds: [JAN_FILE_ID, FILE_ID], name: 'January claims' };

export const FILES_SOURCE_EXAMPLE = {
  type: 'files',
  files: [
    { fileId: JAN_FILE_ID, originalFileName: 'claims.csv', path: 'jan/claims.csv', itemCount: 1 },
    { fileId: FILE_ID, originalFileName: 'claims.csv', path: null, itemCount: 2 },
  ],
};

export const CREATE_FROM_ITEMS_EXAMPLE = { items: [{ content: 'hello' }, { content: '' }] };

export const BATCH_CREATED_EXAMPLE = {
  id: BATCH_ID,
  status: 'queued',
  itemCount: 2,
  fileId: FILE_ID,
  createdAt: '2026-11-22T00:32:48.432Z',
};

export const QUOTA_USE_EXAMPLE = {
  maxItemsPerBatch: 50000,
  maxItemsPerMonth: 1000000,
  usedThisMonth: 0,
  wouldUse: 2,
  remainingThisMonth: 999998,
  activeBatches: 0,
  maxConcurrentBatches: 5,
};

export const DRY_RUN_EXAMPLE = {
  dryRun: true,
  verdict: 'accepted',
  status: 202,
  itemCount: 2,
  fileId: FILE_ID,
  quota: QUOTA_USE_EXAMPLE,
};

/** The first line of the fileIds batch's results: its upload had a path. */
export const RESULT_LINE_EXAMPLE = {
  fileId: JAN_FILE_ID,
  path: 'jan/claims.csv',
  row: 2,
  status: 'succeeded',
  output: { content: 'January claim', externalId: 'j-1' },
};

export const API_ERROR_EXAMPLE = {
  code: 'file_already_consumed',
  message: 'This file was already used to create a batch.',
  details: { batchId: BATCH_ID },
};

export const ERROR_ENVELOPE_EXAMPLE = { error: API_ERROR_EXAMPLE, requestId: '31a556d0-1fd8-45e0-a960-ca8b11c17b4c' };

export const READINESS_EXAMPLE = { status: 'ok', checks: { redis: 'up', storage: 'up' } };
