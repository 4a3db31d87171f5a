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
import { IngestPool, defaultIngestPool, setDefaultIngestPool } from '../ingest/pool';

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
          useFactory: () => {
            const pool = new IngestPool({
              threads: config.ingestThreads,
              minBytes: config.ingestParallelMinBytes,
              chunkBytes: config.ingestChunkBytes,
            });
            if (config.ingestThreads > 0) setDefaultIngestPool(pool);
            return pool;
          },
        },
        IngestPoolLifecycle,
      ],
      exports: [IngestPool],
    };
  }
}
