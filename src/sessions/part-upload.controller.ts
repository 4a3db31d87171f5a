import { Controller, HttpCode, Param, Put, Query, Req, Res } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { PassThrough } from 'node:stream';
import { AppError } from '../errors/app-error';
import { bodyIncomplete, storageNotConfigured } from '../errors/errors';
import { BODY_IDLE } from '../http/body-idle-timeout';
import { ApiErrorResponses, ApiJsonResponse } from '../http/openapi/responses';
import { type PartQuery, UploadSessionsService } from './upload-sessions.service';

/**
 * `PUT /v1/uploads/{uploadId}/parts/{n}?org=&expires=&signature=`: where the local driver's part URLs
 * point. No API key: the signature is the credential (a client that PUTs to S3 sends none either).
 * The body is the part's raw bytes, streamed to storage (no body parser reads it: see raw-body.ts).
 */
@ApiTags('upload sessions')
@Controller('v1/uploads')
export class PartUploadController {
  constructor(private readonly sessions: UploadSessionsService) {}

  @Put(':uploadId/parts/:partNumber')
  @HttpCode(200)
  @ApiOperation({
    summary:
      "One part's bytes, to the URL a session gave (local driver; with s3 the URLs are the store's). No API key: the signature is the credential",
  })
  @ApiQuery({ name: 'org', required: true, schema: { type: 'string' } })
  @ApiQuery({ name: 'expires', required: true, schema: { type: 'integer' }, description: 'Unix seconds' })
  @ApiQuery({ name: 'signature', required: true, schema: { type: 'string' } })
  @ApiConsumes('application/octet-stream')
  @ApiBody({ schema: { type: 'string', format: 'binary' }, description: "Exactly the part's sizeBytes" })
  @ApiJsonResponse(200, 'UploadPartReceived', 'Stored (a part sent again replaces the earlier copy); ETag header')
  @ApiErrorResponses(
    [
      400,
      'size_mismatch: a Content-Length or body of another size than the part; validation_error: the body was cut off',
    ],
    [403, 'signature_invalid: expired, tampered with, or for another part'],
    [404, 'upload_not_found: the session was cancelled'],
    [408, 'request_timeout: the body stopped arriving'],
    [409, 'upload_state: the session is past pending (details.status)'],
    [410, 'upload_expired'],
    [503, 'FILE_STORAGE_UNAVAILABLE: storage or Redis unavailable, or STORAGE_DRIVER=none (Retry-After)'],
  )
  async put(
    @Param('uploadId') uploadId: string,
    @Param('partNumber') partNumber: string,
    @Query() query: PartQuery,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ) {
    if (!this.sessions.takesParts) throw storageNotConfigured();
    // The bytes go through a stream of our own, so that a body that stops arriving (408) or is cut
    // off fails the write, which then keeps nothing, while the request itself stays to be answered.
    const body = new PassThrough({ highWaterMark: 256 * 1024 });
    req.once(BODY_IDLE, (e: Error) => body.destroy(e));
    req.once('error', () => body.destroy(bodyIncomplete()));
    req.once('close', () => {
      if (!req.complete) body.destroy(bodyIncomplete());
    });
    req.pipe(body);
    try {
      const part = await this.sessions.putPart(uploadId, partNumber, query, req.header('content-length'), body);
      res.setHeader('ETag', part.etag);
      return part;
    } catch (e) {
      if (e instanceof AppError) throw e;
      if (req.readableAborted || (e as { code?: string }).code === 'ERR_STREAM_PREMATURE_CLOSE') throw bodyIncomplete();
      throw e;
    }
  }
}
