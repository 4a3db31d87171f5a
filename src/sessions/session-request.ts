import type { RowError } from '../common/row-error';
import { AppError } from '../errors/app-error';
import { payloadTooLarge, tooManyFiles } from '../errors/errors';
import type { SchemaRegistry } from '../ingest/schema-registry';
import { type UploadFields, readUploadFields } from '../intake/upload-fields';
import { checkedPath, splitFileName } from '../intake/upload-path';

const LABEL = 'Field';
const SHA256 = /^[0-9a-fA-F]{64}$/;

/** One file of POST /v1/uploads, checked: everything a session needs before a URL is signed. */
export interface SessionFileSpec {
  index: number;
  filename: string;
  originalFileName: string;
  path: string | null;
  sizeBytes: number;
  contentType?: string;
  sha256?: string;
  fields: UploadFields;
}

/** A file of POST /v1/uploads refused before any URL was signed (API.md: errors per file). */
export interface SessionFileRefusal {
  index: number;
  filename: string | null;
  status: number;
  error: { code: string; message: string; details?: Record<string, unknown> };
  validationErrors: RowError[];
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const invalid = (message: string, field?: string) =>
  new AppError('validation_error', message, field ? { field } : undefined);

/** The `files` list of the body: 1 to the plan's maxFilesPerRequest entries, or 400. */
export function sessionFiles(body: unknown, maxFiles: number): unknown[] {
  if (!isObject(body) || !Array.isArray(body.files)) {
    throw invalid('The body must be a JSON object with a "files" array (1 or more files).', 'files');
  }
  if (body.files.length === 0) throw invalid('"files" must list at least one file.', 'files');
  if (body.files.length > maxFiles) throw tooManyFiles(maxFiles);
  return body.files;
}

/** One entry of `files`, checked in the order API.md gives (size against the plan: 413), or the AppError. */
export function sessionFile(
  raw: unknown,
  index: number,
  schemas: SchemaRegistry,
  maxFileBytes: number,
): SessionFileSpec {
  if (!isObject(raw)) throw invalid(`files[${index}] must be an object.`, 'files');
  const filename = raw.filename;
  if (typeof filename !== 'string' || filename.trim() === '' || filename.length > 1024) {
    throw invalid('"filename" must be a non-empty string of at most 1024 characters.', 'filename');
  }
  const size = raw.sizeBytes;
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 1) {
    throw invalid('"sizeBytes" must be a whole number of bytes, at least 1.', 'sizeBytes');
  }
  if (size > maxFileBytes) throw payloadTooLarge(maxFileBytes, { sizeBytes: size });
  const contentType = raw.contentType;
  if (
    contentType !== undefined &&
    contentType !== null &&
    (typeof contentType !== 'string' || contentType.length > 255)
  ) {
    throw invalid('"contentType" must be a string of at most 255 characters.', 'contentType');
  }
  const sha256 = raw.sha256;
  if (sha256 !== undefined && sha256 !== null && (typeof sha256 !== 'string' || !SHA256.test(sha256))) {
    throw invalid('"sha256" must be 64 hexadecimal characters.', 'sha256');
  }
  const fields = readUploadFields(raw, schemas, LABEL);
  const fromName = splitFileName(filename);
  const path = fields.path ?? (fromName.path === null ? null : checkedPath(fromName.path));
  return {
    index,
    filename,
    originalFileName: fromName.originalFileName,
    path,
    sizeBytes: size,
    ...(typeof contentType === 'string' && { contentType }),
    ...(typeof sha256 === 'string' && { sha256: sha256.toLowerCase() }),
    fields,
  };
}

export function refusal(raw: unknown, index: number, e: AppError): SessionFileRefusal {
  const filename = isObject(raw) && typeof raw.filename === 'string' ? raw.filename.slice(0, 1024) : null;
  return {
    index,
    filename,
    status: e.status,
    error: { code: e.code, message: e.message, ...(e.details && { details: e.details }) },
    validationErrors: e.rows?.validationErrors ?? [],
  };
}

/** POST /v1/uploads/{id}/parts: the part numbers asked for (every missing one when none are named). */
export function requestedParts(body: unknown, partCount: number): number[] | undefined {
  if (body === undefined || body === null || (isObject(body) && body.partNumbers === undefined)) return undefined;
  if (!isObject(body) || !Array.isArray(body.partNumbers)) {
    throw invalid('The body must be {} or { "partNumbers": [1, 2, ...] }.', 'partNumbers');
  }
  const numbers = body.partNumbers as unknown[];
  if (numbers.length === 0 || numbers.length > partCount) {
    throw invalid(`"partNumbers" must list 1 to ${partCount} part numbers.`, 'partNumbers');
  }
  for (const n of numbers) {
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > partCount) {
      throw invalid(`"partNumbers" must hold part numbers from 1 to ${partCount}.`, 'partNumbers');
    }
  }
  return [...new Set(numbers as number[])].sort((a, b) => a - b);
}

/** POST /v1/uploads/{id}/complete's optional body: `{ parts: [{ partNumber, etag? }] }`, checked for shape. */
export function completedParts(body: unknown, partCount: number): void {
  if (body === undefined || body === null || (isObject(body) && body.parts === undefined)) return;
  if (!isObject(body) || !Array.isArray(body.parts)) {
    throw invalid('The body must be empty, {} or { "parts": [{ "partNumber": 1, "etag": "..." }] }.', 'parts');
  }
  for (const p of body.parts as unknown[]) {
    const n = isObject(p) ? p.partNumber : undefined;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > partCount) {
      throw invalid(`Each of "parts" needs a partNumber from 1 to ${partCount}.`, 'parts');
    }
    if (isObject(p) && p.etag !== undefined && typeof p.etag !== 'string') {
      throw invalid('A part\'s "etag" must be a string.', 'parts');
    }
  }
}

/** `Prefer: wait=N` (RFC 7240), at most 60 seconds; 0 when absent. */
export function preferredWait(header: string | undefined): number {
  const m = /(?:^|[,;\s])wait\s*=\s*"?(\d{1,6})"?/i.exec(header ?? '');
  return m ? Math.min(60, Number(m[1])) : 0;
}
