import { Module } from '@nestjs/common';
import { DashboardController } from './dashboard.controller';

/** GET /dashboard: the validation-preview dashboard, served by the service itself (issue 4). */
@Module({ controllers: [DashboardController] })
export class DashboardModule {}
