import { type DynamicModule, Module } from '@nestjs/common';
import type { AppConfig } from './config/app-config';
import type { SchemaRegistry } from './ingest/schema-registry';
import { ConfigModule } from './config/config.module';
import { AdminModule } from './admin/admin.module';
import type { ApiKeyFile } from './auth/api-key-file';
import { AuthModule } from './auth/auth.module';
import { BatchesModule } from './batches/batches.module';
import { DashboardModule } from './dashboard/dashboard.module';
import { HealthModule } from './health/health.module';
import { IngestPoolModule } from './ingest-pool/ingest-pool.module';
import { IntakeModule } from './intake/intake.module';
import { LifecycleModule } from './lifecycle/lifecycle.module';
import { LoggingModule } from './logging/logging.module';
import { MetricsHttpModule } from './metrics/metrics-http.module';
import { MetricsModule } from './metrics/metrics.module';
import { RateLimitModule } from './rate-limit/rate-limit.module';
import { ProcessingModule } from './processing/processing.module';
import { QueueModule } from './queue/queue.module';
import { RedisModule } from './redis/redis.module';
import { SchemasModule } from './schemas/schemas.module';
import { StorageModule } from './storage/storage.module';
import { StoreModule } from './store/store.module';
import { UploadsModule } from './uploads/uploads.module';
import { SessionsModule } from './sessions/sessions.module';

@Module({})
export class AppModule {
  static forRoot(config: AppConfig, schemas?: SchemaRegistry, keysFile?: ApiKeyFile | null): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        AuthModule.forRoot(config, keysFile),
        LoggingModule.forRoot(config),
        MetricsModule,
        LifecycleModule,
        RedisModule,
        StorageModule,
        StoreModule,
        IntakeModule,
        SchemasModule.forRoot(config, schemas),
        IngestPoolModule.forRoot(config),
        QueueModule,
        RateLimitModule,
        UploadsModule,
        SessionsModule,
        BatchesModule,
        HealthModule,
        DashboardModule,
        MetricsHttpModule,
        AdminModule.forRoot(config),
        // `npm start` runs a worker in the api process, so one machine needs one command.
        ...(config.workerInProcess ? [ProcessingModule] : []),
      ],
    };
  }
}
