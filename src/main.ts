import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule } from './app.module';
import { configureApp } from './app.setup';
import { ConfigError, loadConfig } from './config/app-config';
import { preflight } from './bootstrap';
import { SchemaLoadError } from './ingest/schema-registry';

async function bootstrap(): Promise<void> {
  const config = loadConfig();
  const schemas = await preflight(config);
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config, schemas), {
    bodyParser: false,
    bufferLogs: true,
    // Start-up errors reach the catch below, which prints one line instead of a stack.
    abortOnError: false,
  });
  configureApp(app, config);
  await app.listen(config.port);
  const logger = new Logger('batchgate');
  logger.log(`api listening on http://127.0.0.1:${config.port} (docs at /docs, dashboard at /dashboard)`);
  if (config.generatedDevKey) {
    // Printed directly, whatever LOG_LEVEL says: without it the service has no usable key.
    console.log(`batchgate: API_KEYS is not set; development key (org "dev", plan "pro"): ${config.generatedDevKey}`);
  }
}

bootstrap().catch((e: unknown) => {
  // A bad configuration stops the process with one clear line naming the variable (API.md).
  if (e instanceof ConfigError || e instanceof SchemaLoadError) {
    console.error(`batchgate: configuration error: ${e.message}`);
  } else {
    console.error(`batchgate: failed to start: ${(e as Error)?.stack ?? String(e)}`);
  }
  process.exit(1);
});
