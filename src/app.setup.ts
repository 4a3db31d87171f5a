import type { NestExpressApplication } from '@nestjs/platform-express';
import type { Request } from 'express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Logger } from 'nestjs-pino';
import { bodyIdleTimeout } from './http/body-idle-timeout';
import { onClientError } from './http/client-error';
import { requestIdMiddleware } from './common/request-id';
import { bodyEncodingMiddleware } from './http/body-encoding';
import { isRawBodyRequest } from './http/raw-body';
import { DrainService } from './lifecycle/drain.service';
import { httpMetricsMiddleware } from './metrics/http-metrics.middleware';
import { MetricsService } from './metrics/metrics.service';
import type { AppConfig } from './config/app-config';
import { AppExceptionFilter } from './errors/app-exception.filter';
import { completeDocument } from './http/openapi/document';

import { JSON_BODY_LIMIT_BYTES as JSON_BODY_LIMIT } from './common/limits';

/** Everything main.ts and the end-to-end tests share, so the tests run the app as it ships. */
export function configureApp(app: NestExpressApplication, config: AppConfig): void {
  app.disable('x-powered-by');
  app.useLogger(app.get(Logger));
  // Parser errors and Node's own timeouts never reach Express: answer them with the envelope too.
  const server = app.getHttpServer();
  server.on('clientError', onClientError);
  server.keepAliveTimeout = config.keepAliveTimeoutMs;
  // Headers of a reused connection's next request may take as long as the idle wait before them.
  server.headersTimeout = Math.max(server.headersTimeout, config.keepAliveTimeoutMs + 1000);
  app.use(requestIdMiddleware);
  app.use(bodyIdleTimeout(config.bodyIdleTimeoutMs));
  app.use(app.get(DrainService).track);
  app.use(httpMetricsMiddleware(app.get(MetricsService)));
  app.use(bodyEncodingMiddleware);
  app.useBodyParser('json', {
    limit: JSON_BODY_LIMIT,
    // A part of an upload session is raw bytes (a JSON file sent as application/json too).
    type: (req: Request) => !isRawBodyRequest(req) && Boolean(req.is('application/json')),
    // Remember the body's real size: a chunked body has no Content-Length to check against the plan.
    verify: (req: { bodyBytes?: number }, _res: unknown, buf: Buffer) => {
      req.bodyBytes = buf.length;
    },
  });
  app.useGlobalFilters(new AppExceptionFilter());
  app.enableShutdownHooks();

  const doc = new DocumentBuilder()
    .setTitle('batchgate')
    .setDescription(
      'Bulk data intake: upload a file, get row-level validation warnings and a single-use fileId, create a batch.',
    )
    .setVersion('1')
    .addBearerAuth({
      type: 'http',
      scheme: 'bearer',
      description:
        "An API key, or a JWT from the platform's identity provider when AUTH_JWT_* is configured. Scopes (API keys in API_KEYS_FILE, a JWT's `scope` claim): uploads:write, batches:write, read; a credential without scopes may do everything its plan allows.",
    })
    // Relative: the document is right wherever the service is reached (behind a proxy, on any port).
    .addServer('/', 'This service')
    .build();
  const docs = { ui: 'docs', json: 'docs-json', yaml: 'docs-yaml' };
  const document = completeDocument(SwaggerModule.createDocument(app, doc), docs);
  SwaggerModule.setup(docs.ui, app, document, { jsonDocumentUrl: docs.json, yamlDocumentUrl: docs.yaml });
}
