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
import { ApiV1 } from '../auth/api-v1.decorator';
import { Auth, type AuthContext } from '../auth/auth-context';
import { rejectedRowsDisposition } from '../common/content-disposition';
import { intQuery } from '../common/query';
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
  @UseGuards(UploadPrecheckGuard)
  @UseInterceptors(MultipartInterceptor)
  @ApiOperation({
    summary:
      'Upload a CSV, JSON or NDJSON file (optionally gzip): validated row by row, answered with a single-use fileId',
  })
  @ApiConsumes('multipart/form-data')
  @ApiBody({
    schema: {
      type: 'object',
      required: ['file'],
      properties: {
        file: { type: 'string', format: 'binary' },
        schema: { type: 'string', default: 'default' },
        format: { type: 'string', enum: ['csv', 'json', 'ndjson'] },
        encoding: { type: 'string', enum: ['utf-8', 'utf-16le', 'utf-16be', 'windows-1252'] },
      },
    },
  })
  @ApiResponse({ status: 200, description: 'Stored; row errors listed as warnings' })
  @ApiResponse({ status: 400, description: 'validation_error or file_parsing_failed' })
  @ApiResponse({ status: 402, description: 'quota_exceeded (plan without batches)' })
  @ApiResponse({ status: 413, description: 'payload_too_large' })
  @ApiResponse({ status: 415, description: 'unsupported_format' })
  @ApiResponse({ status: 503, description: 'FILE_STORAGE_UNAVAILABLE' })
  upload(@Auth() auth: AuthContext, @Req() req: Request) {
    return this.uploads.upload(
      auth,
      req.file as unknown as SpooledFile | undefined,
      (req.body ?? {}) as Record<string, unknown>,
    );
  }

  @Get(':fileId')
  @ApiOperation({ summary: "An upload's metadata and status (available or consumed); reading never consumes" })
  @ApiResponse({ status: 200, description: 'The upload without its error list, with status and batchId' })
  @ApiResponse({ status: 404, description: 'file_not_found' })
  @ApiResponse({ status: 410, description: 'file_expired' })
  get(@Auth() auth: AuthContext, @Param('fileId') fileId: string) {
    return this.uploads.view(auth, fileId);
  }

  @Get(':fileId/errors')
  @ApiResponse({ status: 200, description: '{ data, meta } pages, or text/csv of the rejected rows' })
  @ApiResponse({ status: 400, description: 'validation_error: bad query parameter' })
  @ApiResponse({ status: 404, description: 'file_not_found' })
  @ApiResponse({ status: 410, description: 'file_expired' })
  @ApiOperation({
    summary: 'All row errors in row order; with Accept: text/csv or ?format=csv, the rejected rows as a fixable CSV',
  })
  @ApiQuery({ name: 'offset', required: false })
  @ApiQuery({ name: 'limit', required: false })
  @ApiQuery({ name: 'format', required: false, enum: ['json', 'csv'] })
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
  @ApiResponse({ status: 200, description: '{ items: [{ row, item }], validationErrors }' })
  @ApiResponse({ status: 400, description: 'validation_error: limit over 100' })
  @ApiResponse({ status: 404, description: 'file_not_found' })
  @ApiResponse({ status: 410, description: 'file_expired' })
  @ApiOperation({ summary: 'The first valid items as they will be processed (after coercion), and the first errors' })
  @ApiQuery({ name: 'limit', required: false })
  preview(@Auth() auth: AuthContext, @Param('fileId') fileId: string, @Query('limit') limit: unknown) {
    return this.reader.preview(auth, fileId, intQuery(limit, 'limit', 20, 1, 100));
  }

  @Delete(':fileId')
  @HttpCode(204)
  @ApiOperation({ summary: 'Discard an unconsumed upload and its stored data' })
  @ApiResponse({ status: 204, description: 'Discarded' })
  @ApiResponse({ status: 404, description: 'file_not_found' })
  @ApiResponse({ status: 409, description: 'file_already_consumed' })
  @ApiResponse({ status: 410, description: 'file_expired' })
  async discard(@Auth() auth: AuthContext, @Param('fileId') fileId: string): Promise<void> {
    await this.uploads.discard(auth, fileId);
  }
}
