import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ErrorObject, ValidateFunction } from 'ajv';
import Ajv2020Module from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { KINDS, type ManifestKind } from './kinds.js';

// ajv ships CommonJS with `exports.default`; under NodeNext the default import is the module object.
const Ajv2020 = Ajv2020Module.default;
const addFormats = addFormatsModule.default;
type AjvInstance = InstanceType<typeof Ajv2020>;

/** manifests/ at the package root (dist/src/lib/manifest -> ../../../../manifests). */
export const SCHEMA_DIR = fileURLToPath(new URL('../../../../manifests/', import.meta.url));

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

/** One Ajv for the process, created on first use (it costs ~40 ms to load; commands that never validate skip it). */
export function sharedAjv(): AjvInstance {
  if (!ajv) {
    ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true });
    addFormats(ajv);
  }
  return ajv;
}

/** A fresh Ajv for user-supplied schemas (a package's input/output schemas), so they cannot clash with ours by $id. */
export function userAjv(): AjvInstance {
  const instance = new Ajv2020({ allErrors: true, strict: false });
  addFormats(instance);
  return instance;
}

/** The compiled validator of a kind: compiled once per process. */
export function validatorFor(kind: ManifestKind): ValidateFunction {
  let validate = validatorCache.get(kind);
  if (!validate) {
    validate = sharedAjv().compile(schemaFor(kind));
    validatorCache.set(kind, validate);
  }
  return validate;
}

export type { ErrorObject };
