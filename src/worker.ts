import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Logger as PinoLogger } from 'nestjs-pino';
import type Redis from 'ioredis';
import { createServer } from 'node:http';
import { MetricsService } from './metrics/metrics.service';
import { ConfigError, loadConfig } from './config/app-config';
import { preflight } from './bootstrap';
import { SchemaLoadError } from './ingest/schema-registry';
import { armShutdownDeadline } from './lifecycle/shutdown-deadline';
import { REDIS } from './redis/redis.module';
import { WorkerModule } from './worker.module';

async function bootstrap(): Promise<void> {
  const config = loadConfig();
  const schemas = await preflight(config);
  const app = await NestFactory.createApplicationContext(
    WorkerModule.forRoot({ ...config, redisRole: 'worker' }, schemas),
    { abortOnError: false, bufferLogs: true },
  );
  // The same pino logs as the api (JSON lines, or readable lines on a terminal), not Nest's console format.
  app.useLogger(app.get(PinoLogger));
  // SIGTERM: stop taking jobs, finish the chunk in hand, hand the job back, exit.
  app.enableShutdownHooks();
  // ...within SHUTDOWN_TIMEOUT_SECONDS: with Redis unreachable the worker's connection retries forever.
  armShutdownDeadline(app, {
    timeoutMs: config.shutdownTimeoutMs,
    forceClose: () => app.get<Redis>(REDIS).disconnect(),
  });
  if (config.workerMetricsPort) {
    // A worker has no HTTP api; its own counters (items processed, Redis errors) are scraped here.
    const metrics = app.get(MetricsService);
    const server = createServer((req, res) => {
      if (req.url !== '/metrics') return void res.writeHead(404).end();
      metrics.render().then(
        (text) => res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' }).end(text),
        () => res.writeHead(500).end(),
      );
    });
    server.listen(config.workerMetricsPort);
    process.once('SIGTERM', () => server.close());
  }
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
