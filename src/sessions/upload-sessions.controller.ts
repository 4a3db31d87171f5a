import { Body, Controller, Delete, Get, HttpCode, Param, Post, Req, Res, UseGuards } from '@nestjs/common';
import { ApiBody, ApiHeader, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { Auth, type AuthContext } from '../auth/auth-context';
import { RequireScope } from '../auth/scopes';
import { ApiV1 } from '../http/api-v1.decorator';
import { ApiErrorResponses, ApiJsonResponse } from '../http/openapi/responses';
import { schemaRef } from '../http/openapi/schema-kit';
import { preferredWait } from './session-request';
import { SessionPrecheckGuard } from './session-precheck.guard';
import { UploadSessionsService } from './upload-sessions.service';

/** The service's address as clients reach it: PUBLIC_URL, else the scheme and Host of this request. */
export function baseUrlOf(req: Request, publicUrl: string | undefined): string {
  if (publicUrl) return publicUrl;
  // Behind a load balancer that ends TLS, the scheme the client used is its X-Forwarded-Proto. Taken
  // as said: it names only the URLs handed back to this same caller, as Host does.
  const forwarded = req.get('x-forwarded-proto')?.split(',')[0].trim().toLowerCase();
  const scheme = forwarded === 'https' || forwarded === 'http' ? forwarded : req.protocol;
  return `${scheme}://${req.get('host') ?? 'localhost'}`;
}

// Guards listed above ApiV1 run after it (decorators apply bottom-up): the key first, then the precheck.
@ApiTags('upload sessions')
@UseGuards(SessionPrecheckGuard)
@ApiV1()
@Controller('v1/uploads')
export class UploadSessionsController {
  constructor(private readonly sessions: UploadSessionsService) {}

  @Post()
  @HttpCode(201)
  @RequireScope('uploads:write')
  @ApiOperation({
    summary: 'Start upload sessions: signed part URLs for one or several large files, checked before any is signed',
  })
  @ApiBody({ schema: schemaRef('UploadSessionRequest') })
  @ApiJsonResponse(201, 'UploadSessionsCreated', 'At least one session created; refused files in `errors`')
  @ApiErrorResponses(
    [400, 'validation_error (a bad file entry, path, schema, format or encoding; too many files)'],
    [402, 'quota_exceeded (plan without batches)'],
    [413, 'payload_too_large: a declared size over the plan; every file refused: details.files'],
  )
  create(@Auth() auth: AuthContext, @Body() body: unknown, @Req() req: Request) {
    return this.sessions.create(auth, body, baseUrlOf(req, this.sessions.publicUrl));
  }

  @Post(':uploadId/parts')
  @HttpCode(200)
  @RequireScope('uploads:write')
  @ApiOperation({ summary: 'Fresh part URLs for a pending session: the parts named, or every part not received yet' })
  @ApiBody({ schema: schemaRef('UploadSessionPartsRequest'), required: false })
  @ApiJsonResponse(200, 'UploadSessionParts', 'Signed part URLs')
  @ApiErrorResponses(
    [400, 'validation_error: bad partNumbers'],
    [404, 'upload_not_found'],
    [409, 'upload_state: the session is past pending (details.status)'],
    [410, 'upload_expired'],
  )
  parts(@Auth() auth: AuthContext, @Param('uploadId') uploadId: string, @Body() body: unknown, @Req() req: Request) {
    return this.sessions.parts(auth, uploadId, body, baseUrlOf(req, this.sessions.publicUrl));
  }

  @Get(':uploadId')
  @ApiOperation({ summary: "A session's state: parts received (to resume), validation progress, the result or error" })
  @ApiJsonResponse(200, 'UploadSession', 'The session')
  @ApiErrorResponses([404, 'upload_not_found'], [410, 'upload_expired'])
  get(@Auth() auth: AuthContext, @Param('uploadId') uploadId: string) {
    return this.sessions.get(auth, uploadId);
  }

  @Post(':uploadId/complete')
  @RequireScope('uploads:write')
  @ApiOperation({
    summary: 'Every part sent: validate the file (by the workers); with Prefer: wait=N, wait up to N s for the end',
  })
  @ApiHeader({
    name: 'Prefer',
    required: false,
    description: 'wait=N (N ≤ 60): answer 200 with the final state if validation ends by then',
  })
  @ApiBody({ schema: schemaRef('UploadSessionCompleteRequest'), required: false })
  @ApiJsonResponse(202, 'UploadSession', 'Validating')
  @ApiJsonResponse(200, 'UploadSession', 'Ended (ready or failed) by the time of the answer')
  @ApiErrorResponses(
    [400, 'validation_error: a bad parts list'],
    [404, 'upload_not_found'],
    [409, 'upload_incomplete: parts missing or short (details.missingParts)'],
    [410, 'upload_expired'],
  )
  async complete(
    @Auth() auth: AuthContext,
    @Param('uploadId') uploadId: string,
    @Body() body: unknown,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ) {
    const wait = preferredWait(req.header('prefer'));
    const { status, view } = await this.sessions.complete(auth, uploadId, body, wait);
    if (wait > 0) res.setHeader('Preference-Applied', `wait=${wait}`);
    res.status(status);
    return view;
  }

  @Delete(':uploadId')
  @HttpCode(204)
  @RequireScope('uploads:write')
  @ApiOperation({
    summary: 'Cancel a session: parts deleted, validation stopped; a ready one as a discard of its fileId',
  })
  @ApiResponse({ status: 204, description: 'Cancelled (no body)' })
  @ApiErrorResponses(
    [404, 'upload_not_found'],
    [409, "file_already_consumed: the ready session's fileId made a batch (details.batchId)"],
    [410, 'upload_expired, or file_expired for a ready session whose fileId expired'],
  )
  async cancel(@Auth() auth: AuthContext, @Param('uploadId') uploadId: string): Promise<void> {
    await this.sessions.cancel(auth, uploadId);
  }
}
