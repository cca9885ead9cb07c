/**
 * A fast check that a package I/O schema is valid against the JSON Schema 2020-12 meta-schema, for the plain schemas
 * packages nearly always have (types, properties, required, bounds, descriptions). Like the fast YAML path it only
 * ever answers "certainly valid": any keyword outside the small set below, or any value it does not fully check,
 * makes it return false, and the caller then runs the generated meta-schema validator, which decides and reports.
 * (The meta-schema accepts unknown keywords; this check declines them.)
 *
 * Keywords and the meta-schema rule checked for each (2020-12 vocabularies):
 * - schemas (`$dynamicRef: #meta`): an object or a boolean, recursively;
 * - properties: an object of schemas; additionalProperties, items, contains, propertyNames, not, if/then/else:
 *   a schema; allOf/anyOf/oneOf/prefixItems: a non-empty array of schemas;
 * - type: one of the seven simple types, or a non-empty array of them without duplicates;
 * - required: an array of strings without duplicates; enum, examples: an array; const, default: anything;
 * - maximum, minimum, exclusiveMaximum, exclusiveMinimum: a number; multipleOf: a number > 0;
 * - maxLength, minLength, maxItems, minItems, maxProperties, minProperties, maxContains, minContains: an integer >= 0;
 * - uniqueItems, deprecated, readOnly, writeOnly: a boolean; title, description, $comment, format, contentEncoding,
 *   contentMediaType: a string; $schema: exactly the 2020-12 meta-schema's id (its `uri` format holds).
 */

const SIMPLE_TYPES = new Set(['array', 'boolean', 'integer', 'null', 'number', 'object', 'string']);
const META_SCHEMA_ID = 'https://json-schema.org/draft/2020-12/schema';

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
// JSON numbers are finite; ajv's `integer` is a number without a fractional part.
const isNumber = (v: unknown): boolean => typeof v === 'number' && Number.isFinite(v);
const isCount = (v: unknown): boolean => typeof v === 'number' && Number.isInteger(v) && v >= 0;

type Rule = (value: unknown, depth: number) => boolean;

const anything: Rule = () => true;
const string: Rule = (v) => typeof v === 'string';
const boolean: Rule = (v) => typeof v === 'boolean';
const number: Rule = (v) => isNumber(v);
const count: Rule = (v) => isCount(v);
const array: Rule = (v) => Array.isArray(v);
const schema: Rule = (v, depth) => plainSchemaIsValid(v, depth + 1);
const schemaArray: Rule = (v, depth) =>
  Array.isArray(v) && v.length > 0 && v.every((item) => plainSchemaIsValid(item, depth + 1));
const schemaMap: Rule = (v, depth) => isObject(v) && Object.values(v).every((s) => plainSchemaIsValid(s, depth + 1));

function uniqueStrings(v: unknown, allowed?: ReadonlySet<string>): boolean {
  if (!Array.isArray(v)) return false;
  const seen = new Set<string>();
  for (const item of v) {
    if (typeof item !== 'string' || seen.has(item) || (allowed && !allowed.has(item))) return false;
    seen.add(item);
  }
  return true;
}

const RULES: ReadonlyMap<string, Rule> = new Map<string, Rule>([
  ['$schema', (v) => v === META_SCHEMA_ID],
  ['$comment', string],
  ['title', string],
  ['description', string],
  ['format', string],
  ['contentEncoding', string],
  ['contentMediaType', string],
  ['default', anything],
  ['const', anything],
  ['examples', array],
  ['enum', array],
  ['deprecated', boolean],
  ['readOnly', boolean],
  ['writeOnly', boolean],
  ['uniqueItems', boolean],
  [
    'type',
    (v) =>
      typeof v === 'string' ? SIMPLE_TYPES.has(v) : uniqueStrings(v, SIMPLE_TYPES) && (v as unknown[]).length > 0,
  ],
  ['required', (v) => uniqueStrings(v)],
  ['maximum', number],
  ['minimum', number],
  ['exclusiveMaximum', number],
  ['exclusiveMinimum', number],
  ['multipleOf', (v) => isNumber(v) && (v as number) > 0],
  ['maxLength', count],
  ['minLength', count],
  ['maxItems', count],
  ['minItems', count],
  ['maxProperties', count],
  ['minProperties', count],
  ['maxContains', count],
  ['minContains', count],
  ['properties', schemaMap],
  ['additionalProperties', schema],
  ['items', schema],
  ['contains', schema],
  ['propertyNames', schema],
  ['not', schema],
  ['if', schema],
  ['then', schema],
  ['else', schema],
  ['allOf', schemaArray],
  ['anyOf', schemaArray],
  ['oneOf', schemaArray],
  ['prefixItems', schemaArray],
]);

/** Nesting this check follows at most (deeper schemas go to the real meta-schema validator). */
const MAX_FAST_DEPTH = 32;

/** True only when `value` is certainly a valid 2020-12 schema (see above); false means "ask the meta-schema". */
export function plainSchemaIsValid(value: unknown, depth = 0): boolean {
  if (typeof value === 'boolean') return true;
  if (!isObject(value) || depth > MAX_FAST_DEPTH) return false;
  // The meta-schema validator also sees inherited enumerable keys: only plain objects (as JSON.parse makes) are ours.
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return false;
  for (const key of Object.keys(value)) {
    const rule = RULES.get(key);
    if (rule === undefined || !rule(value[key], depth)) return false;
  }
  return true;
}
