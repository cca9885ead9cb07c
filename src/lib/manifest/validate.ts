import { type Dirent, readdirSync, statSync } from 'node:fs';
import { dirname, normalize, relative, resolve, sep } from 'node:path';
import { AionError, isAionError } from '../errors/index.js';
import { checkPackageFiles, checkRegistryGroup, type ParsedFile } from './cross.js';
import { type Diagnostic, isWarning, sortDiagnostics } from './diagnostics.js';
import { detectKind, isManifestName, type ManifestKind } from './kinds.js';
import { schemaDiagnostics } from './schema-errors.js';
import { validatorFor } from './schemas.js';
import { parseSource, readManifestText, type SourceDocument } from './source.js';

export interface FileResult {
  file: string;
  kind: ManifestKind | null;
  valid: boolean;
  /** The file could not be read (binary, too big, non-UTF-8, permissions): exit 3. */
  unreadable: boolean;
}

export interface ValidationReport {
  files: FileResult[];
  diagnostics: Diagnostic[];
  /** `errors` excludes warnings (which leave a file valid and the exit code 0). */
  summary: { files: number; valid: number; invalid: number; unreadable: number; errors: number; warnings: number };
}

const PRUNED_DIRS = new Set(['node_modules', '.git', 'dist']);
// The order of String#localeCompare, at a fraction of its cost per call. Made on first use: creating it loads ICU's
// collation data (~5-10 ms), which commands that import this module without walking a directory never need.
let collator: ((a: string, b: string) => number) | undefined;
const byName = (a: string, b: string): number => (collator ??= new Intl.Collator().compare)(a, b);

/**
 * Sorts directory entries by name in the collator's order, stably. A package directory holds a handful of entries:
 * an insertion sort of those costs a fraction of `Array#sort` with a comparator (~10 µs a call until it is optimized,
 * thousands of calls in a walk); both are stable, so the order is the same.
 */
function sortByName(entries: Dirent[]): void {
  if (entries.length > 8) {
    entries.sort((a, b) => byName(a.name, b.name));
    return;
  }
  for (let i = 1; i < entries.length; i++) {
    const entry = entries[i]!;
    let j = i - 1;
    while (j >= 0 && byName(entries[j]!.name, entry.name) > 0) {
      entries[j + 1] = entries[j]!;
      j--;
    }
    entries[j + 1] = entry;
  }
}

/**
 * Files to validate: files as given, directories searched for the known manifest names. With `plainFiles`, every
 * regular file the walk meets (reached through no symlink from a directory given) is added to it: such a file is
 * inside any walked directory above it, so the package checks need no realpath for it.
 */
export function expandPaths(paths: readonly string[], plainFiles?: Set<string>): string[] {
  const out: string[] = [];
  // One readdir per directory: its entry types say what is a directory or a regular file (no stat per entry).
  const walk = (dir: string) => {
    const entries = readdirSync(dir, { withFileTypes: true });
    sortByName(entries);
    // `dir` is normalized and a readdir name holds no separator: concatenating is `join` without its cost.
    const prefix = dir === '.' ? '' : dir.endsWith(sep) ? dir : dir + sep;
    for (const entry of entries) {
      const name = entry.name;
      if (entry.isDirectory()) {
        if (!PRUNED_DIRS.has(name) && name[0] !== '.') walk(prefix + name);
      } else if (entry.isFile()) {
        const full = prefix + name;
        plainFiles?.add(full);
        if (isManifestName(name)) out.push(full);
      }
    }
  };
  for (const path of paths) {
    let isDir = false;
    try {
      isDir = statSync(path).isDirectory();
    } catch {
      // a missing path is reported when it is read
    }
    if (isDir) walk(normalize(path));
    else out.push(path);
  }
  return out.length > 1 ? [...new Set(out)] : out;
}

/** Validates one document already parsed; `kind` undefined means it could not be identified (SC003). */
export function validateSource(
  source: SourceDocument,
  kind: ManifestKind | undefined,
  options: { plainFiles?: ReadonlySet<string> } = {},
): Diagnostic[] {
  if (!kind) {
    return [
      {
        file: source.file,
        line: 1,
        col: 1,
        code: 'SC003',
        message:
          'unknown document kind: expected apiVersion: aionos/v1 + kind: AgentPackage, or a file named aip.yaml, intents.yml, policies.yml, models.yml, modules.yml or *.onex.yaml',
      },
    ];
  }
  const validate = validatorFor(kind);
  const diagnostics = validate(source.data) ? [] : schemaDiagnostics(source, validate.errors ?? []);
  if (kind === 'agent-package') diagnostics.push(...checkPackageFiles(source, options));
  return diagnostics;
}

/** Parses and validates every file, then runs the cross-file checks per directory. Never throws for bad input. */
export function validatePaths(paths: readonly string[], options: { cwd: string }): ValidationReport {
  const cwd = resolve(options.cwd);
  const cwdPrefix = cwd.endsWith(sep) ? cwd : cwd + sep;
  const display = (file: string) => {
    // Walked and resolved paths are absolute and normalized: below cwd, the relative path is the rest of it.
    if (file.startsWith(cwdPrefix)) {
      const rel = file.slice(cwdPrefix.length);
      if (!rel.startsWith('..')) return rel;
    }
    const rel = relative(cwd, resolve(cwd, file));
    return rel.startsWith('..') ? resolve(cwd, file) : rel;
  };
  const files: FileResult[] = [];
  const diagnostics: Diagnostic[] = [];
  const parsed: ParsedFile[] = [];
  const plainFiles = new Set<string>();
  for (const path of expandPaths(
    paths.map((p) => resolve(cwd, p)),
    plainFiles,
  )) {
    const file = display(path);
    let text: string;
    try {
      // A file the walk saw as regular is read without an fstat (small-file.ts).
      text = readManifestText(path, { regular: plainFiles.has(path) });
    } catch (err) {
      if (!isAionError(err)) throw err;
      diagnostics.push({ file, line: 1, col: 1, code: err.code, message: err.message.replace(path, file) });
      files.push({ file, kind: null, valid: false, unreadable: true });
      continue;
    }
    const { source, diagnostics: parseErrors } = parseSource(file, text);
    if (!source) {
      diagnostics.push(...parseErrors);
      files.push({ file, kind: detectKind(path, undefined) ?? null, valid: false, unreadable: false });
      continue;
    }
    const kind = detectKind(path, source.data);
    // checkPackageFiles resolves relative to the manifest: give it the real path, report the display path.
    const found = validateSource({ ...source, file: path }, kind, { plainFiles }).map((d) => ({ ...d, file }));
    diagnostics.push(...found);
    files.push({ file, kind: kind ?? null, valid: !found.some((d) => !isWarning(d)), unreadable: false });
    if (kind && kind !== 'agent-package' && kind !== 'onex-metadata') parsed.push({ kind, source });
  }
  const groups = new Map<string, ParsedFile[]>();
  for (const p of parsed) {
    const dir = dirname(resolve(cwd, p.source.file));
    groups.set(dir, [...(groups.get(dir) ?? []), p]);
  }
  for (const group of groups.values()) {
    for (const d of checkRegistryGroup(group)) {
      diagnostics.push(d);
      const result = files.find((f) => f.file === d.file);
      if (result) result.valid = false;
    }
  }
  const unreadable = files.filter((f) => f.unreadable).length;
  const valid = files.filter((f) => f.valid).length;
  return {
    files,
    diagnostics: sortDiagnostics(diagnostics),
    summary: {
      files: files.length,
      valid,
      invalid: files.length - valid - unreadable,
      unreadable,
      errors: diagnostics.filter((d) => !isWarning(d)).length,
      warnings: diagnostics.filter(isWarning).length,
    },
  };
}

/** Throws when there is nothing to validate, so `validate` on an empty dir is a clear usage error. */
export function assertSomethingToValidate(report: ValidationReport, paths: readonly string[]): void {
  if (report.files.length === 0) {
    throw new AionError('CI001', `no manifests found in ${paths.join(', ')}`, {
      hint: 'pass aip.yaml, intents.yml, policies.yml, models.yml, modules.yml or *.onex.yaml files, or a directory holding them',
    });
  }
}
