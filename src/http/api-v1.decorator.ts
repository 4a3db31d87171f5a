import { UseGuards, applyDecorators } from '@nestjs/common';
import { ApiBearerAuth } from '@nestjs/swagger';
import { PlanThrottlerGuard } from '../rate-limit/plan-throttler.guard';
import { ApiKeyGuard } from '../auth/api-key.guard';
import { ApiErrorResponses } from './openapi/responses';

/** Every /v1 route's 503s (a route with reasons of its own lists these too). */
export const SERVICE_UNAVAILABLE =
  "FILE_STORAGE_UNAVAILABLE: storage or Redis unavailable, or auth_unavailable: a JWT's signing keys cannot be fetched from AUTH_JWT_JWKS_URL (Retry-After)";

/**
 * What every /v1 controller shares: the credential (API key or JWT) and its scope, then the plan's rate limit (guards run in this
 * order, before any interceptor reads a body), and the answers any of their routes can give.
 */
export function ApiV1(): ClassDecorator {
  return applyDecorators(
    UseGuards(ApiKeyGuard, PlanThrottlerGuard),
    ApiBearerAuth(),
    ApiErrorResponses(
      [
        401,
        'unauthorized: missing or unknown API key, or a JWT that is expired, not yet valid, badly signed, from another issuer or audience, or names no known organization or plan (WWW-Authenticate: Bearer; for a JWT with error="invalid_token" and error_description)',
      ],
      [
        403,
        "forbidden: the credential's scopes do not allow this route (uploads:write for uploads, batches:write to create or cancel batches, read for every GET)",
      ],
      [429, 'rate_limited: too many requests for the plan (Retry-After)'],
      [503, SERVICE_UNAVAILABLE],
    ),
  );
}
