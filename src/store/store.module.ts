import { Global, Module } from '@nestjs/common';
import { BatchDataRepository } from './batch-data.repository';
import { BatchRepository } from './batch.repository';
import { FileTokenRepository } from './file-token.repository';
import { IdempotencyRepository } from './idempotency.repository';
import { UploadSessionRepository } from './upload-session.repository';

/**
 * Everything batchgate keeps, in one place: the repositories over Redis (upload tokens, batches,
 * idempotency records) and over file storage (batch items and results). Each is provided once, here;
 * features inject them and provide none of their own.
 */
@Global()
@Module({
  providers: [
    FileTokenRepository,
    BatchRepository,
    IdempotencyRepository,
    BatchDataRepository,
    UploadSessionRepository,
  ],
  exports: [FileTokenRepository, BatchRepository, IdempotencyRepository, BatchDataRepository, UploadSessionRepository],
})
export class StoreModule {}
