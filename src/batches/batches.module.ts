import { Module } from '@nestjs/common';
import { BatchAdmission } from './batch-admission';
import { BatchController } from './batch.controller';
import { BatchService } from './batch.service';
import { CreateBatch } from './create-batch.usecase';
import { DryRunBatch } from './dry-run-batch.usecase';

/** POST /v1/batch and the batch routes; the repositories come from the global StoreModule. */
@Module({
  controllers: [BatchController],
  providers: [BatchService, BatchAdmission, CreateBatch, DryRunBatch],
})
export class BatchesModule {}
