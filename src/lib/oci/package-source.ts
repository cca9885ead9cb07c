/**
 * Reading a package directory for packing: its aip.yaml (validated) and the list of files that go into the
 * artifact, walked in a fixed order with every path checked to stay inside the package.
 */
import { lstat, readdir, readFile, realpath, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import semver from 'semver';
import { parseDocument } from 'yaml';
import { AionError, fsError } from '../errors/index.js';
import { PACKAGE_FILE } from './media-types.js';

export interface PackageInfo {
  name: string;
  version: string;
  runtimeType?: string;
  /** runtime.module, relative to the package root (wasm packages). */
  module?: string;
  license?: string;
  description?: string;
  /** aip.yaml as plain data (becomes the config blob as canonical JSON). */
  document: Record<string, unknown>;
}

export interface PackageFile {
  /** POSIX path relative to the package root: the layer title. */
  path: string;
  /** Absolute path to read the content from (a symlink's target when it points inside the package). */
  source: string;
  executable: boolean;
}

/**
 * Loads and checks aip.yaml before packing. Stand-in until the manifests library (`loadPackage`) is merged: it
 * checks only what packing relies on (kind, name, version, the module file) and refuses everything else loudly.
 */
export async function loadPackageForPack(dir: string): Promise<PackageInfo> {
  const file = join(dir, PACKAGE_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new AionError('RG106', `${dir} is not a package: ${PACKAGE_FILE} is missing`, {
        hint: 'pack a directory holding an aip.yaml (aionctl init creates one)',
      });
    }
    throw fsError(err, file);
  }
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length > 0) {
    const first = doc.errors[0]!;
    throw new AionError('RG106', `${PACKAGE_FILE} is not valid YAML: ${first.message.split('\n')[0]}`, {
      position: { file, line: first.linePos?.[0]?.line, col: first.linePos?.[0]?.col },
    });
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    throw new AionError('RG106', `${PACKAGE_FILE}: ${(err as Error).message}`, { cause: err, position: { file } });
  }
  const invalid = (message: string): AionError =>
    new AionError('RG106', `${file}: ${message}`, { hint: 'fix the manifest (aionctl validate shows every problem)' });
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw invalid('not a mapping');
  const record = data as Record<string, unknown>;
  if (record.apiVersion !== 'aionos/v1' || record.kind !== 'AgentPackage')
    throw invalid('expected apiVersion: aionos/v1 and kind: AgentPackage');
  const metadata = record.metadata as Record<string, unknown> | undefined;
  const name = metadata?.name;
  const version = metadata?.version;
  if (typeof name !== 'string' || !/^[a-z0-9]+(?:[._-][a-z0-9]+)*$/.test(name))
    throw invalid('metadata.name must be a lowercase name (letters, digits, ".", "_", "-")');
  if (typeof version !== 'string' || semver.valid(version) === null)
    throw invalid(`metadata.version must be a semantic version string, got ${JSON.stringify(version)}`);
  const runtime = record.runtime as Record<string, unknown> | undefined;
  const runtimeType = typeof runtime?.type === 'string' ? runtime.type : undefined;
  const module = typeof runtime?.module === 'string' ? runtime.module : undefined;
  if (module !== undefined) {
    const path = join(dir, module);
    const inside = relative(dir, path);
    if (inside.startsWith('..') || inside === '' || module.startsWith('/'))
      throw invalid(`runtime.module "${module}" is outside the package`);
    try {
      if (!(await stat(path)).isFile()) throw new Error('not a file');
    } catch {
      throw invalid(`runtime.module "${module}" does not exist`);
    }
  }
  const info: PackageInfo = { name, version, document: record };
  if (runtimeType !== undefined) info.runtimeType = runtimeType;
  if (module !== undefined) info.module = module.replace(/^\.\//, '');
  if (typeof metadata?.license === 'string') info.license = metadata.license;
  if (typeof metadata?.description === 'string') info.description = metadata.description;
  return info;
}

/** Names never packed: hidden entries (.git, .aionctl.yaml, editor files). */
function skipped(name: string): boolean {
  return name.startsWith('.');
}

/**
 * Every regular file under `dir` in byte order of its POSIX path. Symlinks are followed only when they resolve
 * inside the package (their content is packed under the link's path); anything escaping is refused (FS007).
 */
export async function listPackageFiles(dir: string): Promise<PackageFile[]> {
  const root = await realpath(dir).catch((err) => {
    throw fsError(err, dir);
  });
  const files: PackageFile[] = [];
  const visiting = new Set<string>();
  async function walk(real: string, logical: string): Promise<void> {
    if (visiting.has(real)) throw escaping(logical || '.', 'a symlink loop');
    visiting.add(real);
    const entries = (await readdir(real)).sort(byteOrder);
    for (const entry of entries) {
      if (skipped(entry)) continue;
      if (/[\\\u0000-\u001f]/.test(entry)) throw escaping(join(logical, entry), 'a backslash or control character');
      const path = logical === '' ? entry : `${logical}/${entry}`;
      const abs = join(real, entry);
      const info = await lstat(abs);
      let target = abs;
      if (info.isSymbolicLink()) {
        target = await realpath(abs).catch(() => {
          throw escaping(path, 'a dangling symlink');
        });
        if (target !== root && !target.startsWith(root + sep)) throw escaping(path, 'a symlink pointing outside');
      }
      const resolved = info.isSymbolicLink() ? await stat(target) : info;
      if (resolved.isDirectory()) await walk(target, path);
      else if (resolved.isFile()) files.push({ path, source: target, executable: (resolved.mode & 0o111) !== 0 });
      // sockets, fifos and devices are not package content
    }
    visiting.delete(real);
  }
  await walk(root, '');
  return files.sort((a, b) => byteOrder(a.path, b.path));
}

export function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

function escaping(path: string, what: string): AionError {
  return new AionError('FS007', `refusing to pack ${path}: ${what}`, {
    hint: 'a package may only contain files inside its directory; copy the file in instead of linking it',
  });
}
