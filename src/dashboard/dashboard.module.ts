import { Module } from '@nestjs/common';

/** GET /dashboard: the validation-preview dashboard, served by the service itself (issue 4). */
@Module({})
export class DashboardModule {}
