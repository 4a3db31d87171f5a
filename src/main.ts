import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type Redis from 'ioredis';
import type { AddressInfo } from 'node:net';
import { AppModule } from './app.module';
import { openApiKeyFile } from './auth/api-key-file';
import { configureApp } from './app.setup';
import { type AppConfig, ConfigError, loadConfig } from './config/app-config';
import { preflight } from './bootstrap';
import { SchemaLoadError } from './ingest/schema-registry';
import { armShutdownDeadline } from './lifecycle/shutdown-deadline';
import { prettyLogs } from './logging/logging.module';
import { startupBlock, startupSummary } from './logging/startup-summary';
import { REDIS } from './redis/redis.module';

async function bootstrap(): Promise<void> {
  const config = loadConfig();
  const schemas = await preflight(config);
  // Read before Nest starts, so an unusable file stops the api with one line (workers never read it).
  const keysFile = openApiKeyFile(config);
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config, schemas, keysFile), {
    bodyParser: false,
    bufferLogs: true,
    // Start-up errors reach the catch below, which prints one line instead of a stack.
    abortOnError: false,
  });
  configureApp(app, config);
  armShutdownDeadline(app, {
    timeoutMs: config.shutdownTimeoutMs,
    // At the deadline: cut the remaining connections and drop Redis without waiting for it.
    forceClose: () => {
      app.getHttpServer().closeAllConnections();
      app.get<Redis>(REDIS).disconnect();
    },
  });
  endWithLauncher();
  await app.listen(config.port);
  announce(config, (app.getHttpServer().address() as AddressInfo).port);
}

/**
 * `npm start` (scripts/start.js) runs this process with an IPC channel and in a process group of
 * its own, so a terminal's Ctrl-C reaches the launcher only. If the launcher dies without passing
 * a signal on (SIGKILL, a crash), the channel closes: shut down as on SIGTERM rather than keep the
 * port as an orphan. Nest ignores a second signal while its shutdown runs.
 */
function endWithLauncher(): void {
  if (!process.channel) return;
  process.once('disconnect', () => {
    console.error('batchgate: the npm start launcher is gone: shutting down');
    process.kill(process.pid, 'SIGTERM');
  });
  // The channel alone must not keep the process alive once everything else has closed.
  process.channel.unref();
}

/** Start-up ends with one block: on a terminal for a person, otherwise one JSON line. */
function announce(config: AppConfig, port: number): void {
  const summary = startupSummary(config, port);
  if (prettyLogs(config)) {
    // Written directly, whatever LOG_LEVEL says: without the key the service has no usable credential.
    process.stdout.write(startupBlock(summary));
    return;
  }
  new Logger('batchgate').log({ msg: `api listening on ${summary.url}`, ...summary });
  if (summary.developmentKey && !['info', 'debug', 'trace'].includes(config.logLevel)) {
    console.log(`batchgate: API_KEYS is not set; development key (org "dev", plan "pro"): ${summary.developmentKey}`);
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
