import { Inject, Injectable } from '@nestjs/common';
import type { AuthContext } from '../auth/auth-context';
import { looksLikeId, newId } from '../common/ids';
import type { RowErrorsBody } from '../common/row-error';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { AppError } from '../errors/app-error';
import {
  batchNotOnPlan,
  fileAlreadyConsumed,
  fileExpired,
  fileNotFound,
  quotaExceeded,
  rowsRefused,
  unknownSchema,
} from '../errors/errors';
import { SchemaRegistry } from '../ingest/schema-registry';
import { IngestError } from '../ingest/types';
import { type ValidatedItems, validateItems } from '../ingest/validate-items';
import { MetricsService } from '../metrics/metrics.service';
import type { BatchRecord } from '../store/batch-record';
import { BatchRepository, type CreateReply } from '../store/batch.repository';
import { FileTokenRepository } from '../store/file-token.repository';
import { uploadObjects } from '../store/storage-keys';
import type { CreateBatchRequest } from './create-batch.request';

const CHUNK_SIZE = { accept: 1000, webhook: 100 } as const;

/** The row errors of direct items, as the 202, the dry run and the 400 show them. */
export function rowsOf(v: ValidatedItems): RowErrorsBody {
  return {
    validationErrors: v.validationErrors,
    validationErrorCount: v.validationErrorCount,
    validationErrorsTruncated: v.validationErrorsTruncated,
    errorSummary: v.errorSummary,
  };
}

/** 402 for a plan without batches, before anything else is looked at. */
export function assertBatchPlan(auth: AuthContext): void {
  if (!auth.plan.batchEnabled) throw batchNotOnPlan(auth.plan.name);
}

/** What the creation script was asked, and what it answered. */
/** The uploads a request consumes, in order: one for `fileId`, every one of `fileIds`, none for items. */
export function uploadsOf(req: CreateBatchRequest): string[] {
  return req.fileIds ?? (req.fileId !== undefined ? [req.fileId] : []);
}

/** With `fileIds`, a refusal about one upload names it in `details.fileId` (API.md). */
function named(req: CreateBatchRequest, error: AppError, fileId: string): AppError {
  if (!req.fileIds) return error;
  return new AppError(error.code, error.message, { ...error.details, fileId }, error.rows, error.retryAfter);
}

export interface Admission {
  record: Omit<BatchRecord, 'itemCount' | 'files'>;
  reply: CreateReply;
  /** Direct items only: their row errors. */
  rows?: RowErrorsBody;
}

/**
 * The part of batch creation that a real create and a dry run share: the plan check, the source
 * (an upload's fileId, or direct items validated through ingest's row loop), the batch record, one
 * run of the creation script (check only, for a dry run), and the refusal a reply means. A new kind of
 * source is one more case of `prepare`, not a copy of this.
 */
@Injectable()
export class BatchAdmission {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly batches: BatchRepository,
    private readonly tokens: FileTokenRepository,
    private readonly schemas: SchemaRegistry,
    private readonly metrics: MetricsService,
  ) {}

  async admit(auth: AuthContext, req: CreateBatchRequest, dryRun: boolean): Promise<Admission> {
    assertBatchPlan(auth);
    const now = new Date();
    const id = newId('b');
    const fileIds = uploadsOf(req);
    const fromFile = fileIds.length > 0;
    const record: Omit<BatchRecord, 'itemCount' | 'files'> = {
      id,
      orgId: auth.orgId,
      name: req.name,
      status: 'queued',
      processedCount: 0,
      succeededCount: 0,
      failedCount: 0,
      sourceType: req.fileIds ? 'files' : fromFile ? 'file' : 'items',
      fileId: req.fileId ?? null,
      originalFileName: null,
      metadata: req.metadata,
      createdAt: now.toISOString(),
      startedAt: null,
      completedAt: null,
      error: null,
      usageMonth: now.toISOString().slice(0, 7),
      itemsStore: fromFile ? 'storage' : 'redis',
      itemsKey: fromFile ? uploadObjects(auth.orgId, fileIds[0]).items : '',
      chunkSize: CHUNK_SIZE[this.config.processor],
      nextChunk: 0,
    };

    let itemCount = 0;
    let rows: RowErrorsBody | undefined;
    if (req.items) {
      const direct = await this.validate(req.items, req.schema);
      itemCount = direct.itemCount;
      this.metrics.countRows(direct);
      rows = rowsOf(direct);
      if (!dryRun) {
        // Written before the script so that a created batch always finds its items; dropped on refusal.
        await this.batches.putDirectItems(auth.orgId, id, direct.ndjson, this.config.batchRetentionSeconds + 86400);
      }
    }
    const run = (ids: string[], checkOnly: boolean) =>
      this.batches.create({
        record,
        fileIds: ids,
        itemCount,
        limits: auth.plan,
        tombstoneTtlSeconds: this.config.batchRetentionSeconds,
        dryRun: checkOnly,
      });

    // An id that cannot be one is never looked up (it would name a key), but the first listed id
    // that fails decides (API.md): the ids before it are checked first, consuming nothing.
    const bad = fileIds.findIndex((fileId) => !looksLikeId(fileId, 'f'));
    if (bad !== -1) {
      const before = bad > 0 ? await run(fileIds.slice(0, bad), true) : undefined;
      if (before?.kind === 'consumed' || before?.kind === 'missing') return { record, reply: before, rows };
      throw named(req, fileNotFound(fileIds[bad]), fileIds[bad]);
    }

    const reply = await run(fileIds, dryRun);
    if (reply.kind !== 'ok' && req.items && !dryRun) await this.batches.dropDirectItems(auth.orgId, id);
    return { record, reply, rows };
  }

  /** The API.md error a refusing reply means; `missing` is told apart (expired, consumed meanwhile, unknown). */
  async refusal(auth: AuthContext, req: CreateBatchRequest, reply: Exclude<CreateReply, { kind: 'ok' }>) {
    const fileId = uploadsOf(req)[reply.kind === 'quota' ? 0 : reply.index];
    switch (reply.kind) {
      case 'consumed':
        return named(req, fileAlreadyConsumed(reply.batchId), fileId);
      case 'quota':
        return quotaExceeded(reply);
      case 'missing':
        return named(req, await this.explainMissing(auth, fileId), fileId);
    }
  }

  private async explainMissing(auth: AuthContext, fileId: string): Promise<AppError> {
    const found = await this.tokens.find(auth.orgId, fileId);
    if (found.state === 'consumed') return fileAlreadyConsumed(found.batchId);
    return found.state === 'expired' ? fileExpired(fileId) : fileNotFound(fileId);
  }

  private async validate(items: unknown[], schemaName: string): Promise<ValidatedItems> {
    const schema = this.schemas.get(schemaName);
    if (!schema) throw unknownSchema(schemaName, this.schemas.names());
    try {
      return await validateItems(items, schema);
    } catch (e) {
      if (e instanceof IngestError && e.code === 'file_parsing_failed') throw rowsRefused(e.message, e.rows);
      throw e;
    }
  }
}
