import { type DynamicModule, Module } from '@nestjs/common';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { BullBoardModule } from '@bull-board/nestjs';
import type { NextFunction, Request, Response } from 'express';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { AppConfig } from '../config/app-config';
import { AppError } from '../errors/app-error';
import { BATCH_QUEUE_NAME } from '../queue/batch-queue';

export const ADMIN_ROUTE = '/admin/queues';

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * Bull Board needs a browser, which cannot add a Bearer header: the token is accepted as
 * `Authorization: Bearer <token>` or as the password of HTTP Basic auth (any user name).
 */
export function adminAuth(token: string) {
  const expected = digest(token);
  return (req: Request, res: Response, next: NextFunction): void => {
    const header = req.header('authorization') ?? '';
    let given: string | undefined;
    const bearer = /^Bearer\s+(\S+)$/i.exec(header);
    const basic = /^Basic\s+(\S+)$/i.exec(header);
    if (bearer) given = bearer[1];
    else if (basic) given = Buffer.from(basic[1], 'base64').toString('utf8').split(':').slice(1).join(':');
    if (given !== undefined && timingSafeEqual(digest(given), expected)) return next();
    res.setHeader('WWW-Authenticate', 'Basic realm="batchgate admin", charset="UTF-8"');
    next(new AppError('unauthorized', 'The admin token is required (ADMIN_TOKEN).'));
  };
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Browsers keep Basic credentials for a site and send them with a form posted from any other
 * site, so Bull Board's actions (add, retry, clean, pause...) could be triggered cross-site.
 * State-changing requests are refused when the browser says they come from elsewhere: an `Origin`
 * that is not this service's host, or `Sec-Fetch-Site: cross-site`/`same-site`. Scripts and curl
 * send neither and keep working with a token. The scheme is not compared: behind a TLS-terminating
 * proxy the service sees http while the browser's Origin says https.
 */
export function refuseCrossSite(req: Request, _res: Response, next: NextFunction): void {
  if (SAFE_METHODS.has(req.method)) return next();
  const site = req.header('sec-fetch-site')?.toLowerCase();
  const origin = req.header('origin');
  let foreign = site === 'cross-site' || site === 'same-site';
  if (!foreign && origin !== undefined) {
    try {
      foreign = new URL(origin).host !== req.header('host')?.toLowerCase();
    } catch {
      foreign = true; // "null" (sandboxed frames, some redirects) or garbage
    }
  }
  if (!foreign) return next();
  next(
    new AppError('forbidden', 'Cross-site requests to the admin routes are refused.', {
      ...(origin !== undefined && { origin }),
      ...(site && { secFetchSite: site }),
    }),
  );
}

/** Bull Board for the batches queue at /admin/queues, only when ADMIN_TOKEN is set. */
@Module({})
export class AdminModule {
  static forRoot(config: AppConfig): DynamicModule {
    if (!config.adminToken) return { module: AdminModule };
    return {
      module: AdminModule,
      imports: [
        BullBoardModule.forRoot({
          route: ADMIN_ROUTE,
          adapter: ExpressAdapter,
          middleware: [refuseCrossSite, adminAuth(config.adminToken)],
        }),
        BullBoardModule.forFeature({ name: BATCH_QUEUE_NAME, adapter: BullMQAdapter }),
      ],
    };
  }
}
