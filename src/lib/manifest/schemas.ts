import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { KINDS, type ManifestKind } from './kinds.js';

type Ajv2020Class = typeof import('ajv/dist/2020.js').default;
type AjvInstance = InstanceType<Ajv2020Class>;

const require = createRequire(import.meta.url);

/** manifests/ at the package root (dist/src/lib/manifest -> ../../../../manifests). */
export const SCHEMA_DIR = fileURLToPath(new URL('../../../../manifests/', import.meta.url));
/** The build-time standalone validators (scripts/gen-validators.mjs). */
export const GENERATED_VALIDATORS = fileURLToPath(new URL('./validators.generated.cjs', import.meta.url));
/** The JSON Schema dialect of package I/O schemas (and the meta-schema key in the generated module). */
export const META_SCHEMA_ID = 'https://json-schema.org/draft/2020-12/schema';

/** Options of the one Ajv that validates manifests (the generated code is made with the same). */
export const MANIFEST_AJV_OPTIONS = {
  allErrors: true,
  strict: true,
  strictRequired: false,
  allowUnionTypes: true,
} as const;

const schemaCache = new Map<ManifestKind, Record<string, unknown>>();
const validatorCache = new Map<ManifestKind, ValidateFunction>();
let ajv: AjvInstance | undefined;

/** The JSON Schema of a kind, as shipped in manifests/. */
export function schemaFor(kind: ManifestKind): Record<string, unknown> {
  let schema = schemaCache.get(kind);
  if (!schema) {
    schema = JSON.parse(readFileSync(join(SCHEMA_DIR, KINDS[kind].schemaFile), 'utf8')) as Record<string, unknown>;
    schemaCache.set(kind, schema);
  }
  return schema;
}

function newAjv(extra: Record<string, unknown> = {}): AjvInstance {
  const Ajv2020 = (require('ajv/dist/2020.js') as { default: Ajv2020Class }).default;
  const addFormats = (require('ajv-formats') as { default: (a: AjvInstance) => void }).default;
  const instance = new Ajv2020({ ...MANIFEST_AJV_OPTIONS, ...extra });
  addFormats(instance);
  return instance;
}

/** One Ajv for the process, created on first use (it costs ~40 ms to load; commands that never validate skip it). */
export function sharedAjv(): AjvInstance {
  ajv ??= newAjv();
  return ajv;
}

/** What the generated module is made from: the schema files, ajv's version and the options. */
export function validatorsSourceDigest(): string {
  const hash = (require('node:crypto') as typeof import('node:crypto')).createHash('sha256');
  hash.update(JSON.stringify(MANIFEST_AJV_OPTIONS));
  hash.update((require('ajv/package.json') as { version: string }).version);
  for (const file of readdirSync(SCHEMA_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()) {
    hash.update(`\0${file}\0`).update(readFileSync(join(SCHEMA_DIR, file)));
  }
  return hash.digest('hex');
}

/** Standalone CommonJS for every kind's validator and the 2020-12 meta-schema, with the digest of its inputs. */
export function generateValidatorsCode(): string {
  const instance = newAjv({ code: { source: true } });
  const map: Record<string, string> = { [META_SCHEMA_ID]: META_SCHEMA_ID };
  for (const kind of Object.keys(KINDS) as ManifestKind[]) {
    instance.addSchema(schemaFor(kind), `aionctl:${kind}`);
    map[kind] = `aionctl:${kind}`;
  }
  const standalone = (require('ajv/dist/standalone/index.js') as { default: (a: AjvInstance, m: object) => string })
    .default;
  return `${standalone(instance, map)}\nexports.sourceDigest = ${JSON.stringify(validatorsSourceDigest())};\n`;
}

interface GeneratedModule {
  sourceDigest: string;
  [key: string]: unknown;
}
let generated: GeneratedModule | null | undefined;

/**
 * The build-time validators, or null when absent (a bare `tsc` build). Not checked against manifests/ at run time
 * (that would cost a hash of every schema per start): the build makes them, and a test fails on drift.
 */
export function generatedValidators(): GeneratedModule | null {
  if (generated === undefined) {
    try {
      generated = require(GENERATED_VALIDATORS) as GeneratedModule;
    } catch {
      generated = null;
    }
  }
  return generated;
}

/** The compiled validator of a kind: the build-time one when present, otherwise compiled once per process. */
export function validatorFor(kind: ManifestKind): ValidateFunction {
  let validate = validatorCache.get(kind);
  if (!validate) {
    validate = (generatedValidators()?.[kind] as ValidateFunction | undefined) ?? sharedAjv().compile(schemaFor(kind));
    validatorCache.set(kind, validate);
  }
  return validate;
}

/** The 2020-12 meta-schema validator from the build, if there is one (package I/O schemas are checked with it). */
export function generatedMetaValidator(): ValidateFunction | undefined {
  return generatedValidators()?.[META_SCHEMA_ID] as ValidateFunction | undefined;
}

export type { ErrorObject };
