export type BatchStatus = 'queued' | 'processing' | 'completed' | 'failed' | 'cancelled';
export const BATCH_STATUSES: readonly BatchStatus[] = ['queued', 'processing', 'completed', 'failed', 'cancelled'];
export const FINISHED: readonly BatchStatus[] = ['completed', 'failed', 'cancelled'];

/** Where a batch's items wait: a file-storage object (uploads) or a Redis key (direct items). */
export type ItemsStore = 'storage' | 'redis';

/** One stored item, as a batch's items object holds it (one NDJSON line each). */
export interface ChunkItem {
  row: number;
  item: Record<string, unknown>;
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
  sourceType: 'file' | 'items';
  fileId: string | null;
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
> & { source: { type: 'file'; fileId: string; originalFileName: string | null } | { type: 'items' } };

export function toBatchView(b: BatchRecord): BatchView {
  return {
    id: b.id,
    name: b.name,
    status: b.status,
    itemCount: b.itemCount,
    processedCount: b.processedCount,
    succeededCount: b.succeededCount,
    failedCount: b.failedCount,
    source:
      b.sourceType === 'file' && b.fileId
        ? { type: 'file', fileId: b.fileId, originalFileName: b.originalFileName }
        : { type: 'items' },
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
    sourceType: h.sourceType === 'file' ? 'file' : 'items',
    fileId: orNull(h.fileId),
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

/** The fields written at creation; counters start at zero. */
export function initialFields(b: Omit<BatchRecord, 'itemCount'>): string[] {
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
