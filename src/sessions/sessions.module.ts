import { Module } from '@nestjs/common';
import { PartUploadController } from './part-upload.controller';
import { SessionPrecheckGuard } from './session-precheck.guard';
import { UploadSessionsController } from './upload-sessions.controller';
import { UploadSessionsService } from './upload-sessions.service';

/** Upload sessions: large files straight to storage, validated by the workers (API.md, "Upload sessions"). */
@Module({
  controllers: [UploadSessionsController, PartUploadController],
  providers: [UploadSessionsService, SessionPrecheckGuard],
})
export class SessionsModule {}
