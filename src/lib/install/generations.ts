/**
 * `.aionctl/packages` is a symlink to one generation directory (`.aionctl/generations/<id>`). An install
 * extracts every package into a NEW generation, writes the lockfile (the commit point), then swaps the symlink
 * with one rename(2): a kill -9 at any moment leaves the previous lockfile and the previous packages whole, and
 * leftovers (half-built generations) are removed by the next install.
 */
import { randomBytes } from 'node:crypto';
import { chmod, lstat, readdir, readFile, readlink, rename, rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { AionError, fsError } from '../errors/index.js';
import { ensureDir, writeFileAtomic } from '../fs/index.js';
import { type Descriptor, extractPackage, type ReadTarget } from '../oci/index.js';

export const STATE_DIR = '.aionctl';
export const PACKAGES_DIR = 'packages';
const GENERATIONS_DIR = 'generations';
/** In each generation: name -> digest of what it holds (names never start with a dot, so no clash). */
export const INSTALLED_FILE = '.installed.json';

export function packagesDir(projectRoot: string): string {
  return join(projectRoot, STATE_DIR, PACKAGES_DIR);
}

/** Where `run NAME` finds an installed package's files (read-only). */
export function installedPackageDir(projectRoot: string, name: string): string {
  return join(packagesDir(projectRoot), name);
}

/** name -> digest of the current generation; empty when nothing is installed. */
export async function installedDigests(projectRoot: string): Promise<Record<string, string>> {
  try {
    return JSON.parse(await readFile(join(packagesDir(projectRoot), INSTALLED_FILE), 'utf8')) as Record<string, string>;
  } catch {
    return {};
  }
}

async function makeReadOnly(dir: string): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await makeReadOnly(path);
    else if (entry.isFile()) await chmod(path, (await lstat(path)).mode & 0o555);
  }
}

export interface GenerationPackage {
  name: string;
  digest: string;
  /** The store's copy: verified blobs. */
  store: ReadTarget;
  descriptor: Descriptor;
}

/** Builds a new generation holding `packages` (files read-only); returns its directory. */
export async function buildGeneration(projectRoot: string, packages: GenerationPackage[]): Promise<string> {
  const id = `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
  const dir = join(projectRoot, STATE_DIR, GENERATIONS_DIR, id);
  await ensureDir(dir);
  for (const p of packages) {
    const out = join(dir, p.name);
    await extractPackage(p.store, p.descriptor, out);
    await makeReadOnly(out);
  }
  const installed = Object.fromEntries(packages.map((p) => [p.name, p.digest]).sort(([a], [b]) => (a! < b! ? -1 : 1)));
  await writeFileAtomic(join(dir, INSTALLED_FILE), `${JSON.stringify(installed, null, 2)}\n`, { mode: 0o444 });
  return dir;
}

/** Points `.aionctl/packages` at `generation` with one rename, then removes every other generation. */
export async function switchGeneration(projectRoot: string, generation: string): Promise<void> {
  const link = packagesDir(projectRoot);
  const temp = `${link}.${randomBytes(4).toString('hex')}.tmp`;
  const relative = join(GENERATIONS_DIR, generation.slice(generation.lastIndexOf('/') + 1));
  try {
    const st = await lstat(link).catch(() => undefined);
    if (st && !st.isSymbolicLink()) {
      // A plain directory (made by hand or an older tool): move it aside as a generation to be cleaned.
      await rename(link, join(projectRoot, STATE_DIR, GENERATIONS_DIR, `legacy-${randomBytes(4).toString('hex')}`));
    }
    await symlink(relative, temp);
    await rename(temp, link);
  } catch (err) {
    await rm(temp, { force: true }).catch(() => undefined);
    throw fsError(err, link, 'write');
  }
  await cleanGenerations(projectRoot);
}

/** Removes generations the symlink does not point at (half-built ones from an interrupted install). */
export async function cleanGenerations(projectRoot: string): Promise<void> {
  const root = join(projectRoot, STATE_DIR, GENERATIONS_DIR);
  const current = await readlink(packagesDir(projectRoot)).catch(() => '');
  const keep = current.slice(current.lastIndexOf('/') + 1);
  let entries: string[];
  try {
    entries = await readdir(root);
  } catch {
    return;
  }
  for (const e of entries)
    if (e !== keep) await rm(join(root, e), { recursive: true, force: true }).catch(() => undefined);
}

/** Removes the installed packages altogether (uninstalling the last package). */
export async function removeInstalled(projectRoot: string): Promise<void> {
  try {
    await rm(packagesDir(projectRoot), { force: true });
  } catch (err) {
    throw new AionError('FS003', `cannot remove ${packagesDir(projectRoot)}`, { cause: err });
  }
  await cleanGenerations(projectRoot);
}
