import { Controller, Get, Header, Inject } from '@nestjs/common';
import { ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Queue } from 'bullmq';
import { BATCH_QUEUE } from '../queue/batch-queue';
import { MetricsService } from './metrics.service';

@ApiTags('service')
@Controller('metrics')
export class MetricsController {
  constructor(
    private readonly metrics: MetricsService,
    @Inject(BATCH_QUEUE) queue: Queue,
  ) {
    metrics.onScrape = async () => {
      const counts = await queue.getJobCounts('waiting', 'active', 'failed', 'delayed', 'completed');
      for (const [state, n] of Object.entries(counts)) metrics.queueJobs.set({ state }, n);
    };
  }

  @Get()
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  @ApiOperation({ summary: 'Prometheus metrics' })
  @ApiProduces('text/plain')
  scrape(): Promise<string> {
    return this.metrics.render();
  }
}
