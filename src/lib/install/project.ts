/**
 * What a project declares in `.aionctl.yaml`: `registry` (HOST/PREFIX or `oci:DIR`, where NAME is found) and
 * `packages` (name -> range, or name -> FULL/REPOSITORY@RANGE). Also edits that section (install NAME, uninstall)
 * keeping the rest of the file, comments included.
 */
import { readFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { createRequire } from 'node:module';
import semver from 'semver';
import { AionError, fsError } from '../errors/index.js';
import { writeFileAtomic } from '../fs/index.js';
import { assertRepository, parseReference } from '../oci/index.js';
import type { ArtifactReference } from '../oci/index.js';

/** Where one package comes from: the repository as written (stable across machines) and as opened. */
export interface PackageSource {
  /** `HOST/REPO` or `oci:DIR/NAME` as the project writes it (relative DIR stays relative). */
  repository: string;
  /** The reference to open (no tag/digest): layout paths absolute. */
  ref: ArtifactReference;
}

export interface DeclaredPackages {
  /** `registry:` as written, if any. */
  registry?: string;
  /** name -> range. */
  roots: Record<string, string>;
  /** name -> full repository for packages declared as `REPO@RANGE`. */
  repositories: Record<string, string>;
}

const NAME_RE = /^[a-z0-9]+(?:[._-][a-z0-9]+)*$/;

export function assertPackageName(name: string, where: string): string {
  if (!NAME_RE.test(name))
    throw new AionError('LC007', `${where}: "${name}" is not a package name`, {
      hint: 'package names are lowercase letters, digits and single ".", "_" or "-" (e.g. summarize_text)',
    });
  return name;
}

export function assertRange(range: string, where: string): string {
  if (semver.validRange(range) === null)
    throw new AionError('LC007', `${where}: "${range}" is not a semver range`, {
      hint: 'e.g. ^1.3.0, ~0.2.0, 1.x, >=2.1.0 <3 or an exact version',
    });
  return range;
}

/** Splits `REPO@RANGE` / `RANGE`. A range never contains "/", a repository always does (or is oci:). */
export function splitPackageValue(value: string): { repository?: string; range: string } {
  const at = value.lastIndexOf('@');
  if (at > 0 && (value.slice(0, at).includes('/') || value.startsWith('oci:')))
    return { repository: value.slice(0, at), range: value.slice(at + 1) };
  return { range: value };
}

/** Reads `registry` and `packages` from a loaded config object. LC007 when malformed. */
export function declaredPackages(config: Record<string, unknown>): DeclaredPackages {
  const registry = config.registry;
  if (registry !== undefined && (typeof registry !== 'string' || registry === ''))
    throw new AionError('LC007', 'registry must be HOST/PREFIX or oci:DIR', {
      hint: 'e.g. registry: localhost:5000/agents',
    });
  const packages = config.packages ?? {};
  if (typeof packages !== 'object' || packages === null || Array.isArray(packages))
    throw new AionError('LC007', 'packages must be a mapping of name: range', {
      hint: 'e.g.\n  packages:\n    summarize_text: ^1.3.0',
    });
  const roots: Record<string, string> = {};
  const repositories: Record<string, string> = {};
  for (const [name, value] of Object.entries(packages)) {
    assertPackageName(name, 'packages');
    if (typeof value !== 'string') throw new AionError('LC007', `packages.${name} must be a range string`);
    const { repository, range } = splitPackageValue(value);
    roots[name] = assertRange(range, `packages.${name}`);
    if (repository !== undefined) repositories[name] = repository;
  }
  return { ...(registry !== undefined ? { registry: registry as string } : {}), roots, repositories };
}

/** The source of `name`: its declared full repository, else `registry/NAME`. */
export function sourceFor(name: string, declared: DeclaredPackages, projectRoot: string): PackageSource {
  const explicit = declared.repositories[name];
  let repository: string;
  if (explicit !== undefined) repository = explicit;
  else if (declared.registry !== undefined) repository = `${declared.registry.replace(/\/+$/, '')}/${name}`;
  else
    throw new AionError('LC007', `no registry to find ${name} in`, {
      hint: 'add `registry: HOST/PREFIX` (or `registry: oci:DIR`) to .aionctl.yaml',
    });
  return { repository, ref: openableRef(repository, projectRoot) };
}

/** `oci:DIR/NAME` (DIR relative to the project) or `HOST/REPO` as a reference without tag. */
export function openableRef(repository: string, projectRoot: string): ArtifactReference {
  if (repository.startsWith('oci:')) {
    const path = repository.slice('oci:'.length);
    return { kind: 'layout', path: isAbsolute(path) ? path : join(projectRoot, path) };
  }
  let ref: ArtifactReference;
  try {
    ref = parseReference(repository);
  } catch (err) {
    throw new AionError('LC007', `${repository} is not HOST/REPOSITORY or oci:DIR`, { cause: err });
  }
  if (ref.kind !== 'registry' || ref.tag || ref.digest)
    throw new AionError('LC007', `${repository} must be HOST/REPOSITORY (no tag or digest) or oci:DIR`, {
      hint: 'e.g. registry: localhost:5000/agents',
    });
  assertRepository(ref.repository);
  return ref;
}

/** A command-line `NAME[@RANGE]` (or `REPO/NAME[@RANGE]`). */
export function parsePackageArg(arg: string): { name: string; range?: string; repository?: string } {
  const at = arg.lastIndexOf('@');
  const head = at > 0 ? arg.slice(0, at) : arg;
  const range = at > 0 ? assertRange(arg.slice(at + 1), arg) : undefined;
  if (head.includes('/') || head.startsWith('oci:')) {
    const name = head.slice(head.lastIndexOf('/') + 1);
    return { name: assertPackageName(name, arg), repository: head, ...(range ? { range } : {}) };
  }
  return { name: assertPackageName(head, arg), ...(range ? { range } : {}) };
}

type YamlModule = typeof import('yaml');
const loadYaml = (): YamlModule => createRequire(import.meta.url)('yaml') as YamlModule;

/** Sets (value string) or removes (undefined) `packages.NAME` entries in the project file, atomically. */
export async function editProjectPackages(
  projectFile: string,
  changes: Record<string, string | undefined>,
  extra: { registry?: string } = {},
): Promise<void> {
  let text = '';
  try {
    text = await readFile(projectFile, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw fsError(err, projectFile);
  }
  const yaml = loadYaml();
  const doc = yaml.parseDocument(text);
  if (extra.registry !== undefined && !doc.has('registry')) doc.set('registry', extra.registry);
  for (const [name, value] of Object.entries(changes)) {
    if (value === undefined) doc.deleteIn(['packages', name]);
    else doc.setIn(['packages', name], value);
  }
  await writeFileAtomic(projectFile, doc.toString());
}

export interface ModuleEntry {
  name: string;
  /** `HOST/REPO:TAG` */
  ref: string;
}

/** Parses a reference architecture `modules.yml` ({modules: [{name, ref, ...}]}). LC010 when malformed. */
export async function readModulesFile(path: string): Promise<{ name: string; repository: string; range: string }[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw fsError(err, path);
  }
  let value: unknown;
  try {
    value = loadYaml().parse(text);
  } catch (err) {
    throw new AionError('LC010', `${path} is not valid YAML`, { cause: err });
  }
  const modules = (value as { modules?: unknown } | null)?.modules;
  if (!Array.isArray(modules))
    throw new AionError('LC010', `${path} has no modules list`, { hint: 'expected modules: [{name, ref}, ...]' });
  return modules.map((m: unknown, i) => {
    const { name, ref } = (m ?? {}) as Partial<ModuleEntry>;
    if (typeof name !== 'string' || typeof ref !== 'string')
      throw new AionError('LC010', `${path}: modules[${i}] needs a name and a ref`);
    assertPackageName(name, `${path}: modules[${i}]`);
    const colon = ref.lastIndexOf(':');
    const tag = colon > ref.lastIndexOf('/') ? ref.slice(colon + 1) : '';
    const parsed = semver.parse(tag.replaceAll('_', '+'));
    if (!parsed)
      throw new AionError('LC010', `${path}: modules[${i}].ref ${ref} must end in a semver tag`, {
        hint: 'e.g. ghcr.io/aion/summarize_text:1.3.0',
      });
    return { name, repository: ref.slice(0, colon), range: parsed.version };
  });
}
