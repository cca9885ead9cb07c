/** Read-side commands over an installed project: ls, outdated, gc, verify --lockfile. */
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import semver from 'semver';
import { type AionPaths, type Env, loadConfig, PROJECT_FILE } from '../config/index.js';
import { AionError } from '../errors/index.js';
import { type ImageIndex, LayoutTarget, openStore, REF_NAME, storeRoot } from '../oci/index.js';
import type { ConnectOptions } from '../oci/registry/index.js';
import { satisfiesRange, sortVersionsDescending } from '../resolve/index.js';
import { fetchContext, inStore, listVersions, Sources, verifyPackage } from './fetch.js';
import { installedDigests, installedPackageDir } from './generations.js';
import { LOCKFILE, type Lockfile, lockfilePath, readLockfile } from './lockfile.js';
import { declaredPackages, openableRef } from './project.js';

export interface InspectOptions {
  cwd: string;
  env: Env;
  paths: AionPaths;
  registry?: ConnectOptions;
  offline?: boolean;
}

async function openLocked(options: InspectOptions, lockRequired = true) {
  const loaded = await loadConfig(options.cwd, options.paths.config);
  const root = loaded.projectRoot ?? options.cwd;
  const lockPath = lockfilePath(root);
  const lock = await readLockfile(lockPath);
  if (!lock && lockRequired)
    throw new AionError('LC008', `nothing is installed: no ${LOCKFILE} in ${root}`, {
      hint: `declare packages in ${PROJECT_FILE} and run \`aionctl install\``,
    });
  const ctx = fetchContext(options, loaded);
  return { loaded, root, lockPath, lock: lock ?? { lockfileVersion: 1, packages: {} }, ctx };
}

export interface ListedPackage {
  name: string;
  version: string;
  digest: string;
  repository: string;
  signer: string;
  requested: string[];
  dependencies: Record<string, string>;
  /** Declared in .aionctl.yaml (else pulled in by another package). */
  direct: boolean;
  /** Extracted under .aionctl/packages with the locked digest. */
  installed: boolean;
  path: string;
}

/** The locked packages, direct ones first, each with its dependencies (`ls`). */
export async function listInstalled(
  options: InspectOptions,
): Promise<{ projectRoot: string; packages: ListedPackage[] }> {
  const { loaded, root, lock } = await openLocked(options, false);
  const declared = declaredPackages(loaded.config);
  const installed = await installedDigests(root);
  const packages = Object.entries(lock.packages)
    .map(([name, e]) => ({
      name,
      version: e.version,
      digest: e.digest,
      repository: e.repository,
      signer: e.signer,
      requested: e.requested,
      dependencies: e.dependencies,
      direct: name in declared.roots,
      installed: installed[name] === e.digest,
      path: installedPackageDir(root, name),
    }))
    .sort((a, b) => Number(b.direct) - Number(a.direct) || (a.name < b.name ? -1 : 1));
  return { projectRoot: root, packages };
}

export interface OutdatedPackage {
  name: string;
  current: string;
  /** Newest version every range on it accepts. */
  wanted: string;
  /** Newest version at all (stable, unless only prereleases exist). */
  latest: string;
  requested: string[];
  repository: string;
}

/** Newest within and beyond each locked package's ranges (`outdated`); lists tags. */
export async function outdated(options: InspectOptions): Promise<OutdatedPackage[]> {
  const { root, lock, ctx } = await openLocked(options);
  const sources = new Sources(ctx);
  try {
    const out: OutdatedPackage[] = [];
    for (const [name, e] of Object.entries(lock.packages).sort(([a], [b]) => (a < b ? -1 : 1))) {
      const source = { repository: e.repository, ref: openableRef(e.repository, root) };
      const versions = sortVersionsDescending((await listVersions(await sources.target(name, source))).keys());
      const wanted = versions.find((v) => e.requested.every((r) => satisfiesRange(v, r))) ?? e.version;
      const latest = versions.find((v) => semver.prerelease(v) === null) ?? versions[0] ?? e.version;
      out.push({ name, current: e.version, wanted, latest, requested: e.requested, repository: e.repository });
    }
    return out;
  } finally {
    await sources.close();
  }
}

export interface GcResult {
  /** Blobs removed (or, with dryRun, that would be). */
  blobs: { digest: string; size: number }[];
  bytes: number;
  /** Untagged store entries dropped from the index. */
  entries: number;
  dryRun: boolean;
}

/**
 * Removes store blobs that no tag, no entry of this project's lockfile and no referrer of those uses. Untagged
 * index entries that nothing keeps are dropped too.
 */
export async function gc(options: InspectOptions & { dryRun?: boolean }): Promise<GcResult> {
  const { lock } = await openLocked(options, false);
  const layout = new LayoutTarget(storeRoot(options.env), { name: 'store' });
  const index: ImageIndex = await layout.readIndex();
  const locked = new Set(Object.values(lock.packages).map((e) => e.digest));
  const parsed = new Map<string, { subject?: string; children: string[]; blobs: string[] }>();
  for (const d of index.manifests) {
    try {
      const { bytes } = await layout.fetchManifest(d);
      const m = JSON.parse(Buffer.from(bytes).toString('utf8')) as {
        subject?: { digest: string };
        manifests?: { digest: string }[];
        config?: { digest: string };
        layers?: { digest: string }[];
      };
      parsed.set(d.digest, {
        ...(m.subject ? { subject: m.subject.digest } : {}),
        children: (m.manifests ?? []).map((c) => c.digest),
        blobs: [m.config?.digest, ...(m.layers ?? []).map((l) => l.digest)].filter((x): x is string => !!x),
      });
    } catch {
      // an entry whose manifest is gone keeps nothing alive
    }
  }
  const keep = new Set<string>();
  const queue = index.manifests
    .filter((d) => d.annotations?.[REF_NAME] !== undefined || locked.has(d.digest))
    .map((d) => d.digest);
  for (let changed = true; changed;) {
    changed = false;
    while (queue.length) {
      const digest = queue.pop()!;
      if (keep.has(digest)) continue;
      keep.add(digest);
      changed = true;
      const p = parsed.get(digest);
      for (const c of p?.children ?? []) queue.push(c);
    }
    // referrers of anything kept are kept
    for (const [digest, p] of parsed) if (!keep.has(digest) && p.subject && keep.has(p.subject)) queue.push(digest);
    if (queue.length) changed = true;
  }
  const used = new Set<string>(keep);
  for (const digest of keep) for (const b of parsed.get(digest)?.blobs ?? []) used.add(b);
  const dir = join(layout.root, 'blobs', 'sha256');
  let names: string[] = [];
  try {
    names = await readdir(dir);
  } catch {
    names = [];
  }
  const blobs: { digest: string; size: number }[] = [];
  for (const hex of names.sort()) {
    if (!/^[a-f0-9]{64}$/.test(hex)) continue;
    const digest = `sha256:${hex}`;
    if (used.has(digest)) continue;
    const size = (await stat(join(dir, hex)).catch(() => ({ size: 0 }))).size;
    blobs.push({ digest, size });
  }
  const dropped = index.manifests.filter((d) => !keep.has(d.digest)).length;
  if (!options.dryRun) {
    if (dropped > 0)
      await layout.updateIndex(
        (i) => (i.manifests = i.manifests.filter((d) => keep.has(d.digest) || d.annotations?.[REF_NAME] !== undefined)),
      );
    for (const b of blobs) await rm(join(dir, b.digest.slice(7)), { force: true });
  }
  return { blobs, bytes: blobs.reduce((n, b) => n + b.size, 0), entries: dropped, dryRun: options.dryRun === true };
}

export interface LockfileVerification {
  name: string;
  version: string;
  digest: string;
  signer: string;
  /** Verified from the store's copy (else from the repository). */
  fromStore: boolean;
}

/** Re-verifies every locked digest against the trust policy (`verify --lockfile`, for CI). */
export async function verifyLockfile(options: InspectOptions & { lockfile: string }): Promise<LockfileVerification[]> {
  const { root, ctx } = await openLocked(options, false);
  const lock: Lockfile | undefined = await readLockfile(options.lockfile);
  if (!lock)
    throw new AionError('LC006', `${options.lockfile} does not exist`, { hint: 'run `aionctl install` first' });
  const sources = new Sources(ctx);
  try {
    const out: LockfileVerification[] = [];
    for (const [name, e] of Object.entries(lock.packages).sort(([a], [b]) => (a < b ? -1 : 1))) {
      const source = { repository: e.repository, ref: openableRef(e.repository, root) };
      const stored = (await inStore(ctx, name, e.digest)) !== undefined;
      const target = stored ? openStore(name, ctx.env) : await sources.target(name, source);
      const signer = await verifyPackage(ctx, target, source.ref, e.digest);
      out.push({ name, version: e.version, digest: e.digest, signer, fromStore: stored });
    }
    return out;
  } finally {
    await sources.close();
  }
}
