import type { NextFunction, Request, Response } from 'express';
import { routeOf } from '../common/route-of';
import type { MetricsService } from './metrics.service';

/** Counts and times every request by its route pattern (never the raw path: ids would explode the labels). */
export function httpMetricsMiddleware(metrics: MetricsService) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const start = process.hrtime.bigint();
    res.once('finish', () => {
      const route = routeOf(req as { route?: { path?: unknown }; baseUrl?: string });
      const labels = { method: req.method, route, status: String(res.statusCode) };
      metrics.httpRequests.inc(labels);
      metrics.httpDuration.observe(labels, Number(process.hrtime.bigint() - start) / 1e9);
    });
    next();
  };
}
