/**
 * Reading a package directory for packing: its aip.yaml (validated) and the list of files that go into the
 * artifact, walked in a fixed order with every path checked to stay inside the package.
 */
import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { AionError, fsError } from '../errors/index.js';
import { createIgnoreMatcher, IGNORE_FILES, type IgnoreMatcher } from './ignore.js';

export interface PackageInfo {
  name: string;
  version: string;
  runtimeType?: string;
  /** runtime.module, relative to the package root (wasm packages). */
  module?: string;
  /** Files aip.yaml references (the I/O schemas), relative to the package root: always packed. */
  references?: string[];
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
  /** Size in bytes when listed (of the symlink's target for a link). */
  size: number;
}

export interface ListPackageOptions {
  /** Paths (relative, POSIX) packed even when an ignore rule leaves them out: aip.yaml, the module, schemas. */
  always?: readonly string[];
  /** Replaces the ignore file found in the package (tests). */
  matcher?: IgnoreMatcher;
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
  const schema = (manifest as { entrypoints?: { schema?: { input?: unknown; output?: unknown } } }).entrypoints?.schema;
  const references = [schema?.input, schema?.output]
    .filter((p): p is string => typeof p === 'string' && !/^[a-z][a-z0-9+.-]*:/i.test(p))
    .map((p) => p.replace(/^\.\//, ''));
  if (references.length > 0) info.references = references;
  if (metadata.license !== undefined) info.license = metadata.license;
  if (metadata.description !== undefined) info.description = metadata.description;
  return info;
}

/** The files pack always includes, whatever the ignore rules say: aip.yaml, runtime.module and the schemas. */
export function alwaysPacked(info: PackageInfo): string[] {
  const module = info.module ?? (info.runtimeType === 'wasm' ? 'module.wasm' : undefined);
  return [PACKAGE_FILE_NAME, ...(module ? [module] : []), ...(info.references ?? [])];
}

const PACKAGE_FILE_NAME = 'aip.yaml';

/** The package's ignore rules: `.aionctlignore`, else `.gitignore`, else only the defaults (see ignore.ts). */
export async function loadIgnoreMatcher(dir: string): Promise<IgnoreMatcher & { file?: string }> {
  for (const name of IGNORE_FILES) {
    let text: string;
    try {
      text = await readFile(join(dir, name), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR')
        continue;
      throw fsError(err, join(dir, name));
    }
    return Object.assign(createIgnoreMatcher(text), { file: name });
  }
  return createIgnoreMatcher();
}

/**
 * Every regular file under `dir` that the ignore rules keep (see ignore.ts), plus `always`, in byte order of its
 * POSIX path. Symlinks are followed only when they resolve inside the package (their content is packed under the
 * link's path); anything escaping is refused (FS007). No path with a segment starting with `.` is ever listed.
 */
export async function listPackageFiles(dir: string, options: ListPackageOptions = {}): Promise<PackageFile[]> {
  const root = await realpath(dir).catch((err) => {
    throw fsError(err, dir);
  });
  const matcher = options.matcher ?? (await loadIgnoreMatcher(root));
  const always = new Set((options.always ?? []).map((p) => p.replace(/^\.\//, '')));
  for (const path of always) {
    if (path.split('/').some((s) => s.startsWith('.') || s === '')) {
      throw new AionError(
        'FS007',
        `refusing to pack ${path}: aip.yaml references a path with a hidden or empty segment`,
        {
          hint: 'move the file out of the dot directory and update aip.yaml',
        },
      );
    }
  }
  // directories holding an always-packed file are walked even when ignored (only those files are taken from them)
  const forcedDirs = new Set<string>();
  for (const path of always) {
    const parts = path.split('/');
    for (let i = 1; i < parts.length; i++) forcedDirs.add(parts.slice(0, i).join('/'));
  }
  const keep = (path: string, isDirectory: boolean, insideIgnored: boolean): boolean =>
    always.has(path) ||
    (isDirectory && forcedDirs.has(path)) ||
    (!insideIgnored && !matcher.ignoresSelf(path, isDirectory));
  const files: PackageFile[] = [];
  const visiting = new Set<string>();
  async function walk(real: string, logical: string, insideIgnored: boolean): Promise<void> {
    if (visiting.has(real)) throw escaping(logical || '.', 'a symlink loop');
    visiting.add(real);
    const entries = (await readdir(real, { withFileTypes: true })).sort((a, b) => byteOrder(a.name, b.name));
    // the entries of one directory are resolved in parallel (one stat each); subdirectories are walked in order
    const resolved = await Promise.all(
      entries.map(async (dirent) => {
        const entry = dirent.name;
        if (entry.startsWith('.')) return undefined;
        const path = logical === '' ? entry : `${logical}/${entry}`;
        const isLink = dirent.isSymbolicLink();
        // decided by name and type before any stat (a symlink is decided once its target's type is known)
        if (!isLink && !keep(path, dirent.isDirectory(), insideIgnored)) return undefined;
        if (/[\\\u0000-\u001f]/.test(entry)) throw escaping(path, 'a backslash or control character');
        let target = join(real, entry);
        if (isLink) {
          target = await realpath(target).catch(() => {
            throw escaping(path, 'a dangling symlink');
          });
          if (target !== root && !target.startsWith(root + sep)) throw escaping(path, 'a symlink pointing outside');
        }
        const info = await stat(target);
        if (isLink && !keep(path, info.isDirectory(), insideIgnored)) return undefined;
        return { path, target, info };
      }),
    );
    for (const item of resolved) {
      if (item === undefined) continue;
      const { path, target, info } = item;
      if (info.isDirectory()) await walk(target, path, insideIgnored || matcher.ignoresSelf(path, true));
      else if (info.isFile())
        files.push({ path, source: target, executable: (info.mode & 0o111) !== 0, size: info.size });
      // sockets, fifos and devices are not package content
    }
    visiting.delete(real);
  }
  await walk(root, '', false);
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

export interface PackPlan {
  info: PackageInfo;
  /** The ignore file in effect (`.aionctlignore` or `.gitignore`), if any. */
  ignoreFile?: string;
  files: PackageFile[];
  /** Sum of the file sizes (the manifest and config are not counted). */
  size: number;
}

/** What `pack` would put into the artifact, without writing anything (`pack --dry-run`). */
export async function planPack(dir: string): Promise<PackPlan> {
  const info = await loadPackageForPack(dir);
  const matcher = await loadIgnoreMatcher(dir);
  const files = await listPackageFiles(dir, { always: alwaysPacked(info), matcher });
  return {
    info,
    ...(matcher.file !== undefined ? { ignoreFile: matcher.file } : {}),
    files,
    size: files.reduce((sum, f) => sum + f.size, 0),
  };
}
