import { type DynamicModule, Module } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { LoggerModule } from 'nestjs-pino';
import { authOf } from '../auth/auth-context';
import { requestIdOf } from '../common/request-id';
import { routeOf } from '../common/route-of';
import type { AppConfig } from '../config/app-config';

type Req = IncomingMessage & { originalUrl?: string; route?: { path?: string }; baseUrl?: string };

/**
 * Structured JSON logs (pino): one line per request with requestId, org, route, status and
 * duration. Request headers are never logged (the API key is one), nor bodies or row data.
 */
@Module({})
export class LoggingModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: LoggingModule,
      imports: [
        LoggerModule.forRoot({
          pinoHttp: {
            level: config.logLevel,
            genReqId: (req) => requestIdOf(req as never),
            quietReqLogger: true,
            customAttributeKeys: { reqId: 'requestId', responseTime: 'durationMs' },
            serializers: {
              req: (req: { method?: string; url?: string }) => ({ method: req.method, url: stripQuery(req.url) }),
              res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
            },
            customSuccessObject: (req: IncomingMessage, res: ServerResponse, value: Record<string, unknown>) => ({
              ...value,
              ...requestFields(req, res),
            }),
            customErrorObject: (
              req: IncomingMessage,
              res: ServerResponse,
              _err: Error,
              value: Record<string, unknown>,
            ) => ({
              ...value,
              ...requestFields(req, res),
            }),
            customLogLevel: (_req, res, err) =>
              err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
            customSuccessMessage: (req, res) => `${req.method} ${urlOf(req)} ${res.statusCode}`,
            customErrorMessage: (req, res) => `${req.method} ${urlOf(req)} ${res.statusCode}`,
            redact: { paths: ['req.headers', 'res.headers'], remove: true },
          },
        }),
      ],
    };
  }
}

function requestFields(req: IncomingMessage, res: ServerResponse) {
  const r = req as Req;
  const auth = authOf(r as never);
  return { ...(auth && { orgId: auth.orgId }), route: routeOf(r), status: res.statusCode };
}

function urlOf(req: IncomingMessage): string | undefined {
  return stripQuery((req as Req).originalUrl ?? req.url);
}

function stripQuery(url?: string): string | undefined {
  return url?.split('?')[0];
}
