import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Queue } from 'bullmq';
import type { AuthContext } from '../auth/auth-context';
import { looksLikeId } from '../common/query';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { AppError, type RowErrorsBody } from '../errors/app-error';
import { IngestError } from '../ingest/types';
import { validateItems } from '../ingest/validate-items';
import { SchemaRegistry } from '../ingest/schema-registry';
import { MetricsService } from '../metrics/metrics.service';
import { BatchDataStore } from '../processing/batch-data.store';
import { retentionSeconds } from '../processing/batch.processor';
import { BATCH_QUEUE, type BatchJobData, batchJobOptions } from '../queue/batch-queue';
import { type BatchRecord, type BatchStatus, type BatchView, toBatchView } from '../tokens/batch-record';
import { BatchRepository, type CreateReply } from '../tokens/batch.repository';
import { FileTokenRepository } from '../tokens/file-token.repository';
import { uploadObjects } from '../tokens/upload-record';
import { BATCH_NOT_ON_PLAN } from '../uploads/upload-precheck.guard';
import { ingestErrorToAppError, newId, requireRecord } from '../uploads/upload.service';
import { type CreateBatchRequest, parseCreateBatch } from './create-batch.request';
import { IdempotencyService } from './idempotency.service';

export interface HttpResult {
  status: number;
  body: unknown;
  replayed?: boolean;
}

const CHUNK_SIZE = { accept: 1000, webhook: 100 } as const;

@Injectable()
export class BatchService {
  private readonly logger = new Logger(BatchService.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(BATCH_QUEUE) private readonly queue: Queue<BatchJobData>,
    private readonly batches: BatchRepository,
    private readonly tokens: FileTokenRepository,
    private readonly schemas: SchemaRegistry,
    private readonly idempotency: IdempotencyService,
    private readonly data: BatchDataStore,
    private readonly metrics: MetricsService,
  ) {}

  /** POST /v1/batch, with the Idempotency-Key protocol around it. */
  async create(auth: AuthContext, body: unknown, idempotencyKey?: string): Promise<HttpResult> {
    const request = parseCreateBatch(body);
    // A dry run answers 200 with the verdict the real request would get, refusals included.
    if (request.dryRun) return this.dryRun(auth, request);
    this.requireBatchPlan(auth);
    if (idempotencyKey === undefined) return this.createOnce(auth, request);
    const started = await this.idempotency.start(auth.orgId, idempotencyKey, body);
    if (started.kind === 'replay') return { status: started.status, body: started.body, replayed: true };
    try {
      const result = await this.createOnce(auth, request);
      await this.idempotency.succeed(auth.orgId, idempotencyKey, started.hash, result.status, result.body);
      return result;
    } catch (e) {
      await this.idempotency.fail(auth.orgId, idempotencyKey).catch(() => undefined);
      throw e;
    }
  }

  private requireBatchPlan(auth: AuthContext): void {
    if (!auth.plan.batchEnabled) {
      throw new AppError('quota_exceeded', BATCH_NOT_ON_PLAN(auth.plan.name), {
        limit: 'batchEnabled',
        plan: auth.plan.name,
      });
    }
  }

  private async dryRun(auth: AuthContext, req: CreateBatchRequest): Promise<HttpResult> {
    try {
      this.requireBatchPlan(auth);
      return await this.createOnce(auth, req);
    } catch (e) {
      // A malformed request is not a verdict: it stays a 400, as does a fault (5xx).
      if (!(e instanceof AppError) || e.code === 'validation_error' || e.status >= 500) throw e;
      return {
        status: 200,
        body: {
          dryRun: true,
          verdict: 'refused',
          status: e.status,
          error: { code: e.code, message: e.message, ...(e.details && { details: e.details }) },
          ...(req.fileId !== undefined && { fileId: req.fileId }),
          ...(e.rows ?? {}),
        },
      };
    }
  }

  private async createOnce(auth: AuthContext, req: CreateBatchRequest): Promise<HttpResult> {
    const now = new Date();
    const id = newId('b');
    const base: Omit<BatchRecord, 'itemCount'> = {
      id,
      orgId: auth.orgId,
      name: req.name,
      status: 'queued',
      processedCount: 0,
      succeededCount: 0,
      failedCount: 0,
      sourceType: req.fileId !== undefined ? 'file' : 'items',
      fileId: req.fileId ?? null,
      originalFileName: null,
      metadata: req.metadata,
      createdAt: now.toISOString(),
      startedAt: null,
      completedAt: null,
      error: null,
      usageMonth: now.toISOString().slice(0, 7),
      itemsStore: req.fileId !== undefined ? 'storage' : 'redis',
      itemsKey: req.fileId !== undefined ? uploadObjects(auth.orgId, req.fileId).items : '',
      chunkSize: CHUNK_SIZE[this.config.processor],
      nextChunk: 0,
    };
    let itemCount = 0;
    let rows: RowErrorsBody | undefined;
    if (req.items) {
      const direct = await this.validateItems(req.items, req.schema);
      itemCount = direct.itemCount;
      this.metrics.rowsValidated.inc({ result: 'valid' }, direct.itemCount);
      this.metrics.rowsValidated.inc({ result: 'rejected' }, direct.validationErrorCount);
      for (const { code, count } of direct.errorSummary) this.metrics.rowsRejected.inc({ code }, count);
      rows = {
        validationErrors: direct.validationErrors,
        validationErrorCount: direct.validationErrorCount,
        validationErrorsTruncated: direct.validationErrorsTruncated,
        errorSummary: direct.errorSummary,
      };
      if (!req.dryRun)
        await this.batches.putDirectItems(auth.orgId, id, direct.ndjson, retentionSeconds(this.config) + 86400);
    } else if (!looksLikeId(req.fileId!, 'f')) {
      throw new AppError('file_not_found', `File ${req.fileId!.slice(0, 64)} not found.`);
    }

    const reply = await this.batches.create({
      record: base,
      itemCount,
      limits: auth.plan,
      tombstoneTtlSeconds: retentionSeconds(this.config),
      dryRun: req.dryRun,
    });
    if (reply.kind !== 'ok' && req.items && !req.dryRun) await this.batches.dropDirectItems(auth.orgId, id);

    if (req.dryRun) return this.dryRunVerdict(auth, req, reply, rows);
    let count: number;
    try {
      if (reply.kind === 'missing') await this.explainMissing(auth, req.fileId!);
      count = this.accept(req, reply);
    } catch (e) {
      if (req.fileId !== undefined && e instanceof AppError) {
        const outcome = e.code === 'quota_exceeded' ? `quota_${String(e.details?.limit)}` : e.code;
        this.metrics.tokenConsumptions.inc({ outcome });
      }
      throw e;
    }
    if (req.fileId !== undefined) this.metrics.tokenConsumptions.inc({ outcome: 'consumed' });
    this.metrics.batches.inc({ status: 'queued' });
    try {
      await this.queue.add('batch', { orgId: auth.orgId, batchId: id }, batchJobOptions(id));
    } catch (e) {
      // The batch is recorded as queued: the worker's sweep enqueues it. The client still gets its 202.
      this.logger.warn(`enqueue of batch ${id} failed, left to the sweep: ${(e as Error).message}`);
    }
    return {
      status: 202,
      body: {
        id,
        status: 'queued',
        itemCount: count,
        ...(req.fileId !== undefined && { fileId: req.fileId }),
        createdAt: base.createdAt,
        ...(rows && (rows.validationErrorCount ?? 0) > 0 && rows),
      },
    };
  }

  /** The item count of a created batch, or the API.md error for a refusal. */
  private accept(req: CreateBatchRequest, reply: CreateReply): number {
    switch (reply.kind) {
      case 'ok':
        return reply.itemCount;
      case 'consumed':
        throw new AppError('file_already_consumed', 'This file was already used to create a batch.', {
          batchId: reply.batchId,
        });
      case 'quota':
        throw this.quotaError(reply);
      case 'missing':
        throw new AppError('file_not_found', `File ${req.fileId} not found.`); // refined by the caller's lookup
    }
  }

  /** The dry run's answer: accepted with the quota it would use, or the refusal the real request would get. */
  private async dryRunVerdict(
    auth: AuthContext,
    req: CreateBatchRequest,
    reply: CreateReply,
    rows?: RowErrorsBody,
  ): Promise<HttpResult> {
    if (reply.kind === 'missing') await this.explainMissing(auth, req.fileId!);
    if (reply.kind === 'consumed') this.accept(req, reply);
    const usage = reply as Extract<CreateReply, { kind: 'ok' | 'quota' }>;
    const plan = auth.plan;
    const quota = {
      maxItemsPerBatch: plan.maxItemsPerBatch,
      maxItemsPerMonth: plan.maxItemsPerMonth,
      usedThisMonth: usage.usedThisMonth,
      wouldUse: usage.itemCount,
      remainingThisMonth:
        plan.maxItemsPerMonth === null ? null : plan.maxItemsPerMonth - usage.usedThisMonth - usage.itemCount,
      activeBatches: usage.activeBatches,
      maxConcurrentBatches: plan.maxConcurrentBatches,
    };
    const rest = {
      itemCount: usage.itemCount,
      ...(req.fileId !== undefined && { fileId: req.fileId }),
      quota,
      ...(rows && (rows.validationErrorCount ?? 0) > 0 && rows),
    };
    if (usage.kind === 'ok') return { status: 200, body: { dryRun: true, verdict: 'accepted', status: 202, ...rest } };
    const refusal = this.quotaError(usage);
    return {
      status: 200,
      body: {
        dryRun: true,
        verdict: 'refused',
        status: refusal.status,
        error: { code: refusal.code, message: refusal.message, details: refusal.details },
        ...rest,
      },
    };
  }

  private quotaError(reply: Extract<CreateReply, { kind: 'quota' }>): AppError {
    return new AppError('quota_exceeded', quotaMessage(reply), {
      limit: reply.limit,
      max: reply.max,
      used: reply.used,
      requested: reply.requested,
    });
  }

  /** The creation script found no live upload: expired (410), consumed meanwhile (409), or unknown (404). */
  private async explainMissing(auth: AuthContext, fileId: string): Promise<never> {
    const found = requireRecord(await this.tokens.find(auth.orgId, fileId), fileId);
    if (found.state === 'consumed') {
      throw new AppError('file_already_consumed', 'This file was already used to create a batch.', {
        batchId: found.batchId,
      });
    }
    throw new AppError('file_not_found', `File ${fileId} not found.`);
  }

  private async validateItems(items: unknown[], schemaName: string) {
    const schema = this.schemas.get(schemaName);
    if (!schema)
      throw new AppError(
        'validation_error',
        `Unknown schema "${schemaName}". Known schemas: ${this.schemas.names().join(', ')}.`,
      );
    try {
      return await validateItems(items, schema);
    } catch (e) {
      if (e instanceof IngestError) throw ingestErrorToAppError(e);
      throw e;
    }
  }

  async get(auth: AuthContext, id: string): Promise<BatchView> {
    return toBatchView(await this.record(auth, id));
  }

  private async record(auth: AuthContext, id: string): Promise<BatchRecord> {
    const batch = looksLikeId(id, 'b') ? await this.batches.get(auth.orgId, id) : null;
    if (!batch) throw new AppError('batch_not_found', `Batch ${id.slice(0, 64)} not found.`);
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
    if (outcome === 'missing') throw new AppError('batch_not_found', `Batch ${id} not found.`);
    if (outcome === 'finished') {
      throw new AppError('batch_finished', `Batch ${id} has already ended (${previous}).`, { status: previous });
    }
    // A queued batch has no worker on it: end it now. A processing one is ended by its worker after the chunk in hand.
    if (previous === 'queued') await this.batches.finish(batch, 'cancelled', null, retentionSeconds(this.config));
    return this.get(auth, id);
  }
}

function quotaMessage(reply: Extract<CreateReply, { kind: 'quota' }>): string {
  switch (reply.limit) {
    case 'maxItemsPerBatch':
      return `This batch has ${reply.requested} items; your plan allows at most ${reply.max} per batch.`;
    case 'maxItemsPerMonth':
      return `This batch would use ${reply.requested} items, but only ${Math.max(0, reply.max - reply.used)} of your plan's ${reply.max} remain this month.`;
    case 'maxConcurrentBatches':
      return `Your plan allows ${reply.max} batches in progress at once; wait for one to finish.`;
  }
}
