import { Inject, Injectable } from '@nestjs/common';
import type { AuthContext } from '../auth/auth-context';
import { looksLikeId } from '../common/ids';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { batchFinished, batchNotFound } from '../errors/errors';
import { BatchDataRepository } from '../store/batch-data.repository';
import { type BatchRecord, type BatchStatus, type BatchView, toBatchView } from '../store/batch-record';
import { BatchRepository } from '../store/batch.repository';

/** How long a cancel waits for a processing batch's worker to put down the chunk in hand, and how often it looks. */
const CANCEL_SETTLE_MS = 2000;
const CANCEL_POLL_MS = 20;

/** Reading batches (one, a page, the results) and cancelling one. Creation is CreateBatch / DryRunBatch. */
@Injectable()
export class BatchService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly batches: BatchRepository,
    private readonly data: BatchDataRepository,
  ) {}

  async get(auth: AuthContext, id: string): Promise<BatchView> {
    return toBatchView(await this.record(auth, id));
  }

  private async record(auth: AuthContext, id: string): Promise<BatchRecord> {
    const batch = looksLikeId(id, 'b') ? await this.batches.get(auth.orgId, id) : null;
    if (!batch) throw batchNotFound(id);
    return batch;
  }

  async list(auth: AuthContext, offset: number, limit: number, status?: BatchStatus) {
    const { data, total } = await this.batches.list(auth.orgId, offset, limit, status);
    return { data: data.map(toBatchView), meta: { offset, limit, count: data.length, total } };
  }

  async results(auth: AuthContext, id: string): Promise<AsyncGenerator<string | Buffer>> {
    return this.data.results(await this.record(auth, id));
  }

  async cancel(auth: AuthContext, id: string): Promise<BatchView> {
    const batch = await this.record(auth, id);
    const [outcome, previous] = await this.batches.cancel(auth.orgId, id);
    if (outcome === 'missing') throw batchNotFound(id);
    if (outcome === 'finished') {
      // Cancelled by another request a moment ago: answered once its worker has ended it, as that one is.
      if (previous === 'cancelled') await this.ended(auth, id);
      throw batchFinished(id, previous);
    }
    // A queued batch has no worker on it: end it now. A processing one is ended by its worker after the chunk in hand.
    if (previous === 'queued') {
      await this.batches.finish(batch, 'cancelled', null, this.config.batchRetentionSeconds);
      return this.get(auth, id);
    }
    return this.ended(auth, id);
  }

  /**
   * A cancelled processing batch once its worker has ended it, after the chunk in hand (milliseconds,
   * unless a webhook is slow), or as it is after CANCEL_SETTLE_MS: the answer shows where it stopped
   * (processedCount, completedAt), rather than counts still moving.
   */
  private async ended(auth: AuthContext, id: string): Promise<BatchView> {
    const until = Date.now() + CANCEL_SETTLE_MS;
    for (;;) {
      const view = await this.get(auth, id);
      if (view.completedAt !== null || Date.now() >= until) return view;
      await new Promise((r) => setTimeout(r, CANCEL_POLL_MS));
    }
  }
}
