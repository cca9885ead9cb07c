/**
 * Reading a package directory for packing: its aip.yaml (validated) and the list of files that go into the
 * artifact, walked in a fixed order with every path checked to stay inside the package.
 */
import { lstat, readdir, realpath, stat } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { AionError, fsError } from '../errors/index.js';

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
 * Loads aip.yaml through the manifests library before packing: an invalid package is refused with the same
 * positioned SC error `aionctl validate` reports (SC018 when there is no aip.yaml at all).
 */
export async function loadPackageForPack(dir: string): Promise<PackageInfo> {
  // Loaded on demand: the manifests library pulls in ajv and yaml, which tags/pull/copy never need.
  const { loadPackage } = await import('../manifest/package.js');
  const { manifest } = loadPackage(dir);
  const { metadata, runtime } = manifest;
  const info: PackageInfo = {
    name: metadata.name,
    version: metadata.version,
    runtimeType: runtime.type,
    document: manifest as unknown as Record<string, unknown>,
  };
  if (runtime.module !== undefined) info.module = runtime.module.replace(/^\.\//, '');
  if (metadata.license !== undefined) info.license = metadata.license;
  if (metadata.description !== undefined) info.description = metadata.description;
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
