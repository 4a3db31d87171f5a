import { Module } from '@nestjs/common';
import { MetricsController } from './metrics.controller';

/** GET /metrics, on the api process. */
@Module({ controllers: [MetricsController] })
export class MetricsHttpModule {}
