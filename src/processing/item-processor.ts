import type { BatchRecord, ChunkItem } from '../store/batch-record';

export interface ItemResult {
  row: number;
  status: 'succeeded' | 'failed';
  output?: unknown;
  error?: string;
}

/** What the worker does with each chunk of items (PROCESSOR). Returns one result per item, in order. */
export interface ItemProcessor {
  process(batch: BatchRecord, chunkIndex: number, items: ChunkItem[]): Promise<ItemResult[]>;
}

export const ITEM_PROCESSOR = Symbol('ITEM_PROCESSOR');

/** PROCESSOR=accept: every item succeeds; its output is the validated item. */
export class AcceptProcessor implements ItemProcessor {
  process(_batch: BatchRecord, _chunk: number, items: ChunkItem[]): Promise<ItemResult[]> {
    return Promise.resolve(items.map(({ row, item }) => ({ row, status: 'succeeded' as const, output: item })));
  }
}
