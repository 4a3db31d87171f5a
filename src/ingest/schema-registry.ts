import Ajv, { type Options, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import defaultSchema from './default.schema.json';

export type PropertyType = 'string' | 'integer' | 'number' | 'boolean' | 'object' | 'array' | 'null';

export interface PropertyInfo {
  name: string;
  title?: string;
  /** The non-null types the schema allows; CSV cells are coerced only to these. */
  types: PropertyType[];
}

export interface ItemSchema {
  name: string;
  validate: ValidateFunction;
  /** Properties by lower-cased name, for CSV header matching (trimmed, case-insensitive). */
  propertiesByLowerName: Map<string, PropertyInfo>;
  properties: Map<string, PropertyInfo>;
  required: string[];
  /** The schema's JSON text: what a pool thread compiles to validate the same rows (absent: in-thread only). */
  source?: string;
}

export const SCHEMA_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/**
 * The longest string a schema's `pattern` (or `patternProperties`) is run on; a longer one does not
 * match. Patterns come from SCHEMAS_DIR and run on uploaded cells with JavaScript's backtracking
 * engine, where a pattern like `^(\d+)*$` or `\s*x$` can take polynomial or exponential time: the
 * bound keeps a polynomial pattern from freezing the row loop on a megabyte cell. It cannot tame an
 * exponential one, which needs a linear-time engine (RE2) plugged in here.
 */
export const PATTERN_INPUT_LIMIT = 1000;

type RegExpEngine = NonNullable<NonNullable<Options['code']>['regExp']>;

const boundedRegExp: RegExpEngine = Object.assign(
  (pattern: string, flags: string) => {
    const re = new RegExp(pattern, flags);
    return {
      test: (s: string) => s.length <= PATTERN_INPUT_LIMIT && re.test(s),
      // ajv keys its compiled patterns by this text
      toString: () => `bounded:${String(re)}`,
    };
  },
  { code: 'boundedRegExp' },
);

export class SchemaLoadError extends Error {}

/**
 * Item schemas by name, each compiled once at start (never per request or per row).
 * `allErrors` stays off: a row is skipped at its first error, and ajv's security notes advise
 * against allErrors on untrusted input.
 */
export class SchemaRegistry {
  private readonly schemas = new Map<string, ItemSchema>();
  private readonly ajv: Ajv;

  constructor() {
    this.ajv = new Ajv({
      allErrors: false,
      strict: false,
      coerceTypes: false,
      useDefaults: false,
      code: { regExp: boundedRegExp },
    });
    addFormats(this.ajv);
  }

  static load(dir?: string): SchemaRegistry {
    const registry = new SchemaRegistry();
    registry.add('default', defaultSchema);
    if (dir) {
      let files: string[];
      try {
        files = readdirSync(dir).filter((f) => extname(f) === '.json');
      } catch (e) {
        throw new SchemaLoadError(`SCHEMAS_DIR: cannot read ${dir} (${(e as Error).message})`);
      }
      for (const file of files.sort()) {
        const name = basename(file, '.json');
        let json: unknown;
        try {
          json = JSON.parse(readFileSync(join(dir, file), 'utf8'));
        } catch (e) {
          throw new SchemaLoadError(`SCHEMAS_DIR: ${file} is not valid JSON (${(e as Error).message})`);
        }
        registry.add(name, json, file);
      }
    }
    return registry;
  }

  add(name: string, json: unknown, source = name): void {
    if (!SCHEMA_NAME_PATTERN.test(name)) {
      throw new SchemaLoadError(`SCHEMAS_DIR: ${source}: schema names use letters, digits, '.', '_' and '-'`);
    }
    if (!json || typeof json !== 'object' || (json as { type?: unknown }).type !== 'object') {
      throw new SchemaLoadError(`SCHEMAS_DIR: ${source}: an item schema must have "type": "object"`);
    }
    const schema = json as { properties?: Record<string, Record<string, unknown>>; required?: unknown };
    let validate: ValidateFunction;
    try {
      validate = this.ajv.compile(json);
    } catch (e) {
      throw new SchemaLoadError(`SCHEMAS_DIR: ${source}: ${(e as Error).message}`);
    }
    const properties = new Map<string, PropertyInfo>();
    const byLower = new Map<string, PropertyInfo>();
    for (const [prop, def] of Object.entries(schema.properties ?? {})) {
      const rawTypes = def?.type;
      const types = (Array.isArray(rawTypes) ? rawTypes : rawTypes ? [rawTypes] : []).filter(
        (t): t is PropertyType => typeof t === 'string' && t !== 'null',
      );
      const info: PropertyInfo = {
        name: prop,
        title: typeof def?.title === 'string' ? def.title : undefined,
        types,
      };
      properties.set(prop, info);
      byLower.set(prop.toLowerCase(), info);
    }
    const required = Array.isArray(schema.required) ? schema.required.filter((r) => typeof r === 'string') : [];
    const text = JSON.stringify(json);
    this.schemas.set(name, { name, validate, properties, propertiesByLowerName: byLower, required, source: text });
  }

  get(name: string): ItemSchema | undefined {
    return this.schemas.get(name);
  }

  names(): string[] {
    return [...this.schemas.keys()];
  }
}
