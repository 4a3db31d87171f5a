import {
  type DynamicModule,
  Global,
  Inject,
  Injectable,
  Logger,
  Module,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { AppConfig } from '../config/app-config';
import { SchemaRegistry } from '../ingest/schema-registry';
import { DEFAULT_HEAP_MB, IngestPool, defaultIngestPool, setDefaultIngestPool } from '../ingest/pool';

/**
 * The process's ingest pool (src/ingest/pool.ts): started with the app, installed as the pool
 * `ingest()` uses for large files, closed at shutdown. Any Nest app that ingests files (the api;
 * the worker process for upload sessions) imports this module once.
 */
@Injectable()
export class IngestPoolLifecycle implements OnApplicationShutdown {
  private readonly logger = new Logger('IngestPool');

  constructor(@Inject(IngestPool) private readonly pool: IngestPool) {
    pool.on('replaced', (at: number) => this.logger.warn(`ingest pool thread ${at} died and was replaced`));
    pool.on('inThread', (why: string) => this.logger.log(`a file was read in-thread instead: ${why}`));
  }

  async onApplicationShutdown(): Promise<void> {
    if (defaultIngestPool() === this.pool) setDefaultIngestPool(undefined);
    await this.pool.close();
  }
}

@Global()
@Module({})
export class IngestPoolModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: IngestPoolModule,
      providers: [
        {
          provide: IngestPool,
          inject: [SchemaRegistry],
          useFactory: (schemas: SchemaRegistry) => {
            const pool = new IngestPool({
              threads: config.ingestThreads,
              minBytes: config.ingestParallelMinBytes,
              chunkBytes: config.ingestChunkBytes,
              // Room for a few of the largest rows a file may hold (MAX_RECORD_BYTES) beside a chunk's.
              heapMb: Math.max(DEFAULT_HEAP_MB, Math.ceil((16 * config.maxRecordBytes) / (1024 * 1024))),
            });
            if (config.ingestThreads > 0) {
              setDefaultIngestPool(pool);
              pool.warm(
                schemas
                  .names()
                  .slice(0, 8)
                  .flatMap((n) => schemas.get(n)?.source ?? []),
              );
            }
            return pool;
          },
        },
        IngestPoolLifecycle,
      ],
      exports: [IngestPool],
    };
  }
}
