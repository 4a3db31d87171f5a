import { type DynamicModule, Module } from '@nestjs/common';
import type { AppConfig } from './config/app-config';
import type { SchemaRegistry } from './ingest/schema-registry';
import { ConfigModule } from './config/config.module';
import { LoggingModule } from './logging/logging.module';
import { IngestPoolModule } from './ingest-pool/ingest-pool.module';
import { IntakeModule } from './intake/intake.module';
import { MetricsModule } from './metrics/metrics.module';
import { ProcessingModule } from './processing/processing.module';
import { QueueModule } from './queue/queue.module';
import { RedisModule } from './redis/redis.module';
import { SchemasModule } from './schemas/schemas.module';
import { StorageModule } from './storage/storage.module';
import { StoreModule } from './store/store.module';

/** The worker process: BullMQ consumers only, no HTTP. */
@Module({})
export class WorkerModule {
  static forRoot(config: AppConfig, schemas?: SchemaRegistry): DynamicModule {
    return {
      module: WorkerModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggingModule.forRoot(config),
        MetricsModule,
        RedisModule,
        StorageModule,
        StoreModule,
        IntakeModule,
        SchemasModule.forRoot(config, schemas),
        // Upload sessions are validated here: one large file on every core, as in the api.
        IngestPoolModule.forRoot(config),
        QueueModule,
        ProcessingModule,
      ],
    };
  }
}
