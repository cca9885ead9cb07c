/**
 * Package I/O schemas (a package's own input/output JSON Schemas), shared by `validate`, `run` and the daemon.
 *
 * Checking that a schema is a valid JSON Schema needs only the meta-schema validator (`checkUserSchema`): no code
 * is generated for it. Code is generated only for a schema that is about to validate data (`userSchemaValidator`),
 * once per content digest (sha256 of the canonical JSON), in a bounded LRU shared by the whole process.
 * ajv is loaded on first use: commands that never touch a package schema do not pay for it.
 */
import { createRequire } from 'node:module';
import type { ValidateFunction } from 'ajv';
import { plainSchemaIsValid } from './meta-fast.js';
import { generatedMetaValidator, META_SCHEMA_ID } from './schemas.js';

type Ajv2020Class = typeof import('ajv/dist/2020.js').default;
type AjvInstance = InstanceType<Ajv2020Class>;

const require = createRequire(import.meta.url);
let shared: AjvInstance | undefined;

/**
 * The one Ajv for user schemas in this process. `code.source` keeps the generated code so `run` can write it out as
 * standalone modules. Schemas are removed from it after compiling, so two packages' `$id`s never clash.
 */
export function userSchemaAjv(): AjvInstance {
  if (!shared) {
    const Ajv2020 = (require('ajv/dist/2020.js') as { default: Ajv2020Class }).default;
    const addFormats = (require('ajv-formats') as { default: (ajv: AjvInstance) => void }).default;
    shared = new Ajv2020({ allErrors: true, strict: false, code: { source: true } });
    addFormats(shared);
  }
  return shared;
}

/** JSON with object keys sorted at every level: equal schemas written differently share a digest. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const record = value as Record<string, unknown>;
  return `{${Object.keys(record)
    .sort()
    .filter((k) => record[k] !== undefined)
    .map((k) => `${JSON.stringify(k)}:${canonicalJson(record[k])}`)
    .join(',')}}`;
}

/** `sha256:<hex>` of a schema's canonical JSON: the cache key of its compiled validator. */
export function schemaDigest(schema: unknown): string {
  return `sha256:${(require('node:crypto') as typeof import('node:crypto')).createHash('sha256').update(canonicalJson(schema)).digest('hex')}`;
}

/** Why `schema` is not a valid JSON Schema (the first meta-schema error), or undefined when it is. */
export function checkUserSchema(schema: unknown): string | undefined {
  if (typeof schema !== 'boolean' && (schema === null || typeof schema !== 'object' || Array.isArray(schema))) {
    return 'must be a JSON object';
  }
  if (typeof schema === 'boolean') return undefined;
  const $schema = (schema as Record<string, unknown>).$schema;
  // The build-time meta-schema validator spares loading ajv and generating the meta-schema's code; other dialects
  // (and a bare build) go through ajv itself, exactly as before.
  const meta = $schema === undefined || $schema === META_SCHEMA_ID ? generatedMetaValidator() : undefined;
  if (meta) {
    // Plain schemas (nearly all of them) are vouched for by a check that only ever says "certainly valid".
    if (plainSchemaIsValid(schema) || meta(schema)) return undefined;
    const first = meta.errors?.[0];
    return `${first?.instancePath || '/'} ${first?.message ?? ''}`.trim();
  }
  const ajv = userSchemaAjv();
  if (ajv.validateSchema(schema as object)) return undefined;
  const first = ajv.errors?.[0];
  return `${first?.instancePath || '/'} ${first?.message ?? ''}`.trim();
}

/** A small LRU by entry count (Map keeps insertion order: a hit moves its entry to the end). */
class Lru<V> {
  readonly #map = new Map<string, V>();
  hits = 0;
  misses = 0;
  constructor(public max: number) {}
  get(key: string): V | undefined {
    const value = this.#map.get(key);
    if (value === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    this.#map.delete(key);
    this.#map.set(key, value);
    return value;
  }
  set(key: string, value: V): void {
    this.#map.delete(key);
    this.#map.set(key, value);
    this.trim();
  }
  trim(): void {
    while (this.#map.size > this.max) this.#map.delete(this.#map.keys().next().value!);
  }
  get size(): number {
    return this.#map.size;
  }
  clear(): void {
    this.#map.clear();
    this.hits = 0;
    this.misses = 0;
  }
}

/** Compiled validators kept per process (the daemon runs many packages; each holds two schemas). */
export const DEFAULT_VALIDATOR_CACHE_ENTRIES = 512;
const validators = new Lru<ValidateFunction>(DEFAULT_VALIDATOR_CACHE_ENTRIES);

/**
 * The compiled validator of a user schema, from the shared cache when a schema with the same canonical content was
 * compiled before. Throws ajv's error when the schema does not compile (an unresolvable `$ref`, for one).
 */
export function userSchemaValidator(schema: object | boolean): ValidateFunction {
  const digest = schemaDigest(schema);
  const hit = validators.get(digest);
  if (hit) return hit;
  const ajv = userSchemaAjv();
  // Everything the compile registers (the root `$id` and nested ones) is forgotten afterwards: one package's schema
  // can never resolve a reference through another's, and two packages may use the same `$id`s.
  const refs = ajv.refs as Record<string, unknown>;
  const schemas = ajv.schemas as Record<string, unknown>;
  const refsBefore = new Set(Object.keys(refs));
  const schemasBefore = new Set(Object.keys(schemas));
  let validate: ValidateFunction;
  try {
    validate = ajv.compile(schema);
  } finally {
    if (typeof schema === 'object') {
      try {
        ajv.removeSchema(schema);
      } catch {
        // never registered
      }
    }
    for (const key of Object.keys(refs)) if (!refsBefore.has(key)) delete refs[key];
    for (const key of Object.keys(schemas)) if (!schemasBefore.has(key)) delete schemas[key];
  }
  validators.set(digest, validate);
  return validate;
}

/** Cache statistics and bound (tests and the daemon's status read these). */
export function validatorCacheStats(): { entries: number; max: number; hits: number; misses: number } {
  return { entries: validators.size, max: validators.max, hits: validators.hits, misses: validators.misses };
}

/** Changes the cache bound (entries); the oldest entries go first. `clear` empties it. */
export function configureValidatorCache(options: { maxEntries?: number; clear?: boolean }): void {
  if (options.clear) validators.clear();
  if (options.maxEntries !== undefined) {
    validators.max = Math.max(1, Math.floor(options.maxEntries));
    validators.trim();
  }
}
