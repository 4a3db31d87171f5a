import { Module } from '@nestjs/common';
import { BatchDataStore } from '../processing/batch-data.store';
import { BatchRepository } from '../tokens/batch.repository';
import { FileTokenRepository } from '../tokens/file-token.repository';
import { BatchController } from './batch.controller';
import { BatchService } from './batch.service';
import { IdempotencyService } from './idempotency.service';

@Module({
  controllers: [BatchController],
  providers: [BatchService, IdempotencyService, BatchRepository, FileTokenRepository, BatchDataStore],
})
export class BatchesModule {}
