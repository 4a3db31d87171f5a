export type BatchStatus = 'queued' | 'processing' | 'completed' | 'failed' | 'cancelled';
export const BATCH_STATUSES: readonly BatchStatus[] = ['queued', 'processing', 'completed', 'failed', 'cancelled'];
export const FINISHED: readonly BatchStatus[] = ['completed', 'failed', 'cancelled'];

/** Where a batch's items wait: a file-storage object (uploads) or a Redis key (direct items). */
export type ItemsStore = 'storage' | 'redis';

/** One stored item, as a batch's items object holds it (one NDJSON line each), and the upload it came from. */
export interface ChunkItem {
  row: number;
  item: Record<string, unknown>;
  /** Items of a batch made from uploads: which upload, and its path when it had one. */
  fileId?: string;
  path?: string | null;
}

/** One upload a file batch consumed, in the order its items are processed. */
export interface BatchFile {
  fileId: string;
  originalFileName: string;
  path: string | null;
  itemCount: number;
}

/** The batch hash in Redis, field by field (all strings there). */
export interface BatchRecord {
  id: string;
  orgId: string;
  name: string | null;
  status: BatchStatus;
  itemCount: number;
  processedCount: number;
  succeededCount: number;
  failedCount: number;
  /** 'file': one upload (`fileId`); 'files': several (`fileIds`); 'items': direct items. */
  sourceType: 'file' | 'files' | 'items';
  fileId: string | null;
  /** Every upload of a file batch, as the creation script recorded them (null for direct items). */
  files: BatchFile[] | null;
  originalFileName: string | null;
  metadata: Record<string, string> | null;
  createdAt: string;
  startedAt: string | null;
  completedAt: string | null;
  error: string | null;
  usageMonth: string;
  itemsStore: ItemsStore;
  itemsKey: string;
  chunkSize: number;
  nextChunk: number;
}

/** API.md's batch body. */
export type BatchView = Pick<
  BatchRecord,
  | 'id'
  | 'name'
  | 'status'
  | 'itemCount'
  | 'processedCount'
  | 'succeededCount'
  | 'failedCount'
  | 'metadata'
  | 'createdAt'
  | 'startedAt'
  | 'completedAt'
  | 'error'
> & {
  source:
    | { type: 'file'; fileId: string; originalFileName: string | null; path: string | null }
    | { type: 'files'; files: BatchFile[] }
    | { type: 'items' };
};

function sourceOf(b: BatchRecord): BatchView['source'] {
  if (b.sourceType === 'files' && b.files) return { type: 'files', files: b.files };
  // The upload's path is carried to the batch (API.md, `path`), as each file's is for several.
  if (b.sourceType === 'file' && b.fileId)
    return { type: 'file', fileId: b.fileId, originalFileName: b.originalFileName, path: b.files?.[0]?.path ?? null };
  return { type: 'items' };
}

export function toBatchView(b: BatchRecord): BatchView {
  return {
    id: b.id,
    name: b.name,
    status: b.status,
    itemCount: b.itemCount,
    processedCount: b.processedCount,
    succeededCount: b.succeededCount,
    failedCount: b.failedCount,
    source: sourceOf(b),
    metadata: b.metadata,
    createdAt: b.createdAt,
    startedAt: b.startedAt,
    completedAt: b.completedAt,
    error: b.error,
  };
}

const orNull = (v: string | undefined) => (v === undefined || v === '' ? null : v);

export function fromHash(h: Record<string, string>): BatchRecord | null {
  if (!h.id) return null;
  return {
    id: h.id,
    orgId: h.orgId,
    name: orNull(h.name),
    status: h.status as BatchStatus,
    itemCount: Number(h.itemCount ?? 0),
    processedCount: Number(h.processedCount ?? 0),
    succeededCount: Number(h.succeededCount ?? 0),
    failedCount: Number(h.failedCount ?? 0),
    sourceType: h.sourceType === 'file' || h.sourceType === 'files' ? h.sourceType : 'items',
    fileId: orNull(h.fileId),
    files: h.files ? parseFiles(h.files) : null,
    originalFileName: orNull(h.originalFileName),
    metadata: h.metadata ? (JSON.parse(h.metadata) as Record<string, string>) : null,
    createdAt: h.createdAt,
    startedAt: orNull(h.startedAt),
    completedAt: orNull(h.completedAt),
    error: orNull(h.error),
    usageMonth: h.usageMonth,
    itemsStore: h.itemsStore === 'redis' ? 'redis' : 'storage',
    itemsKey: h.itemsKey,
    chunkSize: Number(h.chunkSize ?? 1000),
    nextChunk: Number(h.nextChunk ?? 0),
  };
}

/** The script writes `files` with cjson: key order and a missing `path` are normalised here. */
function parseFiles(json: string): BatchFile[] {
  return (JSON.parse(json) as Partial<BatchFile>[]).map((f) => ({
    fileId: String(f.fileId),
    originalFileName: String(f.originalFileName ?? ''),
    path: typeof f.path === 'string' ? f.path : null,
    itemCount: Number(f.itemCount ?? 0),
  }));
}

/** The fields written at creation (the script adds itemCount and `files`); counters start at zero. */
export function initialFields(b: Omit<BatchRecord, 'itemCount' | 'files'>): string[] {
  const fields: Record<string, string> = {
    id: b.id,
    orgId: b.orgId,
    name: b.name ?? '',
    status: b.status,
    processedCount: '0',
    succeededCount: '0',
    failedCount: '0',
    sourceType: b.sourceType,
    fileId: b.fileId ?? '',
    originalFileName: b.originalFileName ?? '',
    metadata: b.metadata ? JSON.stringify(b.metadata) : '',
    createdAt: b.createdAt,
    startedAt: '',
    completedAt: '',
    error: '',
    usageMonth: b.usageMonth,
    itemsStore: b.itemsStore,
    itemsKey: b.itemsKey,
    chunkSize: String(b.chunkSize),
    nextChunk: '0',
  };
  return Object.entries(fields).flat();
}
