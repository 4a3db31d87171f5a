import type { ErrorObject } from 'ajv';
import { cellJsonProblem } from './json-checks';
import { fieldLabel, msg } from './messages';
import { keptExactly, numberSyntax, shownNumber } from './numbers';
import { type ItemSchema, PATTERN_INPUT_LIMIT, type PropertyInfo } from './schema-registry';

export type RowVerdict =
  { ok: true; item: Record<string, unknown> } | { ok: false; field?: string; code: string; error: string };

/**
 * Validates one row against a compiled schema and turns ajv's first error into the sentence
 * of API.md. CSV cells are strings: `coerce` converts them to the schema's integer, number and
 * boolean types, and only to those (`007` stays "007" where the schema says string); a cell holding a
 * JSON object or list is read as one where the schema asks for an object or an array.
 */
export class RowValidator {
  private readonly coercible: PropertyInfo[];
  private readonly requiredStrings: string[];

  constructor(private readonly schema: ItemSchema) {
    this.coercible = [...schema.properties.values()].filter((p) =>
      p.types.some((t) => t === 'integer' || t === 'number' || t === 'boolean' || t === 'object' || t === 'array'),
    );
    this.requiredStrings = schema.required.filter((r) => schema.properties.get(r)?.types.includes('string'));
  }

  validate(value: Record<string, unknown>, coerce: boolean): RowVerdict {
    if (coerce) {
      const refused = this.coerce(value);
      if (refused) return refused;
    }
    // A required text that is blank after trimming counts as empty (API.md, default schema).
    for (const field of this.requiredStrings) {
      const v = own(value, field);
      if (v === undefined || (typeof v === 'string' && v.trim() === '')) {
        return { ok: false, field, code: 'required', error: msg.empty(this.label(field)) };
      }
    }
    if (this.schema.validate(value)) return { ok: true, item: value };
    const err = this.schema.validate.errors?.[0];
    return err ? this.describe(err, value) : { ok: false, code: 'invalid', error: msg.invalid('Row', 'unknown error') };
  }

  /** Converts the cells in place; a number that cannot be kept exactly refuses the row (API.md "Formats"). */
  private coerce(value: Record<string, unknown>): RowVerdict | undefined {
    for (const prop of this.coercible) {
      const v = own(value, prop.name);
      if (typeof v !== 'string' || prop.types.includes('string')) continue;
      const s = v.trim();
      const numeric = prop.types.includes('integer') || prop.types.includes('number') ? numberSyntax(s) : undefined;
      if (numeric === 'integer' || (numeric === 'decimal' && prop.types.includes('number'))) {
        const n = Number(s);
        if (!keptExactly(s, n)) {
          return { ok: false, field: prop.name, code: 'type', error: msg.inexactNumber(shownNumber(s), prop.name) };
        }
        value[prop.name] = n;
      } else if (prop.types.includes('boolean')) {
        const lower = s.toLowerCase();
        if (lower === 'true') value[prop.name] = true;
        else if (lower === 'false') value[prop.name] = false;
      } else if (
        (prop.types.includes('object') && s.startsWith('{')) ||
        (prop.types.includes('array') && s.startsWith('['))
      ) {
        // A CSV cell can only carry an object or a list as JSON text (`{"team":"ops"}`).
        let parsed: unknown;
        try {
          parsed = JSON.parse(s);
        } catch {
          continue; // left as text: the schema's type rule reports it
        }
        // Held to the rules of a JSON row: not too deep to store, numbers kept exactly.
        const problem = cellJsonProblem(parsed, s, prop.name);
        if (problem) return { ok: false, ...problem };
        value[prop.name] = parsed;
      }
    }
    return undefined;
  }

  private label(field: string): string {
    return fieldLabel(field, this.schema.properties.get(field)?.title);
  }

  private describe(err: ErrorObject, value: Record<string, unknown>): RowVerdict {
    const path = err.instancePath
      .split('/')
      .slice(1)
      .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
    const p = err.params as Record<string, unknown>;
    if (err.keyword === 'required') path.push(String(p.missingProperty));
    if (err.keyword === 'additionalProperties') path.push(String(p.additionalProperty));
    const field = path.length ? path.join('.') : undefined;
    const label = field ? (path.length === 1 ? this.label(field) : field) : 'Row';
    const code = err.keyword;
    const n = Number(p.limit);
    let error: string;
    switch (code) {
      case 'required':
        error = msg.empty(label);
        break;
      case 'maxLength':
        error = msg.maxLength(label, n);
        break;
      case 'minLength':
        error = n <= 1 ? msg.empty(label) : msg.minLength(label, n);
        break;
      case 'type':
        if (!field) return { ok: false, code: 'type', error: msg.rowNotObject() };
        error = msg.type(label, p.type);
        break;
      case 'format':
        error = msg.format(label, String(p.format));
        break;
      case 'minimum':
        error = msg.minimum(label, n);
        break;
      case 'maximum':
        error = msg.maximum(label, n);
        break;
      case 'exclusiveMinimum':
        error = msg.exclusiveMinimum(label, n);
        break;
      case 'exclusiveMaximum':
        error = msg.exclusiveMaximum(label, n);
        break;
      case 'enum':
        error = msg.enum(label, (p.allowedValues as unknown[]) ?? []);
        break;
      case 'pattern': {
        const checked = valueAt(value, path);
        error =
          typeof checked === 'string' && checked.length > PATTERN_INPUT_LIMIT
            ? msg.patternTooLong(label, PATTERN_INPUT_LIMIT)
            : msg.pattern(label);
        break;
      }
      case 'additionalProperties':
        error = msg.notAllowed(label);
        break;
      default:
        error = msg.invalid(label, err.message ?? code);
    }
    // minLength 1 is how a schema says "not empty": report it as API.md's `required`.
    const finalCode = code === 'minLength' && n <= 1 ? 'required' : code;
    return { ok: false, field, code: finalCode, error };
  }
}

/** A row's own property: a schema's `constructor` or `toString` must not read Object.prototype's. */
function own(value: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(value, key) ? value[key] : undefined;
}

/** The value at an error's path in the row (property names and list indexes). */
function valueAt(value: unknown, path: string[]): unknown {
  let at = value;
  for (const p of path) {
    if (at === null || typeof at !== 'object' || !Object.hasOwn(at, p)) return undefined;
    at = (at as Record<string, unknown>)[p];
  }
  return at;
}
