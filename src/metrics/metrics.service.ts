import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Every Prometheus metric of the process, in one registry (not prom-client's global one, so that
 * several app instances in one test process do not collide).
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  readonly httpRequests = new Counter({
    name: 'batchgate_http_requests_total',
    help: 'HTTP requests by method, route and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });
  readonly httpDuration = new Histogram({
    name: 'batchgate_http_request_duration_seconds',
    help: 'HTTP request latency by method, route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly uploadBytes = new Counter({
    name: 'batchgate_upload_bytes_total',
    help: 'Bytes of accepted uploads, as uploaded (compressed for gzip), by format',
    labelNames: ['format'] as const,
    registers: [this.registry],
  });
  readonly uploads = new Counter({
    name: 'batchgate_uploads_total',
    help: 'Upload attempts by detected format and outcome (accepted, or the error code)',
    labelNames: ['format', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly rowsValidated = new Counter({
    name: 'batchgate_rows_validated_total',
    help: 'Rows validated (uploads and direct items), by result',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly rowsRejected = new Counter({
    name: 'batchgate_rows_rejected_total',
    help: 'Rows rejected, by the rule that failed',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });
  readonly batches = new Counter({
    name: 'batchgate_batches_total',
    help: 'Batches created (status queued) and ended (completed, failed, cancelled)',
    labelNames: ['status'] as const,
    registers: [this.registry],
  });
  readonly itemsProcessed = new Counter({
    name: 'batchgate_items_processed_total',
    help: 'Items processed by workers in this process, by result',
    labelNames: ['status'] as const,
    registers: [this.registry],
  });
  readonly tokenConsumptions = new Counter({
    name: 'batchgate_token_consumptions_total',
    help: 'Batch creations from a fileId: consumed, or refused by reason',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly redisErrors = new Counter({
    name: 'batchgate_redis_errors_total',
    help: 'Redis connection errors, by connection',
    labelNames: ['connection'] as const,
    registers: [this.registry],
  });
  readonly queueJobs = new Gauge({
    name: 'batchgate_queue_jobs',
    help: 'Jobs in the batches queue, by state (read at scrape time)',
    labelNames: ['state'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'batchgate_' });
  }

  private readonly beforeScrape: (() => Promise<void>)[] = [];

  /** Registers a reader of live values (queue depth) that runs just before each scrape. */
  onScrape(read: () => Promise<void>): void {
    this.beforeScrape.push(read);
  }

  /** Rows of one validated input (an upload, or a batch's direct items). */
  countRows(r: { itemCount: number; validationErrorCount: number; errorSummary: { code: string; count: number }[] }) {
    this.rowsValidated.inc({ result: 'valid' }, r.itemCount);
    this.rowsValidated.inc({ result: 'rejected' }, r.validationErrorCount);
    for (const { code, count } of r.errorSummary) this.rowsRejected.inc({ code }, count);
  }

  async render(): Promise<string> {
    await Promise.all(this.beforeScrape.map((read) => read().catch(() => undefined)));
    return this.registry.metrics();
  }
}
