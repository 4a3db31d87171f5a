import { Logger } from '@nestjs/common';
import { createHmac } from 'node:crypto';
import type { BatchRecord, ChunkItem } from '../store/batch-record';
import type { ItemProcessor, ItemResult } from './item-processor';

export interface WebhookOptions {
  url: string;
  secret?: string;
  attempts?: number;
  baseDelayMs?: number;
  timeoutMs?: number;
}

export const SIGNATURE_HEADER = 'X-Batchgate-Signature';

/**
 * The hex HMAC-SHA256 of the raw body, as a receiver recomputes it: API.md's "signed with HMAC-SHA256
 * of the body in X-Batchgate-Signature", read literally (no `sha256=` prefix, which it never names).
 */
export function sign(secret: string, body: string): string {
  return createHmac('sha256', secret).update(body).digest('hex');
}

interface ReceiverResult {
  status?: unknown;
  output?: unknown;
  error?: unknown;
}

/**
 * PROCESSOR=webhook: POSTs each chunk as JSON to WEBHOOK_URL, signed. A 2xx marks the chunk's items
 * succeeded, or as the receiver's per-item `results` array says; other answers (and network errors)
 * are retried with exponential backoff, and when the retries run out the chunk's items fail.
 */
export class WebhookProcessor implements ItemProcessor {
  private readonly logger = new Logger(WebhookProcessor.name);

  constructor(private readonly opts: WebhookOptions) {}

  async process(batch: BatchRecord, chunkIndex: number, items: ChunkItem[]): Promise<ItemResult[]> {
    const body = JSON.stringify({ batchId: batch.id, chunk: chunkIndex, items });
    const headers: Record<string, string> = {
      'Content-Type': 'application/json',
      'X-Batchgate-Batch-Id': batch.id,
      'X-Batchgate-Chunk': String(chunkIndex),
    };
    if (this.opts.secret) headers[SIGNATURE_HEADER] = sign(this.opts.secret, body);
    const attempts = this.opts.attempts ?? 5;
    let lastError = '';
    for (let attempt = 1; attempt <= attempts; attempt++) {
      try {
        const res = await fetch(this.opts.url, {
          method: 'POST',
          headers,
          body,
          signal: AbortSignal.timeout(this.opts.timeoutMs ?? 15_000),
        });
        const text = await res.text();
        if (res.ok) return this.results(items, text);
        lastError = `webhook answered ${res.status}`;
      } catch (e) {
        lastError = `webhook unreachable: ${(e as Error).message}`;
      }
      if (attempt < attempts)
        await new Promise((r) => setTimeout(r, (this.opts.baseDelayMs ?? 500) * 2 ** (attempt - 1)));
    }
    this.logger.warn(`batch ${batch.id} chunk ${chunkIndex}: ${lastError} after ${attempts} attempts`);
    return items.map(({ row }) => ({ row, status: 'failed' as const, error: lastError }));
  }

  private results(items: ChunkItem[], text: string): ItemResult[] {
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    const list = (parsed as { results?: unknown } | undefined)?.results;
    if (!Array.isArray(list) || list.length !== items.length) {
      return items.map(({ row }) => ({ row, status: 'succeeded' as const }));
    }
    return items.map(({ row }, i) => {
      const r = (list[i] ?? {}) as ReceiverResult;
      if (r.status === 'failed' || r.status === 'error') {
        return {
          row,
          status: 'failed' as const,
          error: typeof r.error === 'string' ? r.error : 'failed by the webhook',
        };
      }
      return { row, status: 'succeeded' as const, ...(r.output !== undefined && { output: r.output }) };
    });
  }
}
