import type { RowError } from '../common/row-error';

/**
 * The lines an upload's objects hold, written once for every writer (the upload's sink, and the
 * ingest pool's threads, which format their chunk's lines before handing them back).
 */
export function itemLine(row: number, item: Record<string, unknown>): string {
  return `{"row":${row},"item":${JSON.stringify(item)}}\n`;
}

export function rejectedLine(error: RowError, raw: unknown): string {
  return `${JSON.stringify({ ...error, raw })}\n`;
}
