import { AppError } from '../errors/app-error';

export const MAX_FILE_IDS = 100;

export interface CreateBatchRequest {
  fileId?: string;
  /** Several uploads, consumed together (API.md, "Several files: in one batch"). */
  fileIds?: string[];
  items?: unknown[];
  name: string | null;
  metadata: Record<string, string> | null;
  dryRun: boolean;
  schema: string;
}

const bad = (message: string) => new AppError('validation_error', message);

/** POST /v1/batch's body, checked field by field with messages that name the field. */
export function parseCreateBatch(body: unknown): CreateBatchRequest {
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw bad('The request body must be a JSON object with "fileId", "fileIds" or "items".');
  }
  const b = body as Record<string, unknown>;
  const given = (k: string) => Object.hasOwn(b, k) && b[k] !== undefined && b[k] !== null;
  const hasFile = given('fileId');
  const hasFiles = given('fileIds');
  const hasItems = given('items');
  if (Number(hasFile) + Number(hasFiles) + Number(hasItems) !== 1)
    throw bad('Provide exactly one of "fileId", "fileIds" or "items".');
  if (hasFile && (typeof b.fileId !== 'string' || b.fileId === '')) throw bad('"fileId" must be a non-empty string.');
  if (hasFiles) {
    const ids = b.fileIds;
    if (!Array.isArray(ids) || ids.length === 0 || ids.length > MAX_FILE_IDS)
      throw bad(`"fileIds" must be an array of 1 to ${MAX_FILE_IDS} upload ids.`);
    if (ids.some((id) => typeof id !== 'string' || id === '')) throw bad('"fileIds" must hold non-empty strings.');
    if (new Set(ids).size !== ids.length) throw bad('"fileIds" must not list an upload twice.');
  }
  if (hasItems && !Array.isArray(b.items)) throw bad('"items" must be an array of objects.');
  if (b.name !== undefined && b.name !== null && (typeof b.name !== 'string' || b.name.length > 200)) {
    throw bad('"name" must be a string of at most 200 characters.');
  }
  let metadata: Record<string, string> | null = null;
  if (b.metadata !== undefined && b.metadata !== null) {
    if (typeof b.metadata !== 'object' || Array.isArray(b.metadata))
      throw bad('"metadata" must be an object of string values.');
    const entries = Object.entries(b.metadata as Record<string, unknown>);
    if (entries.length > 20) throw bad('"metadata" may have at most 20 entries.');
    for (const [k, v] of entries) {
      if (typeof v !== 'string') throw bad(`"metadata.${k}" must be a string.`);
      if (k.length > 100 || v.length > 1000)
        throw bad(`"metadata.${k}" is too long (keys up to 100, values up to 1000 characters).`);
    }
    metadata = Object.fromEntries(entries) as Record<string, string>;
  }
  if (b.dryRun !== undefined && typeof b.dryRun !== 'boolean') throw bad('"dryRun" must be true or false.');
  if (b.schema !== undefined && typeof b.schema !== 'string')
    throw bad('"schema" must be the name of a registered schema.');
  return {
    ...(hasFile && { fileId: b.fileId as string }),
    ...(hasFiles && { fileIds: b.fileIds as string[] }),
    ...(hasItems && { items: b.items as unknown[] }),
    name: typeof b.name === 'string' ? b.name : null,
    metadata,
    dryRun: b.dryRun === true,
    schema: typeof b.schema === 'string' ? b.schema : 'default',
  };
}
