import type { ReferenceObject, SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';

export type Schema = SchemaObject | ReferenceObject;

/**
 * The names of `components.schemas`. Listed here, apart from the schemas themselves, so that the
 * schema files can refer to each other (and the decorators to them) without importing each other;
 * `components.ts` must define exactly these (its `satisfies` fails the build otherwise).
 */
export type SchemaName =
  | 'RowError'
  | 'ErrorSummaryEntry'
  | 'ParsingInfo'
  | 'UploadForm'
  | 'Upload'
  | 'UploadedFile'
  | 'RefusedFile'
  | 'SeveralUploads'
  | 'UploadResult'
  | 'UploadView'
  | 'PageMeta'
  | 'RowErrorPage'
  | 'PreviewItem'
  | 'UploadPreview'
  | 'FileSource'
  | 'BatchFile'
  | 'FilesSource'
  | 'ItemsSource'
  | 'Batch'
  | 'BatchPage'
  | 'CreateBatchFromFile'
  | 'CreateBatchFromFiles'
  | 'CreateBatchFromItems'
  | 'CreateBatchRequest'
  | 'BatchCreated'
  | 'QuotaUse'
  | 'DryRunVerdict'
  | 'ResultLine'
  | 'ApiError'
  | 'ErrorEnvelope'
  | 'Health'
  | 'Readiness'
  | 'UploadSessionRequest'
  | 'UploadSessionsCreated'
  | 'UploadSessionPartsRequest'
  | 'UploadSessionParts'
  | 'UploadSessionCompleteRequest'
  | 'UploadSession'
  | 'UploadSessionRefusal'
  | 'UploadPartReceived';

export function schemaRef(name: SchemaName): ReferenceObject {
  return { $ref: `#/components/schemas/${name}` };
}

/** Small builders the schema files share. */
export const count = (description: string): SchemaObject => ({ type: 'integer', minimum: 0, description });

export const dateTime = (description: string, nullable = false): SchemaObject => ({
  type: 'string',
  format: 'date-time',
  description,
  ...(nullable && { nullable }),
});

export const nullableString = (description: string): SchemaObject => ({ type: 'string', nullable: true, description });
