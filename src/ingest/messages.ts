/**
 * The sentences people read for row errors. API.md fixes three forms
 * ("Content is empty, row skipped", "Content exceeds maximum length (50000 chars), row skipped",
 * "Missing required column: content"); the rest follow the same shape.
 */
export const SKIPPED = ', row skipped';

export function fieldLabel(field: string, title?: string): string {
  const name = title ?? field;
  return name.charAt(0).toUpperCase() + name.slice(1);
}

// A Map, not an object literal: a schema's `"type": "constructor"` must not find Object.prototype's.
const TYPE_NOUNS = new Map<string, string>([
  ['string', 'text'],
  ['integer', 'a whole number'],
  ['number', 'a number'],
  ['boolean', 'true or false'],
  ['object', 'an object'],
  ['array', 'a list'],
  ['null', 'null'],
]);

export function typeNoun(type: unknown): string {
  const types: unknown[] = Array.isArray(type) ? type : [type];
  return types.map((t) => TYPE_NOUNS.get(String(t)) ?? String(t)).join(' or ');
}

export const msg = {
  empty: (label: string) => `${label} is empty${SKIPPED}`,
  maxLength: (label: string, n: number) => `${label} exceeds maximum length (${n} chars)${SKIPPED}`,
  minLength: (label: string, n: number) => `${label} is shorter than minimum length (${n} chars)${SKIPPED}`,
  type: (label: string, type: unknown) => `${label} must be ${typeNoun(type)}${SKIPPED}`,
  format: (label: string, format: string) => `${label} is not a valid ${format}${SKIPPED}`,
  minimum: (label: string, n: number) => `${label} must be at least ${n}${SKIPPED}`,
  maximum: (label: string, n: number) => `${label} must be at most ${n}${SKIPPED}`,
  exclusiveMinimum: (label: string, n: number) => `${label} must be greater than ${n}${SKIPPED}`,
  exclusiveMaximum: (label: string, n: number) => `${label} must be less than ${n}${SKIPPED}`,
  enum: (label: string, values: unknown[]) => `${label} must be one of: ${values.map(String).join(', ')}${SKIPPED}`,
  pattern: (label: string) => `${label} does not match the expected pattern${SKIPPED}`,
  patternTooLong: (label: string, n: number) =>
    `${label} is too long to be checked against its pattern (over ${n} chars)${SKIPPED}`,
  inexactNumber: (shown: string, field: string) => `Value ${shown} of ${field} cannot be kept exactly${SKIPPED}`,
  notAllowed: (label: string) => `${label} is not an allowed field${SKIPPED}`,
  invalid: (label: string, detail: string) => `${label} is invalid (${detail})${SKIPPED}`,
  rowNotObject: () => `Row is not an object${SKIPPED}`,
  rowNotJson: (detail: string) => `Row is not valid JSON (${detail})${SKIPPED}`,
  rowTooLarge: (limit: string) => `Row exceeds maximum size (${limit})${SKIPPED}`,
  rowTooDeep: (levels: number) => `Row is nested deeper than ${levels} levels${SKIPPED}`,
  rowHasNul: () => `Row contains a NUL byte${SKIPPED}`,
  rowTooManyCells: (cells: number, header: number) => `Row has ${cells} cells but the header has ${header}${SKIPPED}`,
  missingColumn: (column: string) => `Missing required column: ${column}`,
  duplicateColumn: (column: string) => `Duplicate column: ${column}`,
};
