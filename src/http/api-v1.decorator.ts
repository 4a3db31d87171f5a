import { UseGuards, applyDecorators } from '@nestjs/common';
import { ApiBearerAuth, ApiResponse } from '@nestjs/swagger';
import { PlanThrottlerGuard } from '../rate-limit/plan-throttler.guard';
import { ApiKeyGuard } from '../auth/api-key.guard';

/**
 * What every /v1 controller shares: the API key, then the plan's rate limit (guards run in this
 * order, before any interceptor reads a body), and the answers any of their routes can give.
 */
export function ApiV1(): ClassDecorator {
  return applyDecorators(
    UseGuards(ApiKeyGuard, PlanThrottlerGuard),
    ApiBearerAuth(),
    ApiResponse({ status: 401, description: 'unauthorized: missing or unknown API key' }),
    ApiResponse({ status: 429, description: 'rate_limited (Retry-After)' }),
    ApiResponse({ status: 503, description: 'FILE_STORAGE_UNAVAILABLE: storage or Redis unavailable (Retry-After)' }),
  );
}
