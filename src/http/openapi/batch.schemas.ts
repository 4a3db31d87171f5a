import type { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import {
  BATCH_CREATED_EXAMPLE,
  BATCH_EXAMPLE,
  BATCH_PAGE_EXAMPLE,
  CREATE_FROM_FILES_EXAMPLE,
  CREATE_FROM_FILE_EXAMPLE,
  CREATE_FROM_ITEMS_EXAMPLE,
  DRY_RUN_EXAMPLE,
  FILES_SOURCE_EXAMPLE,
  QUOTA_USE_EXAMPLE,
  RESULT_LINE_EXAMPLE,
} from './examples';
import { type Schema, count, dateTime, nullableString, schemaRef } from './schema-kit';
import { rowErrorFields } from './upload.schemas';

/** API.md, "Batches" and "Several files: in one batch". */

export const BATCH_STATUS_ENUM = ['queued', 'processing', 'completed', 'failed', 'cancelled'];

const FileSource: SchemaObject = {
  type: 'object',
  description: 'A batch created from an upload',
  required: ['type', 'fileId', 'originalFileName', 'path'],
  properties: {
    type: { type: 'string', enum: ['file'] },
    fileId: { type: 'string' },
    originalFileName: nullableString('The uploaded file name'),
    path: nullableString("The upload's path; null when it had none"),
  },
};

const BatchFile: SchemaObject = {
  type: 'object',
  description: 'One upload a batch consumed',
  required: ['fileId', 'originalFileName', 'path', 'itemCount'],
  properties: {
    fileId: { type: 'string' },
    originalFileName: { type: 'string' },
    path: nullableString("The upload's path; null when it had none"),
    itemCount: count('Its items in the batch'),
  },
};

const FilesSource: SchemaObject = {
  type: 'object',
  description: 'A batch created from several uploads (`fileIds`): processed file by file in this order',
  required: ['type', 'files'],
  properties: {
    type: { type: 'string', enum: ['files'] },
    files: { type: 'array', items: schemaRef('BatchFile'), minItems: 1, maxItems: 100 },
  },
  example: FILES_SOURCE_EXAMPLE,
};

const ItemsSource: SchemaObject = {
  type: 'object',
  description: 'A batch created from direct items',
  required: ['type'],
  properties: { type: { type: 'string', enum: ['items'] } },
};

const batchMetadata: SchemaObject = {
  type: 'object',
  maxProperties: 20,
  additionalProperties: { type: 'string', maxLength: 1000 },
  description: 'At most 20 string values (keys up to 100 characters)',
};

const Batch: SchemaObject = {
  type: 'object',
  description:
    'A batch and its progress. `processedCount` never decreases and ends equal to `itemCount` when completed.',
  required: [
    'id',
    'name',
    'status',
    'itemCount',
    'processedCount',
    'succeededCount',
    'failedCount',
    'source',
    'metadata',
    'createdAt',
    'startedAt',
    'completedAt',
    'error',
  ],
  properties: {
    id: { type: 'string' },
    name: nullableString('As given at creation'),
    status: {
      type: 'string',
      enum: BATCH_STATUS_ENUM,
      description: 'queued → processing → completed | failed | cancelled',
    },
    itemCount: count('Items to process'),
    processedCount: count('Succeeded plus failed'),
    succeededCount: count('Items the processor accepted'),
    failedCount: count('Items the processor refused'),
    source: { oneOf: [schemaRef('FileSource'), schemaRef('FilesSource'), schemaRef('ItemsSource')] },
    metadata: { ...batchMetadata, nullable: true },
    createdAt: dateTime('When it was created'),
    startedAt: dateTime('When a worker first took it', true),
    completedAt: dateTime('When it ended (completed, failed or cancelled)', true),
    error: nullableString('Why it failed'),
  },
  example: BATCH_EXAMPLE,
};

const BatchPage: SchemaObject = {
  type: 'object',
  description: "The organization's batches, newest first.",
  required: ['data', 'meta'],
  properties: { data: { type: 'array', items: schemaRef('Batch') }, meta: schemaRef('PageMeta') },
  example: BATCH_PAGE_EXAMPLE,
};

/**
 * What both ways of creating a batch may carry besides their source. No `default` keywords in request
 * bodies: openapi-typescript makes a property with a default required.
 */
const createOptions = {
  name: { type: 'string', maxLength: 200, nullable: true },
  metadata: { ...batchMetadata, nullable: true },
  dryRun: {
    type: 'boolean',
    description: 'true: answer 200 with the verdict this request would get; consume and create nothing (default false)',
  },
} satisfies Record<string, Schema>;

const CreateBatchFromFile: SchemaObject = {
  type: 'object',
  description: 'Consumes the upload atomically: of concurrent requests for one fileId exactly one gets 202.',
  required: ['fileId'],
  properties: { fileId: { type: 'string', minLength: 1 }, ...createOptions },
  example: CREATE_FROM_FILE_EXAMPLE,
};

const CreateBatchFromFiles: SchemaObject = {
  type: 'object',
  description:
    'Consumes every listed upload in one atomic step, all or none: the first listed id that fails decides the answer (404, 409 or 410 with `details.fileId`). Plan limits apply to the sum of their itemCounts; items are processed file by file in the order listed.',
  required: ['fileIds'],
  properties: {
    fileIds: {
      type: 'array',
      items: { type: 'string', minLength: 1 },
      minItems: 1,
      maxItems: 100,
      uniqueItems: true,
      description: '1 to 100 distinct upload ids of the organization (on every plan)',
    },
    ...createOptions,
  },
  example: CREATE_FROM_FILES_EXAMPLE,
};

const CreateBatchFromItems: SchemaObject = {
  type: 'object',
  description:
    "Direct items (works without file storage), validated as an upload's rows are (element 1 is row 1). The body is at most 16 MB.",
  required: ['items'],
  properties: {
    items: { type: 'array', items: { type: 'object', additionalProperties: true } },
    schema: { type: 'string', description: 'The item schema to validate them against (default: `default`)' },
    ...createOptions,
  },
  example: CREATE_FROM_ITEMS_EXAMPLE,
};

const CreateBatchRequest: SchemaObject = {
  description: 'Exactly one of `fileId`, `fileIds` and `items`.',
  oneOf: [schemaRef('CreateBatchFromFile'), schemaRef('CreateBatchFromFiles'), schemaRef('CreateBatchFromItems')],
};

const BatchCreated: SchemaObject = {
  type: 'object',
  description:
    'POST /v1/batch: created and queued. Direct items that were skipped are listed in `validationErrors` (absent when none was).',
  required: ['id', 'status', 'itemCount', 'createdAt'],
  properties: {
    id: { type: 'string' },
    status: { type: 'string', enum: ['queued'] },
    itemCount: count('Items to process (skipped ones not counted)'),
    fileId: { type: 'string', description: 'Created with `fileId`: the upload it consumed' },
    fileIds: {
      type: 'array',
      items: { type: 'string' },
      description: 'Created with `fileIds` (in place of `fileId`): the uploads it consumed, in processing order',
    },
    createdAt: dateTime('When it was created'),
    ...rowErrorFields,
  },
  example: BATCH_CREATED_EXAMPLE,
};

const QuotaUse: SchemaObject = {
  type: 'object',
  description: 'The plan limits a batch is checked against, and what it would use. null: unlimited.',
  required: [
    'maxItemsPerBatch',
    'maxItemsPerMonth',
    'usedThisMonth',
    'wouldUse',
    'remainingThisMonth',
    'activeBatches',
    'maxConcurrentBatches',
  ],
  properties: {
    maxItemsPerBatch: count('Plan limit'),
    maxItemsPerMonth: { ...count('Plan limit'), nullable: true },
    usedThisMonth: count('Items reserved this month before this batch'),
    wouldUse: count('Items this batch would reserve'),
    remainingThisMonth: { type: 'integer', nullable: true, description: 'After this batch (negative: over the limit)' },
    activeBatches: count('Batches queued or processing'),
    maxConcurrentBatches: count('Plan limit'),
  },
  example: QUOTA_USE_EXAMPLE,
};

const DryRunVerdict: SchemaObject = {
  type: 'object',
  description:
    'POST /v1/batch with `dryRun: true`: the verdict the real request would get (every refusal but a malformed request is a verdict, not an error status), with what is known.',
  required: ['dryRun', 'verdict', 'status'],
  properties: {
    dryRun: { type: 'boolean', enum: [true] },
    verdict: { type: 'string', enum: ['accepted', 'refused'] },
    status: { type: 'integer', description: 'The status the real request would get (202 when accepted)' },
    error: schemaRef('ApiError'),
    itemCount: count('Items the batch would have'),
    fileId: { type: 'string', description: 'Asked with `fileId`' },
    fileIds: { type: 'array', items: { type: 'string' }, description: 'Asked with `fileIds` (in place of `fileId`)' },
    quota: schemaRef('QuotaUse'),
    ...rowErrorFields,
  },
  example: DRY_RUN_EXAMPLE,
};

const ResultLine: SchemaObject = {
  type: 'object',
  description:
    'One line of GET /v1/batch/{id}/results (NDJSON), per processed item, in row order (file by file for several files). Batches made from uploads trace each line to its upload (`fileId`, and `path` when it had one); direct-items batches have `row` alone.',
  required: ['row', 'status'],
  properties: {
    fileId: { type: 'string', description: 'Batches made from uploads: the upload the item came from' },
    path: { type: 'string', description: "That upload's path, when it had one" },
    row: { type: 'integer', minimum: 1 },
    status: { type: 'string', enum: ['succeeded', 'failed'] },
    output: { description: "The processor's output (succeeded)" },
    error: { type: 'string', description: 'Why the processor refused it (failed)' },
  },
  example: RESULT_LINE_EXAMPLE,
};

export const BATCH_SCHEMAS = {
  FileSource,
  BatchFile,
  FilesSource,
  ItemsSource,
  Batch,
  BatchPage,
  CreateBatchFromFile,
  CreateBatchFromFiles,
  CreateBatchFromItems,
  CreateBatchRequest,
  BatchCreated,
  QuotaUse,
  DryRunVerdict,
  ResultLine,
};
