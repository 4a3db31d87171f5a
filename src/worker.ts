import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ConfigError, loadConfig } from './config/app-config';
import { SchemaLoadError } from './ingest/schema-registry';
import { WorkerModule } from './worker.module';

async function bootstrap(): Promise<void> {
  const config = loadConfig();
  const app = await NestFactory.createApplicationContext(WorkerModule.forRoot({ ...config, redisRole: 'worker' }));
  // SIGTERM: stop taking jobs, finish the chunk in hand, hand the job back, exit.
  app.enableShutdownHooks();
  new Logger('batchgate').log(
    `worker started (processor ${config.processor}, concurrency ${config.workerConcurrency})`,
  );
}

bootstrap().catch((e: unknown) => {
  if (e instanceof ConfigError || e instanceof SchemaLoadError)
    console.error(`batchgate: configuration error: ${e.message}`);
  else console.error(`batchgate: worker failed to start: ${(e as Error)?.stack ?? String(e)}`);
  process.exit(1);
});
