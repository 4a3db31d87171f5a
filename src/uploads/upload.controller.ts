import {
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Post,
  Query,
  Req,
  StreamableFile,
  UseGuards,
  UseInterceptors,
} from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiOperation, ApiProduces, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { ApiV1 } from '../http/api-v1.decorator';
import { schemaRef } from '../http/openapi/schema-kit';
import { ApiErrorResponses, ApiJsonResponse } from '../http/openapi/responses';
import { REJECTED_ROWS_CSV_EXAMPLE } from '../http/openapi/examples';
import { Auth, type AuthContext } from '../auth/auth-context';
import { RequireScope } from '../auth/scopes';
import { rejectedRowsDisposition } from '../common/content-disposition';
import { intQuery } from '../http/query';
import { AppError } from '../errors/app-error';
import { MultipartInterceptor } from './multipart.interceptor';
import type { SpooledFile } from './spool-storage.engine';
import { UploadPrecheckGuard } from './upload-precheck.guard';
import { UploadReaderService } from './upload-reader.service';
import { UploadService } from './upload.service';

@ApiTags('uploads')
@ApiV1()
@Controller('v1/batch/upload')
export class UploadController {
  constructor(
    private readonly uploads: UploadService,
    private readonly reader: UploadReaderService,
  ) {}

  @Post()
  @HttpCode(200)
  @RequireScope('uploads:write')
  @UseGuards(UploadPrecheckGuard)
  @UseInterceptors(MultipartInterceptor)
  @ApiOperation({
    summary:
      'Upload one or several CSV, JSON or NDJSON files (optionally gzip): each validated row by row, answered with a single-use fileId',
    description:
      "One file part: the single-file body (Upload). Two or more: each file answered on its own (SeveralUploads), 200 when at least one was accepted; when every file is refused, the first refusal's status and envelope with `error.details.files` listing each refusal.",
  })
  @ApiConsumes('multipart/form-data')
  @ApiBody({ schema: schemaRef('UploadForm') })
  @ApiJsonResponse(
    200,
    'UploadResult',
    'Stored (one file), or at least one of several files stored; row errors listed as warnings',
  )
  @ApiErrorResponses(
    [
      400,
      'validation_error (no file part; a bad path: details { field, path }; more files than maxFilesPerRequest: details { limit, max }), or file_parsing_failed (with validationErrors); every file refused: details.files',
    ],
    [402, 'quota_exceeded (plan without batches)'],
    [413, 'payload_too_large; every file refused: details.files'],
    [415, 'unsupported_format; every file refused: details.files'],
    [
      503,
      "FILE_STORAGE_UNAVAILABLE: file storage not configured, or storage or Redis unavailable, or auth_unavailable: a JWT's signing keys cannot be fetched (Retry-After)",
    ],
  )
  upload(@Auth() auth: AuthContext, @Req() req: Request) {
    // multer groups the parts by field name; `index` gives them back their order in the body.
    const parts = Object.values((req.files ?? {}) as unknown as Record<string, SpooledFile[]>)
      .flat()
      .sort((a, b) => a.index - b.index);
    return this.uploads.upload(auth, parts, (req.body ?? {}) as Record<string, unknown>);
  }

  @Get(':fileId')
  @ApiOperation({ summary: "An upload's metadata and status (available or consumed); reading never consumes" })
  @ApiJsonResponse(200, 'UploadView', 'The upload without its error list, with status and batchId')
  @ApiErrorResponses([404, 'file_not_found'], [410, 'file_expired'])
  get(@Auth() auth: AuthContext, @Param('fileId') fileId: string) {
    return this.uploads.view(auth, fileId);
  }

  @Get(':fileId/errors')
  @ApiResponse({
    status: 200,
    description: 'A page of row errors (JSON), or the rejected rows as a CSV (text/csv)',
    content: {
      'application/json': { schema: schemaRef('RowErrorPage') },
      'text/csv': { schema: { type: 'string' }, example: REJECTED_ROWS_CSV_EXAMPLE },
    },
  })
  @ApiErrorResponses([400, 'validation_error: bad query parameter'], [404, 'file_not_found'], [410, 'file_expired'])
  @ApiOperation({
    summary: 'All row errors in row order; with Accept: text/csv or ?format=csv, the rejected rows as a fixable CSV',
  })
  @ApiQuery({ name: 'offset', required: false, schema: { type: 'integer', minimum: 0, default: 0 } })
  @ApiQuery({ name: 'limit', required: false, schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } })
  @ApiQuery({ name: 'format', required: false, enum: ['json', 'csv'], description: 'csv: as Accept: text/csv' })
  @ApiProduces('application/json', 'text/csv')
  async errors(
    @Auth() auth: AuthContext,
    @Param('fileId') fileId: string,
    @Query() query: Record<string, unknown>,
    @Req() req: Request,
  ) {
    const format = query.format;
    if (format !== undefined && format !== 'csv' && format !== 'json') {
      throw new AppError('validation_error', 'Query parameter "format" must be json or csv.');
    }
    const wantsCsv = format === 'csv' || (format === undefined && /\btext\/csv\b/i.test(req.header('accept') ?? ''));
    if (!wantsCsv) {
      const offset = intQuery(query.offset, 'offset', 0, 0, Number.MAX_SAFE_INTEGER);
      const limit = intQuery(query.limit, 'limit', 100, 1, 1000);
      return this.reader.errors(auth, fileId, offset, limit);
    }
    const { record, body } = await this.reader.errorsCsv(auth, fileId);
    return new StreamableFile(body, {
      type: 'text/csv; charset=utf-8',
      disposition: rejectedRowsDisposition(record.originalFileName),
    });
  }

  @Get(':fileId/preview')
  @ApiJsonResponse(200, 'UploadPreview', 'The first valid items, and the first row errors')
  @ApiErrorResponses([400, 'validation_error: limit over 100'], [404, 'file_not_found'], [410, 'file_expired'])
  @ApiOperation({ summary: 'The first valid items as they will be processed (after coercion), and the first errors' })
  @ApiQuery({ name: 'limit', required: false, schema: { type: 'integer', minimum: 1, maximum: 100, default: 20 } })
  preview(@Auth() auth: AuthContext, @Param('fileId') fileId: string, @Query('limit') limit: unknown) {
    return this.reader.preview(auth, fileId, intQuery(limit, 'limit', 20, 1, 100));
  }

  @Delete(':fileId')
  @HttpCode(204)
  @RequireScope('uploads:write')
  @ApiOperation({ summary: 'Discard an unconsumed upload and its stored data' })
  @ApiResponse({ status: 204, description: 'Discarded (no body)' })
  @ApiErrorResponses([404, 'file_not_found'], [409, 'file_already_consumed (details.batchId)'], [410, 'file_expired'])
  async discard(@Auth() auth: AuthContext, @Param('fileId') fileId: string): Promise<void> {
    await this.uploads.discard(auth, fileId);
  }
}
