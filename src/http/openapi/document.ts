import type { OpenAPIObject } from '@nestjs/swagger';
import type {
  OperationObject,
  PathItemObject,
  SchemaObject,
} from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { COMPONENT_SCHEMAS } from './components';

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

/** Where SwaggerModule serves the document, relative to the root. */
export interface DocsPaths {
  ui: string;
  json: string;
  yaml: string;
}

function served(operationId: string, summary: string, mediaType: string, schema: SchemaObject): PathItemObject {
  return {
    get: {
      operationId,
      summary,
      tags: ['service'],
      responses: { 200: { description: summary, content: { [mediaType]: { schema } } } },
    },
  };
}

/**
 * What Nest's scanner cannot produce, added to the generated document:
 * - the component schemas that the response decorators (./responses.ts) refer to;
 * - the routes SwaggerModule serves itself, which no controller declares;
 * - `security: []` on every operation that declares no requirement. @ApiV1() is both the API-key
 *   guard and the bearer requirement, so an operation without one really is public, and now says
 *   so (Redocly's `security-defined`). Nest drops an empty `security` list given to a decorator.
 */
export function completeDocument(document: OpenAPIObject, docs: DocsPaths): OpenAPIObject {
  document.components = {
    ...document.components,
    schemas: { ...document.components?.schemas, ...COMPONENT_SCHEMAS },
  };
  const anyDocument: SchemaObject = { type: 'object', additionalProperties: true };
  Object.assign(document.paths, {
    [`/${docs.ui}`]: served('docs_ui', 'This document in a browser (Swagger UI)', 'text/html', { type: 'string' }),
    [`/${docs.json}`]: served('docs_json', 'This OpenAPI 3 document', 'application/json', anyDocument),
    [`/${docs.yaml}`]: served('docs_yaml', 'This OpenAPI 3 document in YAML', 'text/yaml', { type: 'string' }),
  });
  for (const item of Object.values(document.paths)) {
    for (const method of METHODS) {
      const operation: OperationObject | undefined = item[method];
      if (operation && !operation.security) operation.security = [];
    }
  }
  return document;
}
