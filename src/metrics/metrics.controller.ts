import { Controller, Get, Header } from '@nestjs/common';
import { ApiOperation, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import { MetricsService } from './metrics.service';

@ApiTags('service')
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: MetricsService) {}

  @Get()
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  @ApiOperation({ summary: 'Prometheus metrics' })
  @ApiProduces('text/plain')
  // Spelled out rather than through src/http/openapi: adapters do not import the HTTP edge (eslint layers).
  @ApiResponse({
    status: 200,
    description: 'Prometheus text exposition format 0.0.4',
    content: {
      'text/plain': {
        schema: { type: 'string' },
        example: '# TYPE batchgate_uploads_total counter\nbatchgate_uploads_total{format="csv",outcome="accepted"} 1\n',
      },
    },
  })
  scrape(): Promise<string> {
    return this.metrics.render();
  }
}
