import { type DynamicModule, Module } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { LoggerModule } from 'nestjs-pino';
import type { DestinationStream, LogFn, Logger as PinoInstance } from 'pino';
import type { Options as PinoHttpOptions } from 'pino-http';
import PinoPretty from 'pino-pretty';
import { authOf } from '../auth/auth-context';
import { requestIdOf } from '../common/request-id';
import { routeOf } from '../common/route-of';
import type { AppConfig } from '../config/app-config';

type Req = IncomingMessage & { originalUrl?: string; route?: { path?: string }; baseUrl?: string };

/** Nest's own start-up lines (one per module and route): noise on a terminal, shown at LOG_LEVEL=debug. */
const NEST_STARTUP_CONTEXTS = new Set([
  'NestFactory',
  'InstanceLoader',
  'RoutesResolver',
  'RouterExplorer',
  'NestApplication',
]);

/** Readable lines for a person at a terminal (LOG_FORMAT=auto), JSON lines for everything else. */
export function prettyLogs(config: Pick<AppConfig, 'logFormat'>): boolean {
  return config.logFormat === 'pretty' || (config.logFormat === 'auto' && process.stdout.isTTY === true);
}

/** `12:30:01 INFO  GET /v1/batches 200 3 ms org=acme sub=… id=…`, or `[Context] message`. */
function prettyStream(): DestinationStream {
  return PinoPretty({
    sync: true,
    translateTime: 'SYS:HH:MM:ss',
    ignore: 'pid,hostname,context,req,res,requestId,orgId,sub,keyName,route,status,durationMs',
    messageFormat: (log, messageKey) => {
      const raw = log[messageKey];
      const message = typeof raw === 'string' ? raw : JSON.stringify(raw ?? '');
      if (typeof log.durationMs === 'number') {
        const org = typeof log.orgId === 'string' ? ` org=${log.orgId}` : '';
        const who = typeof log.sub === 'string' ? ` sub=${log.sub}` : '';
        return `${message} ${log.durationMs} ms${org}${who} id=${String(log.requestId)}`;
      }
      return typeof log.context === 'string' ? `[${log.context}] ${message}` : message;
    },
  });
}

/**
 * Structured JSON logs (pino): one line per request with requestId, org, route, status and
 * duration; on a terminal the same records as readable lines (pino-pretty, in-process and
 * synchronous, so nothing is lost at exit). Request headers are never logged (the API key is one),
 * nor bodies or row data.
 */
@Module({})
export class LoggingModule {
  static forRoot(config: AppConfig): DynamicModule {
    const pretty = prettyLogs(config);
    const options: PinoHttpOptions = {
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
      customErrorObject: (req: IncomingMessage, res: ServerResponse, _err: Error, value: Record<string, unknown>) => ({
        ...value,
        ...requestFields(req, res),
      }),
      customLogLevel: (_req, res, err) =>
        err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
      customSuccessMessage: (req, res) => `${req.method} ${urlOf(req)} ${res.statusCode}`,
      customErrorMessage: (req, res) => `${req.method} ${urlOf(req)} ${res.statusCode}`,
      redact: { paths: ['req.headers', 'res.headers'], remove: true },
      ...(pretty && { hooks: { logMethod: quietNestStartup } }),
    };
    return {
      module: LoggingModule,
      imports: [LoggerModule.forRoot({ pinoHttp: pretty ? [options, prettyStream()] : options })],
    };
  }
}

function quietNestStartup(this: PinoInstance, args: Parameters<LogFn>, method: LogFn, level: number): void {
  const first = args[0] as { context?: unknown } | undefined;
  const startup = level === 30 && typeof first?.context === 'string' && NEST_STARTUP_CONTEXTS.has(first.context);
  if (startup && !this.isLevelEnabled('debug')) return;
  method.apply(this, args);
}

function requestFields(req: IncomingMessage, res: ServerResponse) {
  const r = req as Req;
  const auth = authOf(r as never);
  return {
    // Who, never with what: a JWT's `sub` or a keys-file entry's `name`, not the token or the key.
    ...(auth && { orgId: auth.orgId }),
    ...(auth?.subject !== undefined && { sub: auth.subject }),
    ...(auth?.keyName !== undefined && { keyName: auth.keyName }),
    route: routeOf(r),
    status: res.statusCode,
  };
}

function urlOf(req: IncomingMessage): string | undefined {
  return stripQuery((req as Req).originalUrl ?? req.url);
}

function stripQuery(url?: string): string | undefined {
  return url?.split('?')[0];
}
