import { AppError } from '../errors/app-error';
import { unknownSchema } from '../errors/errors';
import { type EncodingName, normalizeEncoding } from '../ingest/detect';
import type { ItemSchema, SchemaRegistry } from '../ingest/schema-registry';
import { FORMATS, type Format } from '../ingest/types';
import { checkedPath } from './upload-path';

export interface UploadFields {
  schema: ItemSchema;
  format?: Format;
  encoding?: EncodingName;
  /** The `path` field (a single file's label), checked. */
  path?: string;
}

function field(fields: Record<string, unknown>, name: string, label: string): string | undefined {
  const v = Object.hasOwn(fields, name) ? fields[name] : undefined;
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new AppError('validation_error', `${label} "${name}" must be given once, as text.`);
  return v.trim() === '' ? undefined : v.trim();
}

/**
 * The upload's text fields (`schema`, `format`, `encoding`, `path`), each checked, with a message naming
 * it: `label` says what they are to the client (multipart form fields, or an upload session's JSON fields).
 */
export function readUploadFields(
  fields: Record<string, unknown>,
  schemas: SchemaRegistry,
  label = 'Form field',
): UploadFields {
  const schemaName = field(fields, 'schema', label) ?? 'default';
  const schema = schemas.get(schemaName);
  if (!schema) throw unknownSchema(schemaName, schemas.names());
  const format = field(fields, 'format', label)?.toLowerCase();
  if (format !== undefined && !FORMATS.includes(format as Format)) {
    throw new AppError('validation_error', `Unknown format "${format}": use csv, json or ndjson.`);
  }
  const encodingName = field(fields, 'encoding', label);
  let encoding: EncodingName | undefined;
  if (encodingName !== undefined) {
    encoding = normalizeEncoding(encodingName);
    if (!encoding) {
      throw new AppError(
        'validation_error',
        `Unknown encoding "${encodingName}": use utf-8, utf-16le, utf-16be or windows-1252.`,
      );
    }
  }
  const pathValue = Object.hasOwn(fields, 'path') ? fields.path : undefined;
  if (pathValue !== undefined && typeof pathValue !== 'string')
    throw new AppError('validation_error', `${label} "path" must be given once, as text.`);
  const path = pathValue === undefined ? undefined : checkedPath(pathValue);
  return { schema, format: format as Format | undefined, encoding, ...(path !== undefined && { path }) };
}
