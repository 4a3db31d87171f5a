import { Inject, Module, type OnModuleInit } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { BATCH_QUEUE } from '../queue/batch-queue';
import { MetricsController } from './metrics.controller';
import { MetricsService } from './metrics.service';

/** GET /metrics, on the api process, with the batch queue's depth read at each scrape. */
@Module({ controllers: [MetricsController] })
export class MetricsHttpModule implements OnModuleInit {
  constructor(
    private readonly metrics: MetricsService,
    @Inject(BATCH_QUEUE) private readonly queue: Queue,
  ) {}

  onModuleInit(): void {
    this.metrics.onScrape(async () => {
      const counts = await this.queue.getJobCounts('waiting', 'active', 'failed', 'delayed', 'completed');
      for (const [state, n] of Object.entries(counts)) this.metrics.queueJobs.set({ state }, n);
    });
  }
}
