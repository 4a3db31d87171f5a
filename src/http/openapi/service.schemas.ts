import type { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { READINESS_EXAMPLE } from './examples';

/** API.md, "Service routes (no API key)". */

const Health: SchemaObject = {
  type: 'object',
  required: ['status'],
  properties: { status: { type: 'string', enum: ['ok'] } },
  example: { status: 'ok' },
};

const Readiness: SchemaObject = {
  type: 'object',
  required: ['status', 'checks'],
  properties: {
    status: { type: 'string', enum: ['ok'] },
    checks: {
      type: 'object',
      required: ['redis', 'storage'],
      properties: {
        redis: { type: 'string', enum: ['up'] },
        storage: { type: 'string', enum: ['up', 'disabled'], description: 'disabled: STORAGE_DRIVER=none' },
      },
    },
  },
  example: READINESS_EXAMPLE,
};

export const SERVICE_SCHEMAS = { Health, Readiness };
