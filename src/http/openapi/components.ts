import type { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { BATCH_SCHEMAS } from './batch.schemas';
import { ERROR_SCHEMAS } from './error.schemas';
import type { SchemaName } from './schema-kit';
import { SERVICE_SCHEMAS } from './service.schemas';
import { SESSION_SCHEMAS } from './session.schemas';
import { UPLOAD_SCHEMAS } from './upload.schemas';

/** `components.schemas` of the OpenAPI document: every body the API sends or takes, by name. */
export const COMPONENT_SCHEMAS = {
  ...UPLOAD_SCHEMAS,
  ...BATCH_SCHEMAS,
  ...ERROR_SCHEMAS,
  ...SERVICE_SCHEMAS,
  ...SESSION_SCHEMAS,
} satisfies Record<SchemaName, SchemaObject>;

// …and nothing else: a schema added above without its name in SchemaName fails the build here.
const _onlyNamed: Record<Exclude<keyof typeof COMPONENT_SCHEMAS, SchemaName>, never> = {};
