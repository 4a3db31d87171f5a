import { UseGuards, applyDecorators } from '@nestjs/common';
import { ApiBearerAuth } from '@nestjs/swagger';
import { PlanThrottlerGuard } from '../rate-limit/plan-throttler.guard';
import { ApiKeyGuard } from '../auth/api-key.guard';
import { ApiErrorResponses } from './openapi/responses';

/**
 * What every /v1 controller shares: the API key, then the plan's rate limit (guards run in this
 * order, before any interceptor reads a body), and the answers any of their routes can give.
 */
export function ApiV1(): ClassDecorator {
  return applyDecorators(
    UseGuards(ApiKeyGuard, PlanThrottlerGuard),
    ApiBearerAuth(),
    ApiErrorResponses(
      [401, 'unauthorized: missing or unknown API key (WWW-Authenticate: Bearer)'],
      [429, 'rate_limited: too many requests for the plan (Retry-After)'],
      [503, 'FILE_STORAGE_UNAVAILABLE: storage or Redis unavailable (Retry-After)'],
    ),
  );
}
