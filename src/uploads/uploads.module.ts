import { Module } from '@nestjs/common';
import { MultipartInterceptor } from './multipart.interceptor';
import { UploadPrecheckGuard } from './upload-precheck.guard';
import { UploadReaderService } from './upload-reader.service';
import { UploadSweeperService } from './upload-sweeper.service';
import { UploadController } from './upload.controller';
import { UploadService } from './upload.service';

@Module({
  controllers: [UploadController],
  providers: [UploadService, UploadReaderService, UploadSweeperService, UploadPrecheckGuard, MultipartInterceptor],
})
export class UploadsModule {}
