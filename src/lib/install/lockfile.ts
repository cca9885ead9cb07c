/**
 * `aionctl.lock`: one entry per package, in name order, with the exact manifest digest and the key that verified
 * it. JSON with sorted keys and a trailing newline, so the same install writes the same bytes on every machine.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AionError, fsError } from '../errors/index.js';
import { writeFileAtomic } from '../fs/index.js';
import { isDigest } from '../oci/index.js';
import { satisfiesRange } from '../resolve/index.js';

export const LOCKFILE = 'aionctl.lock';
export const LOCKFILE_VERSION = 1;

export interface LockEntry {
  version: string;
  /** `HOST/REPO` or `oci:DIR/NAME` as the project writes it. */
  repository: string;
  /** The tag the version was found under (`+` written `_`). */
  tag: string;
  /** Manifest digest: what is installed, whatever the tag says later. */
  digest: string;
  /** Every range that asked for it, sorted, de-duplicated. */
  requested: string[];
  /** Fingerprint of the key (or certificate identity) that verified it. */
  signer: string;
  dependencies: Record<string, string>;
}

export interface Lockfile {
  lockfileVersion: number;
  packages: Record<string, LockEntry>;
}

export function lockfilePath(projectRoot: string): string {
  return join(projectRoot, LOCKFILE);
}

/** The lockfile's bytes: keys sorted at every level, two-space indent, trailing newline. */
export function serializeLockfile(lock: Lockfile): string {
  const sortKeys = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sortKeys);
    if (v && typeof v === 'object')
      return Object.fromEntries(
        Object.keys(v)
          .sort()
          .map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]),
      );
    return v;
  };
  return `${JSON.stringify(sortKeys(lock), null, 2)}\n`;
}

/** The lockfile, or undefined when there is none. LC006 when it is unreadable. */
export async function readLockfile(path: string): Promise<Lockfile | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw fsError(err, path);
  }
  const bad = (why: string) =>
    new AionError('LC006', `${path} ${why}`, { hint: 'restore it from version control, or delete it and install' });
  let value: Lockfile;
  try {
    value = JSON.parse(text) as Lockfile;
  } catch {
    throw bad('is not JSON');
  }
  if (value?.lockfileVersion !== LOCKFILE_VERSION) throw bad(`has lockfileVersion ${String(value?.lockfileVersion)}`);
  if (!value.packages || typeof value.packages !== 'object') throw bad('has no packages');
  for (const [name, e] of Object.entries(value.packages)) {
    if (
      typeof e?.version !== 'string' ||
      typeof e.repository !== 'string' ||
      typeof e.tag !== 'string' ||
      !isDigest(e.digest) ||
      !Array.isArray(e.requested) ||
      typeof e.dependencies !== 'object'
    )
      throw bad(`has a malformed entry for ${name}`);
  }
  return value;
}

export async function writeLockfile(path: string, lock: Lockfile): Promise<void> {
  await writeFileAtomic(path, serializeLockfile(lock), { mode: 0o644 });
}

/**
 * Whether `lock` still answers `roots`: every root and every locked dependency is locked at a version its ranges
 * accept, from the repository the project names, and nothing else is locked. Then install needs no tags.
 */
export function lockSatisfies(
  lock: Lockfile,
  roots: Readonly<Record<string, string>>,
  repositoryOf: (name: string) => string,
): boolean {
  const reached = new Set<string>();
  const queue: [string, string][] = Object.entries(roots);
  while (queue.length) {
    const [name, range] = queue.shift()!;
    const entry = lock.packages[name];
    if (!entry || entry.repository !== repositoryOf(name) || !satisfiesRange(entry.version, range)) return false;
    if (reached.has(name)) continue;
    reached.add(name);
    for (const [dep, depRange] of Object.entries(entry.dependencies)) queue.push([dep, depRange]);
  }
  return reached.size === Object.keys(lock.packages).length;
}

/** What `ls` and the daemon read: ranges asked of each locked package, recomputed from the lock graph. */
export function requestedRanges(lock: Lockfile, roots: Readonly<Record<string, string>>): Map<string, string[]> {
  const out = new Map<string, Set<string>>();
  const add = (n: string, r: string) => (out.get(n) ?? out.set(n, new Set()).get(n)!).add(r);
  for (const [n, r] of Object.entries(roots)) add(n, r);
  for (const e of Object.values(lock.packages)) for (const [n, r] of Object.entries(e.dependencies)) add(n, r);
  return new Map([...out].map(([n, s]) => [n, [...s].sort()]));
}
