/**
 * A package's input and output JSON Schemas, compiled once per package content digest: in memory (the daemon
 * reuses it; bounded) and, with a cache directory, as ajv standalone code on disk so a cold run skips loading ajv.
 * Compiling goes through the process-wide validator cache of src/lib/manifest/schema-cache.ts (keyed by the
 * schema's own content digest), which `validate` fills too.
 */
import { lstatSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { AionError } from '../errors/index.js';
import { writeFileAtomic } from '../fs/index.js';
import { userSchemaAjv, userSchemaValidator } from '../manifest/schema-cache.js';
import type { Runnable } from './types.js';

/** An ajv validate function (standalone or compiled). */
export interface SchemaValidator {
  (data: unknown): boolean;
  errors?: Array<{ instancePath?: string; message?: string }> | null;
}

export interface CompiledSchemas {
  input?: SchemaValidator;
  output?: SchemaValidator;
}

const cache = new Map<string, CompiledSchemas>();
/** Packages whose compiled pair is kept (the validators themselves are bounded in the shared cache too). */
const MAX_PACKAGES = 256;
const require = createRequire(import.meta.url);
/** Bumped when the generated code's shape changes. */
const CODE_VERSION = 'v1';

/** Generated code larger than this is recompiled rather than loaded (a schema's code is a few KiB). */
const MAX_CODE_BYTES = 4 * 1024 * 1024;

/**
 * Whether `path` may be trusted as code we wrote: not a symlink, owned by this user, not writable by group or
 * others (the cache file is executed, so a planted or widened one is ignored and the schema compiled again).
 */
function privateToUs(path: string, isDir: boolean): boolean {
  const st = lstatSync(path, { throwIfNoEntry: false });
  if (!st || st.isSymbolicLink() || (isDir ? !st.isDirectory() : !st.isFile())) return false;
  if (typeof process.getuid === 'function' && st.uid !== process.getuid()) return false;
  return (st.mode & 0o022) === 0 && (isDir || st.size <= MAX_CODE_BYTES);
}

function loadStandalone(file: string): SchemaValidator | undefined {
  if (!privateToUs(dirname(file), true) || !privateToUs(file, false)) return undefined;
  try {
    return require(file) as SchemaValidator;
  } catch {
    return undefined;
  }
}

async function compileOne(
  runnable: Runnable,
  which: 'input' | 'output',
  file: string,
  cacheDir: string | undefined,
): Promise<SchemaValidator> {
  const cached = cacheDir
    ? join(cacheDir, 'run', 'schemas', `${runnable.contentDigest.slice(7)}-${which}-${CODE_VERSION}.cjs`)
    : undefined;
  const hit = cached ? loadStandalone(cached) : undefined;
  if (hit) return hit;
  let validate;
  try {
    validate = userSchemaValidator(JSON.parse(readFileSync(join(runnable.dir, file), 'utf8')) as object);
  } catch (err) {
    throw new AionError('SC001', `cannot compile the package schema ${file}: ${(err as Error).message}`, {
      hint: `run: aionctl validate ${runnable.dir}`,
    });
  }
  if (cached) {
    try {
      const standalone = (await import('ajv/dist/standalone/index.js')).default.default;
      // The generated CommonJS requires ajv's runtime helpers: point them at this installation.
      const code = standalone(userSchemaAjv(), validate).replace(
        /require\("([^"]+)"\)/g,
        (_m, id: string) => `require(${JSON.stringify(require.resolve(id))})`,
      );
      await mkdir(dirname(cached), { recursive: true, mode: 0o700 });
      await writeFileAtomic(cached, code, { fsync: false, mode: 0o600, forceMode: true });
    } catch {
      // a read-only cache only costs speed
    }
  }
  return validate as SchemaValidator;
}

export async function compileSchemas(
  runnable: Runnable,
  options: { cacheDir?: string } = {},
): Promise<CompiledSchemas> {
  const hit = cache.get(runnable.contentDigest);
  if (hit) {
    // Most recently used last: the oldest package is dropped first.
    cache.delete(runnable.contentDigest);
    cache.set(runnable.contentDigest, hit);
    return hit;
  }
  const schema = runnable.manifest.entrypoints?.schema;
  const compiled: CompiledSchemas = {};
  if (schema?.input) compiled.input = await compileOne(runnable, 'input', schema.input, options.cacheDir);
  if (schema?.output) compiled.output = await compileOne(runnable, 'output', schema.output, options.cacheDir);
  cache.set(runnable.contentDigest, compiled);
  while (cache.size > MAX_PACKAGES) cache.delete(cache.keys().next().value!);
  return compiled;
}

/** Number of digests with compiled schemas (tests check the cache is used). */
export function schemaCacheSize(): number {
  return cache.size;
}

/** ajv's errors as one line. */
export function schemaErrorText(validate: SchemaValidator): string {
  return (validate.errors ?? [])
    .slice(0, 3)
    .map((e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}`)
    .join('; ');
}
