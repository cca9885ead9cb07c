/**
 * Checks that need more than one document: registry files against each other, and a package against the files
 * it names. Pure over parsed documents except `checkPackageFiles`, which reads the referenced files.
 */
import { closeSync, constants, fstatSync, openSync, readSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join, relative, sep } from 'node:path';
import { parseReference } from '../oci/reference.js';
import type { Diagnostic } from './diagnostics.js';
import type { ErrorCode } from '../errors/index.js';
import type { ManifestKind } from './kinds.js';
import { checkUserSchema, userSchemaValidator } from './schema-cache.js';
import { readKnownRegular, SCRATCH_BYTES, scratchBuffer } from './small-file.js';
import { nestingDepth, type PathSegment, type SourceDocument } from './source.js';

// semver is loaded only for a package that declares dependencies (loading all of it costs a cold start ~20 ms).
const require = createRequire(import.meta.url);
let validRangeFn: ((range: string) => string | null) | undefined;
const validRange = (range: string): string | null =>
  (validRangeFn ??= require('semver/ranges/valid') as (range: string) => string | null)(range);

export interface ParsedFile {
  kind: ManifestKind;
  source: SourceDocument;
}

/** Routes the router knows when policies.yml names none (the reference architecture's three). */
export const DEFAULT_ROUTES = ['local', 'api', 'hybrid'] as const;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

function at(source: SourceDocument, path: PathSegment[], code: ErrorCode, message: string): Diagnostic {
  const { line, col } = source.locate(path);
  return { file: source.file, line, col, code, message };
}

/** Cross-file checks over the registry files of one group (one directory, or the files given together). */
export function checkRegistryGroup(files: readonly ParsedFile[]): Diagnostic[] {
  const out: Diagnostic[] = [];
  const of = (kind: ManifestKind) => files.find((f) => f.kind === kind)?.source;
  const intents = of('intents');
  const policies = of('policies');
  const models = of('models');
  const modules = of('modules');

  const tiers = isObj(models?.data) && isObj(models.data.tiers) ? (models.data.tiers as Obj) : undefined;
  const policy = isObj(policies?.data) ? policies.data : undefined;
  const p95 =
    isObj(policy?.latency) && isObj((policy.latency as Obj).p95_ms)
      ? Object.keys((policy.latency as Obj).p95_ms as Obj)
      : [];
  const knownRoutes = new Set<string>(p95.length > 0 ? p95 : DEFAULT_ROUTES);
  const routeList = [...knownRoutes].join(', ');

  if (intents && isObj(intents.data)) {
    for (const [name, intent] of Object.entries(intents.data)) {
      if (!isObj(intent)) continue;
      if (tiers) {
        strings(intent.tiers_allowed).forEach((tier, i) => {
          if (!(tier in tiers)) {
            out.push(
              at(
                intents,
                [name, 'tiers_allowed', i],
                'SC010',
                `intent "${name}" allows tier "${tier}", which models.yml does not define`,
              ),
            );
          }
        });
      }
      strings(intent.candidates).forEach((route, i) => {
        if (!knownRoutes.has(route)) {
          out.push(
            at(
              intents,
              [name, 'candidates', i],
              'SC011',
              `intent "${name}": unknown route "${route}" (known: ${routeList})`,
            ),
          );
        }
      });
      const def = intent.default_route;
      if (typeof def === 'string' && def !== 'auto' && !strings(intent.candidates).includes(def)) {
        out.push(
          at(
            intents,
            [name, 'default_route'],
            'SC011',
            `intent "${name}": default_route "${def}" is not one of its candidates (or auto)`,
          ),
        );
      }
    }
  }

  if (policies && policy) {
    const routing = isObj(policy.routing) ? policy.routing : {};
    strings(routing.fallback_order).forEach((route, i) => {
      if (!knownRoutes.has(route)) {
        out.push(
          at(
            policies,
            ['routing', 'fallback_order', i],
            'SC011',
            `fallback_order: unknown route "${route}" (known: ${routeList})`,
          ),
        );
      }
    });
    const privacy = isObj(policy.privacy) ? policy.privacy : {};
    strings(privacy.local_only_intents).forEach((name, i) => {
      const intent = intents && isObj(intents.data) ? intents.data[name] : undefined;
      if (intents && !isObj(intent)) {
        out.push(
          at(
            policies,
            ['privacy', 'local_only_intents', i],
            'SC010',
            `local_only_intents names "${name}", which intents.yml does not define`,
          ),
        );
        return;
      }
      if (!intents || !tiers || !isObj(intent)) return;
      strings(intent.tiers_allowed).forEach((tier, j) => {
        const t = tiers[tier];
        if (isObj(t) && strings(t.cloud).length > 0) {
          out.push(
            at(
              intents,
              [name, 'tiers_allowed', j],
              'SC016',
              `intent "${name}" is local-only (policies.yml) but tier "${tier}" has cloud models`,
            ),
          );
        }
      });
      strings(intent.candidates).forEach((route, j) => {
        if (route === 'api') {
          out.push(
            at(
              intents,
              [name, 'candidates', j],
              'SC016',
              `intent "${name}" is local-only (policies.yml) but may route to "api"`,
            ),
          );
        }
      });
    });
  }

  if (models && tiers && policy && isObj(policy.providers)) {
    const allow = strings((policy.providers as Obj).allow);
    const deny = strings((policy.providers as Obj).deny);
    for (const [tierName, tier] of Object.entries(tiers)) {
      if (!isObj(tier)) continue;
      for (const place of ['local', 'cloud'] as const) {
        strings(tier[place]).forEach((model, i) => {
          const provider = model.split(':')[0]!;
          const why = deny.includes(provider)
            ? 'denied'
            : allow.length > 0 && !allow.includes(provider)
              ? 'not in providers.allow'
              : undefined;
          if (why) {
            out.push(
              at(
                models,
                ['tiers', tierName, place, i],
                'SC012',
                `model "${model}": provider "${provider}" is ${why} in policies.yml`,
              ),
            );
          }
        });
      }
    }
  }

  if (modules && isObj(modules.data) && Array.isArray(modules.data.modules)) {
    modules.data.modules.forEach((entry: unknown, i: number) => {
      if (!isObj(entry) || typeof entry.ref !== 'string') return;
      const problem = ociRefProblem(entry.ref);
      if (problem) out.push(at(modules, ['modules', i, 'ref'], 'SC013', `ref "${entry.ref}": ${problem}`));
    });
  }
  return out;
}

/** Why `ref` is not a pullable registry reference (with a tag or digest), or undefined when it is. */
export function ociRefProblem(ref: string): string | undefined {
  try {
    const parsed = parseReference(ref);
    if (parsed.kind !== 'registry') return 'must name a registry (host/repository:tag)';
    if (!parsed.tag && !parsed.digest) return 'needs a tag or a digest';
    return undefined;
  } catch (err) {
    return (err as Error).message.split('\n')[0];
  }
}

const realpath = realpathSync.native;

/**
 * A path a manifest names must stay inside the package (no absolute paths, `..`, or symlinks out). `realRoot` is the
 * package root's real path, resolved once per package; one realpath(3) call per file.
 */
function insidePackage(root: string, realRoot: string | undefined, rel: string): string | undefined {
  if (isAbsolute(rel)) return undefined;
  const full = join(root, rel);
  const r = relative(root, full);
  if (r === '' || r.startsWith(`..${sep}`) || r === '..') return undefined;
  if (realRoot !== undefined) {
    try {
      const real = realpath(full);
      if (real !== realRoot && !real.startsWith(realRoot + sep)) return undefined;
    } catch {
      // missing: reported by the caller
    }
  }
  return full;
}

/**
 * A regular file's size and (when at most `maxBytes`) its text as UTF-8, from one open + fstat + read; `missing`
 * if absent. Opened non-blocking: a FIFO planted under a schema's name is `not-file`, never a hang. With `regular`
 * (the directory walk saw a regular file there), a small file is read without the fstat (`readKnownRegular`).
 */
function readRegular(
  file: string,
  maxBytes: number,
  regular = false,
): { kind: 'missing' | 'not-file' } | { kind: 'file'; size: number; text?: string } {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP') return { kind: 'missing' };
    if (code === 'EISDIR') return { kind: 'not-file' };
    throw err;
  }
  try {
    if (regular) {
      const n = readKnownRegular(fd);
      if (n !== undefined && n <= maxBytes)
        return { kind: 'file', size: n, text: scratchBuffer().toString('utf8', 0, n) };
    }
    const stat = fstatSync(fd);
    if (!stat.isFile()) return { kind: 'not-file' };
    if (stat.size > maxBytes) return { kind: 'file', size: stat.size };
    const bytes = stat.size <= SCRATCH_BYTES ? scratchBuffer() : Buffer.allocUnsafe(stat.size);
    const size = Math.min(stat.size, bytes.length);
    let off = 0;
    while (off < size) {
      const n = readSync(fd, bytes, off, size - off, off);
      if (n === 0) break;
      off += n;
    }
    return { kind: 'file', size: stat.size, text: bytes.toString('utf8', 0, off) };
  } finally {
    closeSync(fd);
  }
}

/** The module of a wasm package that names none (`runtime.module` is optional). */
export const DEFAULT_MODULE = 'module.wasm';
/** Package I/O schemas are small documents: bigger or deeper ones are refused (SC021) before they are compiled. */
export const MAX_IO_SCHEMA_BYTES = 1024 * 1024;
export const MAX_IO_SCHEMA_DEPTH = 128;

/** Reads the first 4 bytes only: a 3 GB module is not loaded to check its magic number. */
function wasmModuleState(file: string): 'missing' | 'not-file' | 'no-header' | 'ok' {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP') return 'missing';
    if (code === 'EISDIR') return 'not-file';
    throw err;
  }
  try {
    if (!fstatSync(fd).isFile()) return 'not-file';
    const head = Buffer.alloc(4);
    const n = readSync(fd, head, 0, 4, 0);
    return n === 4 && head.equals(Buffer.from([0, 0x61, 0x73, 0x6d])) ? 'ok' : 'no-header';
  } finally {
    closeSync(fd);
  }
}

/** A `#/json/pointer` reference that resolves inside the schema itself (the common case needs no compiling). */
function resolvesLocally(schema: unknown, ref: string): boolean {
  if (ref === '#') return true;
  if (!ref.startsWith('#/')) return false;
  let node = schema;
  for (const raw of ref.slice(2).split('/')) {
    let segment: string;
    try {
      segment = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    } catch {
      return false;
    }
    if (node === null || typeof node !== 'object' || !Object.hasOwn(node, segment)) return false;
    node = (node as Record<string, unknown>)[segment];
  }
  return node !== undefined;
}

/** An empty, `.` or `..` segment in a relative path (what `join` would normalize away). */
const ODD_SEGMENT = /(?:^|\/)\.{0,2}(?:\/|$)/;

/** Checks the files an agent package names: its module, its I/O schemas, and its dependency ranges. */
export function checkPackageFiles(
  source: SourceDocument,
  options: { plainFiles?: ReadonlySet<string> } = {},
): Diagnostic[] {
  const out: Diagnostic[] = [];
  const data = source.data;
  if (!isObj(data)) return out;
  const root = dirname(source.file);
  let realRoot: string | undefined | null = null;
  const plain = options.plainFiles?.has(source.file) ? options.plainFiles : undefined;
  const rootPrefix = root + sep;
  // Whether the last path `inside` returned is a file the walk saw as regular (it can be read without an fstat).
  let walked = false;
  const inside = (rel: string) => {
    walked = false;
    // A file the directory walk reached through no symlink, below a manifest it reached the same way, is inside.
    if (plain && !isAbsolute(rel)) {
      // A relative path without `.`, `..` or empty segments joins by concatenation (`join` normalizes, at a cost).
      const full = sep === '/' && !ODD_SEGMENT.test(rel) ? rootPrefix + rel : join(root, rel);
      if (plain.has(full) && full.startsWith(rootPrefix)) {
        walked = true;
        return full;
      }
    }
    if (realRoot === null) {
      try {
        realRoot = realpath(root);
      } catch {
        realRoot = undefined;
      }
    }
    return insidePackage(root, realRoot, rel);
  };
  const runtime = isObj(data.runtime) ? data.runtime : {};
  const moduleRel = typeof runtime.module === 'string' ? runtime.module : DEFAULT_MODULE;
  if (runtime.type === 'wasm' || typeof runtime.module === 'string') {
    const modulePath: PathSegment[] = typeof runtime.module === 'string' ? ['runtime', 'module'] : ['runtime'];
    const what = typeof runtime.module === 'string' ? 'runtime.module' : 'runtime.module (default)';
    const full = inside(moduleRel);
    const state = full ? wasmModuleState(full) : undefined;
    if (!full) {
      out.push(
        at(
          source,
          modulePath,
          'SC014',
          `${what} "${moduleRel}" is outside the package (absolute, "..", or a symlink out)`,
        ),
      );
    } else if (state === 'missing') {
      // A source tree before its build: valid, but pack and run need the module (loadPackage refuses it).
      out.push({
        ...at(
          source,
          modulePath,
          'SC020',
          `${what} "${moduleRel}" does not exist yet: pack and run need it (build it first)`,
        ),
        severity: 'warning',
      });
    } else if (state === 'not-file') {
      out.push(at(source, modulePath, 'SC014', `${what} "${moduleRel}" is not a regular file`));
    } else if (state === 'no-header') {
      out.push(
        at(source, modulePath, 'SC015', `${what} "${moduleRel}" is not a WebAssembly module (no \\0asm header)`),
      );
    }
  }
  const schema = isObj(data.entrypoints) && isObj(data.entrypoints.schema) ? data.entrypoints.schema : {};
  for (const which of ['input', 'output'] as const) {
    const rel = schema[which];
    if (typeof rel !== 'string') continue;
    const path: PathSegment[] = ['entrypoints', 'schema', which];
    const full = inside(rel);
    if (!full) {
      out.push(
        at(source, path, 'SC014', `${which} schema "${rel}" is outside the package (absolute, "..", or a symlink out)`),
      );
      continue;
    }
    const file = readRegular(full, MAX_IO_SCHEMA_BYTES, walked);
    if (file.kind !== 'file') {
      out.push(at(source, path, 'SC014', `${which} schema "${rel}" does not exist in the package`));
      continue;
    }
    if (file.text === undefined) {
      out.push(
        at(
          source,
          path,
          'SC021',
          `${which} schema "${rel}" is ${file.size} bytes; I/O schemas are limited to ${MAX_IO_SCHEMA_BYTES} bytes`,
        ),
      );
      continue;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(file.text);
    } catch (err) {
      out.push(at(source, path, 'SC015', `${which} schema "${rel}" is not JSON: ${(err as Error).message}`));
      continue;
    }
    const refs: string[] = [];
    if (nestingDepth(parsed, MAX_IO_SCHEMA_DEPTH, refs) > MAX_IO_SCHEMA_DEPTH) {
      out.push(at(source, path, 'SC021', `${which} schema "${rel}" nests deeper than ${MAX_IO_SCHEMA_DEPTH} levels`));
      continue;
    }
    try {
      const problem = checkUserSchema(parsed);
      if (problem === 'must be a JSON object') {
        out.push(at(source, path, 'SC015', `${which} schema "${rel}" must be a JSON object`));
      } else if (problem !== undefined) {
        out.push(at(source, path, 'SC015', `${which} schema "${rel}" is not a valid JSON Schema: ${problem}`));
      } else if (refs.some((ref) => !resolvesLocally(parsed, ref))) {
        // Only a reference the meta-schema cannot vouch for needs code generation to be checked; the compiled
        // validator lands in the shared cache, where `run` and the daemon find it.
        try {
          userSchemaValidator(parsed as object);
        } catch (err) {
          if (err instanceof RangeError) throw err;
          out.push(at(source, path, 'SC015', `${which} schema "${rel}" does not compile: ${(err as Error).message}`));
        }
      }
    } catch (err) {
      // A schema within the depth cap can still recurse too far through its $refs.
      if (!(err instanceof RangeError)) throw err;
      out.push(at(source, path, 'SC021', `${which} schema "${rel}" is too complex to compile (${err.message})`));
    }
  }
  if (isObj(data.dependencies)) {
    for (const [name, range] of Object.entries(data.dependencies)) {
      if (typeof range === 'string' && validRange(range) === null) {
        out.push(at(source, ['dependencies', name], 'SC007', `dependencies.${name}: "${range}" is not a semver range`));
      }
    }
  }
  return out;
}
