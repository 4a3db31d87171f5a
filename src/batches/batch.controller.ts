import { Body, Controller, Get, Headers, HttpCode, Param, Post, Query, Res, StreamableFile } from '@nestjs/common';
import { ApiBody, ApiHeader, ApiOperation, ApiProduces, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Readable } from 'node:stream';
import { ApiV1 } from '../http/api-v1.decorator';
import { schemaRef } from '../http/openapi/schema-kit';
import { ApiErrorResponses, ApiJsonResponse, ApiNdjsonResponse, IDEMPOTENT_REPLAYED } from '../http/openapi/responses';
import { Auth, type AuthContext } from '../auth/auth-context';
import { RequireScope } from '../auth/scopes';
import { intQuery } from '../http/query';
import { AppError } from '../errors/app-error';
import { BATCH_STATUSES, type BatchStatus } from '../store/batch-record';
import { payloadTooLarge } from '../errors/errors';
import { IdempotencyRepository } from '../store/idempotency.repository';
import { assertBatchPlan } from './batch-admission';
import { createdBody, verdictBody } from './batch-answers';
import { BatchService } from './batch.service';
import { parseCreateBatch } from './create-batch.request';
import { CreateBatch } from './create-batch.usecase';
import { DryRunBatch } from './dry-run-batch.usecase';
import { type HttpAnswer, idempotent } from './idempotent';

@ApiTags('batches')
@ApiV1()
@Controller('v1')
export class BatchController {
  constructor(
    private readonly batches: BatchService,
    private readonly createBatch: CreateBatch,
    private readonly dryRun: DryRunBatch,
    private readonly idempotency: IdempotencyRepository,
  ) {}

  @Post('batch')
  @RequireScope('batches:write')
  @ApiOperation({
    summary:
      'Create a batch from an upload (consumed exactly once), from several uploads (fileIds, all or none) or from direct items, under the plan quotas',
  })
  @ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    description: 'At most 255 characters; replays the first response for 24 hours',
  })
  @ApiBody({ schema: schemaRef('CreateBatchRequest') })
  @ApiJsonResponse(202, 'BatchCreated', 'Created and queued', IDEMPOTENT_REPLAYED)
  @ApiJsonResponse(200, 'DryRunVerdict', 'Dry run: the verdict, item count and quota use; nothing consumed')
  @ApiErrorResponses(
    [400, 'validation_error, or file_parsing_failed when no item is valid (with validationErrors)'],
    [402, 'quota_exceeded (details: limit, max, used, requested)'],
    [404, 'file_not_found (with fileIds: details.fileId)'],
    [
      409,
      'file_already_consumed (details.batchId; with fileIds, details.fileId too), or idempotency_conflict (Retry-After)',
    ],
    [410, 'file_expired (with fileIds: details.fileId)'],
    [413, 'payload_too_large'],
    [422, 'idempotency_key_reused'],
  )
  async create(
    @Auth() auth: AuthContext,
    @Body() body: unknown,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ) {
    const size = (res.req as { bodyBytes?: number }).bodyBytes ?? 0;
    if (size > auth.plan.maxFileBytes) throw payloadTooLarge(auth.plan.maxFileBytes);
    if (idempotencyKey !== undefined && idempotencyKey.trim() === '') {
      throw new AppError('validation_error', 'Idempotency-Key must not be empty.');
    }
    const request = parseCreateBatch(body);
    let answer: HttpAnswer;
    if (request.dryRun) {
      // A dry run answers 200 with the verdict the real request would get, refusals included.
      answer = { status: 200, body: verdictBody(await this.dryRun.execute(auth, request)) };
    } else {
      assertBatchPlan(auth); // before the Idempotency-Key is looked at, as a 402 is never stored
      const run = async () => ({ status: 202, body: createdBody(await this.createBatch.execute(auth, request)) });
      answer =
        idempotencyKey === undefined
          ? await run()
          : await idempotent(this.idempotency, auth.orgId, idempotencyKey, body, run);
    }
    res.status(answer.status);
    if (answer.replayed) res.setHeader('Idempotent-Replayed', 'true');
    return answer.body;
  }

  @Get('batch/:id')
  @ApiOperation({ summary: 'A batch and its progress' })
  @ApiJsonResponse(200, 'Batch', 'The batch')
  @ApiErrorResponses([404, 'batch_not_found'])
  get(@Auth() auth: AuthContext, @Param('id') id: string) {
    return this.batches.get(auth, id);
  }

  @Get('batches')
  @ApiJsonResponse(200, 'BatchPage', 'A page of batches, newest first')
  @ApiErrorResponses([400, 'validation_error: bad query parameter'])
  @ApiOperation({ summary: "The organization's batches, newest first" })
  @ApiQuery({ name: 'offset', required: false, schema: { type: 'integer', minimum: 0, default: 0 } })
  @ApiQuery({ name: 'limit', required: false, schema: { type: 'integer', minimum: 1, maximum: 100, default: 20 } })
  @ApiQuery({ name: 'status', required: false, enum: BATCH_STATUSES })
  list(@Auth() auth: AuthContext, @Query() query: Record<string, unknown>) {
    const status = query.status;
    if (status !== undefined && status !== '' && !BATCH_STATUSES.includes(status as BatchStatus)) {
      throw new AppError('validation_error', `Query parameter "status" must be one of ${BATCH_STATUSES.join(', ')}.`);
    }
    return this.batches.list(
      auth,
      intQuery(query.offset, 'offset', 0, 0, Number.MAX_SAFE_INTEGER),
      intQuery(query.limit, 'limit', 20, 1, 100),
      status ? (status as BatchStatus) : undefined,
    );
  }

  @Get('batch/:id/results')
  @ApiNdjsonResponse(
    200,
    'ResultLine',
    'NDJSON: one ResultLine per line, per processed item, in row order (file by file for several files)',
  )
  @ApiErrorResponses([404, 'batch_not_found'])
  @ApiOperation({ summary: 'One NDJSON line per processed item, in row order' })
  @ApiProduces('application/x-ndjson')
  async results(@Auth() auth: AuthContext, @Param('id') id: string) {
    const lines = await this.batches.results(auth, id);
    return new StreamableFile(Readable.from(lines), { type: 'application/x-ndjson' });
  }

  @Post('batch/:id/cancel')
  @HttpCode(202)
  @RequireScope('batches:write')
  @ApiOperation({ summary: 'Cancel: items not yet processed are not processed' })
  @ApiJsonResponse(202, 'Batch', 'The batch, cancelled (a processing batch ends after the chunk in hand)')
  @ApiErrorResponses([404, 'batch_not_found'], [409, 'batch_finished (details.status)'])
  cancel(@Auth() auth: AuthContext, @Param('id') id: string) {
    return this.batches.cancel(auth, id);
  }
}
