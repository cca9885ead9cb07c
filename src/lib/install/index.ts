/**
 * `aionctl install` and friends: resolve what `.aionctl.yaml` declares (semver over registry tags, transitive
 * `dependencies`), verify every package against the trust policy before it enters the store, write
 * `aionctl.lock`, and extract the packages read-only under `.aionctl/packages/NAME/`.
 */
import { join } from 'node:path';
import pLimit from 'p-limit';
import semver from 'semver';
import { type AionPaths, type Env, loadConfig, PROJECT_FILE } from '../config/index.js';
import { AionError } from '../errors/index.js';
import { type Descriptor, MEDIA_TYPES, openStore, type Target } from '../oci/index.js';
import type { ConnectOptions } from '../oci/registry/index.js';
import { type PlannedPackage, resolve, sortVersionsDescending, type VersionDeps } from '../resolve/index.js';
import {
  buildGeneration,
  cleanGenerations,
  installedDigests,
  installedPackageDir,
  removeInstalled,
  STATE_DIR,
  switchGeneration,
} from './generations.js';
import {
  type FetchContext,
  fetchContext,
  inStore,
  listVersions,
  readPackageMeta,
  Sources,
  verifyStoreCopy,
  storePackage,
  verifyPackage,
} from './fetch.js';
import {
  LOCKFILE,
  type LockEntry,
  type Lockfile,
  lockfilePath,
  lockSatisfies,
  readLockfile,
  serializeLockfile,
  writeLockfile,
} from './lockfile.js';
import {
  type DeclaredPackages,
  declaredPackages,
  editProjectPackages,
  parsePackageArg,
  readModulesFile,
  sourceFor,
} from './project.js';

export { installedPackageDir, installedDigests, packagesDir } from './generations.js';
export { LOCKFILE, type LockEntry, type Lockfile, lockfilePath, readLockfile, serializeLockfile } from './lockfile.js';
export { declaredPackages, parsePackageArg, readModulesFile } from './project.js';

export interface InstallEvent {
  kind: 'package';
  name: string;
  version: string;
  digest: string;
  /** false: it was already in the store. */
  fetched: boolean;
  signer: string;
}

export interface InstallOptions {
  cwd: string;
  env: Env;
  paths: AionPaths;
  /** `NAME[@RANGE]` to add to `packages` (install NAME). */
  add?: string[];
  /** Names to remove from `packages` (uninstall). */
  remove?: string[];
  /** A modules.yml whose modules are added at their exact references. */
  modulesFile?: string;
  /** Re-resolve these names within their ranges (update); [] = all. */
  update?: string[];
  /** Fail (LC005) when the lockfile would change. Default: when CI is set. */
  frozen?: boolean;
  offline?: boolean;
  concurrency?: number;
  registry?: ConnectOptions;
  signal?: AbortSignal;
  onEvent?: (event: InstallEvent) => void;
  /** Opens a repository instead of openTarget (the daemon passes its caching opener). */
  openRepository?: FetchContext['openRepository'];
}

export interface InstalledPackage {
  name: string;
  version: string;
  repository: string;
  digest: string;
  signer: string;
  requested: string[];
  dependencies: Record<string, string>;
  fetched: boolean;
  path: string;
}

export interface InstallResult {
  projectRoot: string;
  lockfile: string;
  /** Whether aionctl.lock was (re)written. */
  lockfileChanged: boolean;
  /** Resolved from the lockfile alone (no tags asked). */
  fromLockfile: boolean;
  /** Topological order: dependencies first. */
  packages: InstalledPackage[];
  removed: string[];
}

export function isCi(env: Env): boolean {
  const ci = env.CI;
  return ci !== undefined && ci !== '' && ci !== '0' && ci.toLowerCase() !== 'false';
}

interface Project {
  root: string;
  file: string;
  exists: boolean;
  declared: DeclaredPackages;
  ctx: FetchContext;
}

async function openProject(options: InstallOptions, requireFile: boolean): Promise<Project> {
  const loaded = await loadConfig(options.cwd, options.paths.config);
  if (!loaded.projectFile && requireFile)
    throw new AionError('LC011', `no ${PROJECT_FILE} in ${options.cwd} or above`, {
      hint: `create one with \`aionctl init\`, or add a package: aionctl install NAME@RANGE`,
    });
  const root = loaded.projectRoot ?? options.cwd;
  return {
    root,
    file: loaded.projectFile ?? join(root, PROJECT_FILE),
    exists: loaded.projectFile !== undefined,
    declared: declaredPackages(loaded.config),
    ctx: fetchContext(options, loaded),
  };
}

interface PlanEntry {
  name: string;
  version: string;
  tag: string;
  descriptor: Descriptor;
  requested: string[];
  dependencies: Record<string, string>;
}

/** Resolves the roots against the sources (tags listed, configs read) round by round. */
async function resolveFromSources(
  project: Project,
  roots: Record<string, string>,
  sources: Sources,
  preferred: Map<string, string>,
): Promise<PlanEntry[]> {
  const graph = new Map<string, VersionDeps>();
  const tags = new Map<string, Map<string, string>>();
  const metas = new Map<string, Descriptor>();
  const limit = pLimit(Math.max(4, project.ctx.concurrency));
  for (;;) {
    project.ctx.signal?.throwIfAborted();
    const result = resolve({ roots, graph, preferred, rootLabel: PROJECT_FILE });
    if (result.kind === 'plan') {
      return result.packages.map((p: PlannedPackage) => ({
        name: p.name,
        version: p.version,
        tag: tags.get(p.name)!.get(p.version)!,
        descriptor: metas.get(`${p.name}@${p.version}`)!,
        requested: [...new Set(p.requested.map((r) => r.range))].sort(),
        dependencies: p.dependencies,
      }));
    }
    await Promise.all([
      ...result.versions.map((name) =>
        limit(async () => {
          const source = sourceFor(name, project.declared, project.root);
          const versions = await listVersions(await sources.target(name, source));
          if (versions.size === 0 && project.ctx.offline)
            throw new AionError('NE020', `offline: ${name} is not in the local store`, {
              hint: `install once online (or drop --offline) to fetch ${name} from ${source.repository}`,
            });
          tags.set(name, versions);
          graph.set(name, new Map([...versions.keys()].map((v) => [v, undefined])));
        }),
      ),
      ...result.dependencies.map(({ name, version }) =>
        limit(async () => {
          const source = sourceFor(name, project.declared, project.root);
          const tag = tags.get(name)!.get(version)!;
          const meta = await readPackageMeta(await sources.target(name, source), tag, `${source.repository}:${tag}`);
          metas.set(`${name}@${version}`, meta.descriptor);
          graph.get(name)!.set(version, meta.dependencies);
        }),
      ),
    ]);
  }
}

function planFromLock(lock: Lockfile, roots: Record<string, string>): PlanEntry[] {
  const requested = new Map<string, Set<string>>();
  const add = (n: string, r: string) => (requested.get(n) ?? requested.set(n, new Set()).get(n)!).add(r);
  for (const [n, r] of Object.entries(roots)) add(n, r);
  for (const e of Object.values(lock.packages)) for (const [n, r] of Object.entries(e.dependencies)) add(n, r);
  // dependencies first
  const out: PlanEntry[] = [];
  const seen = new Set<string>();
  const visit = (name: string) => {
    if (seen.has(name)) return;
    seen.add(name);
    const e = lock.packages[name]!;
    for (const d of Object.keys(e.dependencies).sort()) visit(d);
    out.push({
      name,
      version: e.version,
      tag: e.tag,
      descriptor: { mediaType: MEDIA_TYPES.imageManifest, digest: e.digest, size: 0 },
      requested: [...(requested.get(name) ?? [])].sort(),
      dependencies: e.dependencies,
    });
  };
  for (const name of Object.keys(lock.packages).sort()) visit(name);
  return out;
}

/** The lockfile would be rewritten identically and the current generation holds exactly its digests. */
async function alreadyInstalled(root: string, lock: Lockfile, plan: PlanEntry[]): Promise<boolean> {
  const current = await installedDigests(root);
  if (Object.keys(current).length !== plan.length) return false;
  if (!plan.every((p) => current[p.name] === p.descriptor.digest)) return false;
  const requested = Object.fromEntries(plan.map((p) => [p.name, p.requested]));
  return Object.entries(lock.packages).every(
    ([name, e]) => JSON.stringify(e.requested) === JSON.stringify(requested[name]),
  );
}

/** Picks `^<highest stable>` (or the highest prerelease when there is nothing else) for `install NAME`. */
async function defaultRange(project: Project, name: string, sources: Sources): Promise<string> {
  const source = sourceFor(name, project.declared, project.root);
  const versions = sortVersionsDescending((await listVersions(await sources.target(name, source))).keys());
  const best = versions.find((v) => semver.prerelease(v) === null) ?? versions[0];
  if (best === undefined)
    throw new AionError('LC001', `no version of ${name} in ${source.repository} (available: none)`, {
      hint: `check the name, or publish ${name} there first`,
    });
  return semver.prerelease(best) ? best : `^${semver.parse(best)!.version}`;
}

/** The whole install: resolve (or read the lock), verify, fetch into the store, lock, extract, swap. */
export async function install(options: InstallOptions): Promise<InstallResult> {
  const adding = (options.add?.length ?? 0) > 0 || options.modulesFile !== undefined;
  const project = await openProject(options, !adding);
  const { ctx } = project;
  const frozen = options.frozen ?? isCi(options.env);
  const sources = new Sources(ctx);
  const { acquireInstallLock } = await import('./lock.js');
  const release = await acquireInstallLock(join(project.root, STATE_DIR));
  try {
    // 1. What the project asks for (after this command's additions and removals).
    const roots = { ...project.declared.roots };
    const edits: Record<string, string | undefined> = {};
    if (options.modulesFile) {
      for (const m of await readModulesFile(options.modulesFile)) {
        project.declared.repositories[m.name] = m.repository;
        roots[m.name] = m.range;
        edits[m.name] = `${m.repository}@${m.range}`;
      }
    }
    for (const arg of options.add ?? []) {
      const { name, range, repository } = parsePackageArg(arg);
      if (repository !== undefined) project.declared.repositories[name] = repository;
      const chosen = range ?? (await defaultRange(project, name, sources));
      roots[name] = chosen;
      edits[name] = repository !== undefined ? `${repository}@${chosen}` : chosen;
    }
    for (const name of options.remove ?? []) {
      if (!(name in roots))
        throw new AionError('LC008', `${name} is not declared in ${project.file}`, {
          hint: `declared: ${Object.keys(roots).sort().join(', ') || 'nothing'}`,
        });
      delete roots[name];
      delete project.declared.repositories[name];
      edits[name] = undefined;
    }
    const repositoryOf = (name: string) => sourceFor(name, project.declared, project.root).repository;

    // 2. The plan: the lockfile when it still answers the roots (no tags asked), else a resolution.
    const lockPath = lockfilePath(project.root);
    const previous = await readLockfile(lockPath);
    const updating = options.update !== undefined;
    let plan: PlanEntry[];
    let fromLockfile = false;
    if (previous && !updating && lockSatisfies(previous, roots, repositoryOf)) {
      plan = planFromLock(previous, roots);
      fromLockfile = true;
      // Up to date: the lockfile is what it would be and .aionctl/packages holds exactly its digests (each
      // verified when it was installed; `aionctl verify --lockfile` re-checks against today's policy).
      const upToDate = await alreadyInstalled(project.root, previous, plan);
      if (upToDate && Object.keys(edits).length === 0) {
        return {
          projectRoot: project.root,
          lockfile: lockPath,
          lockfileChanged: false,
          fromLockfile: true,
          removed: [],
          packages: plan.map((p) => {
            const e = previous.packages[p.name]!;
            return {
              name: p.name,
              version: e.version,
              repository: e.repository,
              digest: e.digest,
              signer: e.signer,
              requested: e.requested,
              dependencies: e.dependencies,
              fetched: false,
              path: installedPackageDir(project.root, p.name),
            };
          }),
        };
      }
    } else {
      if (frozen)
        throw new AionError(
          'LC005',
          previous
            ? `${LOCKFILE} does not match ${PROJECT_FILE} and --frozen forbids changing it`
            : `there is no ${LOCKFILE} and --frozen forbids creating it`,
          { hint: 'run `aionctl install` without --frozen (and without CI set), then commit aionctl.lock' },
        );
      const preferred = new Map<string, string>();
      const all = options.update !== undefined && options.update.length === 0;
      for (const [name, e] of Object.entries(previous?.packages ?? {}))
        if (!all && !options.update?.includes(name)) preferred.set(name, e.version);
      plan = await resolveFromSources(project, roots, sources, preferred);
    }

    // 3. Verify every package (before anything enters the store), then fetch what the store lacks.
    const limit = pLimit(ctx.concurrency);
    const verified = await Promise.all(
      plan.map((p) =>
        limit(async () => {
          const source = sourceFor(p.name, project.declared, project.root);
          const storedDescriptor = await inStore(ctx, p.name, p.descriptor.digest);
          if (!storedDescriptor && ctx.offline)
            throw new AionError(
              'NE020',
              `offline: ${p.name}@${p.version} (${p.descriptor.digest}) is not in the local store`,
              {
                hint: `run the install once without --offline to fetch it from ${source.repository}`,
              },
            );
          if (storedDescriptor) {
            p.descriptor = storedDescriptor;
            const signer = ctx.offline
              ? await verifyPackage(ctx, openStore(p.name, ctx.env), source.ref, p.descriptor.digest)
              : await verifyStoreCopy(ctx, p.name, source.ref, p.descriptor.digest);
            if (signer !== undefined)
              return { entry: p, source, stored: true, signer, target: openStore(p.name, ctx.env) as Target };
          }
          const target = await sources.target(p.name, source);
          // The lock carries no size: read the manifest's real descriptor (digest-checked) before copying.
          if (p.descriptor.size === 0) p.descriptor = (await target.fetchManifest(p.descriptor.digest)).descriptor;
          const signer = await verifyPackage(ctx, target, source.ref, p.descriptor.digest);
          const stored = false;
          return { entry: p, source, stored, signer, target };
        }),
      ),
    );
    await Promise.all(
      verified.map((v) =>
        limit(async () => {
          if (!v.stored) await storePackage(ctx, v.target, v.entry.name, v.entry.descriptor, v.entry.tag);
          options.onEvent?.({
            kind: 'package',
            name: v.entry.name,
            version: v.entry.version,
            digest: v.entry.descriptor.digest,
            fetched: !v.stored,
            signer: v.signer,
          });
        }),
      ),
    );

    // 4. The lockfile, then the packages (a new generation swapped in), then the project file.
    const lock: Lockfile = { lockfileVersion: 1, packages: {} };
    for (const v of verified) {
      const e: LockEntry = {
        version: v.entry.version,
        repository: v.source.repository,
        tag: v.entry.tag,
        digest: v.entry.descriptor.digest,
        requested: v.entry.requested,
        signer: v.signer,
        dependencies: v.entry.dependencies,
      };
      lock.packages[v.entry.name] = e;
    }
    const lockfileChanged = !previous || serializeLockfile(previous) !== serializeLockfile(lock);
    if (lockfileChanged && frozen)
      throw new AionError('LC005', `${LOCKFILE} would change and --frozen forbids it`, {
        hint: 'run `aionctl install` without --frozen (and without CI set), then commit aionctl.lock',
      });
    const current = await installedDigests(project.root);
    const wanted = Object.fromEntries(plan.map((p) => [p.name, p.descriptor.digest]));
    const same =
      Object.keys(current).length === plan.length && plan.every((p) => current[p.name] === p.descriptor.digest);
    let generation: string | undefined;
    if (!same && plan.length > 0)
      generation = await buildGeneration(
        project.root,
        plan.map((p) => ({
          name: p.name,
          digest: wanted[p.name]!,
          store: openStore(p.name, ctx.env),
          descriptor: p.descriptor,
        })),
      );
    if (lockfileChanged) await writeLockfile(lockPath, lock);
    if (generation) await switchGeneration(project.root, generation);
    else if (plan.length === 0) await removeInstalled(project.root);
    else await cleanGenerations(project.root);
    if (Object.keys(edits).length > 0 || (!project.exists && adding)) await editProjectPackages(project.file, edits);

    return {
      projectRoot: project.root,
      lockfile: lockPath,
      lockfileChanged,
      fromLockfile,
      removed: options.remove ?? [],
      packages: verified.map((v) => ({
        name: v.entry.name,
        version: v.entry.version,
        repository: v.source.repository,
        digest: v.entry.descriptor.digest,
        signer: v.signer,
        requested: v.entry.requested,
        dependencies: v.entry.dependencies,
        fetched: !v.stored,
        path: installedPackageDir(project.root, v.entry.name),
      })),
    };
  } finally {
    await sources.close();
    await release();
  }
}

export interface ResolveOptions {
  cwd: string;
  env: Env;
  paths: AionPaths;
  /** `NAME[@RANGE]` or `HOST/REPOSITORY/NAME[@RANGE]`, as `aionctl install` takes them; none: what the project declares. */
  specs?: string[];
  /** Ignore the lockfile's versions (as `aionctl update` does); default: keep them while they satisfy. */
  update?: boolean;
  offline?: boolean;
  concurrency?: number;
  registry?: ConnectOptions;
  signal?: AbortSignal;
  openRepository?: FetchContext['openRepository'];
}

export interface ResolvedPackage {
  name: string;
  version: string;
  repository: string;
  tag: string;
  digest: string;
  requested: string[];
  dependencies: Record<string, string>;
}

/**
 * What `aionctl install` would pick, without verifying, fetching or writing anything: the project's packages plus
 * `specs`, resolved over the registry tags (semver, transitive dependencies), in topological order with the
 * manifest digest of each. Same resolution, same errors (LC0xx, RG, NE) as install.
 */
export async function resolvePackages(
  options: ResolveOptions,
): Promise<{ projectRoot: string; packages: ResolvedPackage[] }> {
  const specs = options.specs ?? [];
  const { update: _update, specs: _specs, ...open } = options;
  const project = await openProject({ ...open, add: specs }, specs.length === 0);
  const sources = new Sources(project.ctx);
  try {
    const roots = { ...project.declared.roots };
    for (const arg of specs) {
      const { name, range, repository } = parsePackageArg(arg);
      if (repository !== undefined) project.declared.repositories[name] = repository;
      roots[name] = range ?? (await defaultRange(project, name, sources));
    }
    const preferred = new Map<string, string>();
    if (!options.update) {
      const previous = await readLockfile(lockfilePath(project.root));
      for (const [name, e] of Object.entries(previous?.packages ?? {})) preferred.set(name, e.version);
    }
    const plan = await resolveFromSources(project, roots, sources, preferred);
    return {
      projectRoot: project.root,
      packages: plan.map((p) => ({
        name: p.name,
        version: p.version,
        repository: sourceFor(p.name, project.declared, project.root).repository,
        tag: p.tag,
        digest: p.descriptor.digest,
        requested: p.requested,
        dependencies: p.dependencies,
      })),
    };
  } finally {
    await sources.close();
  }
}

export { listInstalled, outdated, gc, verifyLockfile } from './inspect.js';
export type { ListedPackage, OutdatedPackage, GcResult, LockfileVerification } from './inspect.js';
export { progressLine, summaryLine } from './render.js';
