/** A package's input and output JSON Schemas, compiled once per package digest (the daemon reuses the cache). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ValidateFunction } from 'ajv';
import { AionError } from '../errors/index.js';
import type { Runnable } from './types.js';

export interface CompiledSchemas {
  input?: ValidateFunction;
  output?: ValidateFunction;
}

const cache = new Map<string, CompiledSchemas>();

export async function compileSchemas(runnable: Runnable): Promise<CompiledSchemas> {
  const hit = cache.get(runnable.identity.digest);
  if (hit) return hit;
  const schema = runnable.manifest.entrypoints?.schema;
  const compiled: CompiledSchemas = {};
  if (schema?.input || schema?.output) {
    const { userAjv } = await import('../manifest/schemas.js');
    const ajv = userAjv();
    const load = (file: string) => {
      try {
        return ajv.compile(JSON.parse(readFileSync(join(runnable.dir, file), 'utf8')) as object);
      } catch (err) {
        throw new AionError('SC001', `cannot compile the package schema ${file}: ${(err as Error).message}`, {
          hint: `run: aionctl validate ${runnable.dir}`,
        });
      }
    };
    if (schema.input) compiled.input = load(schema.input);
    if (schema.output) compiled.output = load(schema.output);
  }
  cache.set(runnable.identity.digest, compiled);
  return compiled;
}

/** Number of digests with compiled schemas (tests check the cache is used). */
export function schemaCacheSize(): number {
  return cache.size;
}

/** ajv's errors as one line. */
export function schemaErrorText(validate: ValidateFunction): string {
  return (validate.errors ?? [])
    .slice(0, 3)
    .map((e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}`)
    .join('; ');
}
