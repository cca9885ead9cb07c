/**
 * The dependency resolver: a pure function from a package graph (the versions each name has and, once known,
 * their dependency ranges) to an install plan. One version per name; the highest version that satisfies every
 * range placed on a name (prereleases only when a range names one, as npm does; a preferred — locked — version
 * wins while it still satisfies). Conflicts name both paths from the root, cycles name the cycle, and the plan is
 * in topological order (dependencies first). When the graph lacks something the resolver needs (a name's
 * versions, a picked version's dependencies) it says so instead of guessing, so a caller can fetch exactly that
 * and call again.
 */
import semver from 'semver';
import { AionError } from '../errors/index.js';

/** A name's known versions: version -> its dependency ranges (undefined: not fetched yet). */
export type VersionDeps = Map<string, Readonly<Record<string, string>> | undefined>;

export interface ResolveInput {
  /** What the project asks for: name -> semver range. */
  roots: Readonly<Record<string, string>>;
  /** Everything known about the universe: name -> versions (missing name: its versions are not listed yet). */
  graph: ReadonlyMap<string, VersionDeps>;
  /** Versions to keep while they still satisfy every range (the lockfile's). */
  preferred?: ReadonlyMap<string, string>;
  /** Label of the root in messages (default `.aionctl.yaml`). */
  rootLabel?: string;
  /** The graph is the whole universe: a name it lacks has no versions (instead of a `need`). */
  complete?: boolean;
}

export interface PlannedPackage {
  name: string;
  version: string;
  /** Every range that asked for this name, with who asked (`.aionctl.yaml` or `name@version`). */
  requested: { range: string; by: string }[];
  /** Dependency ranges of the picked version. */
  dependencies: Record<string, string>;
  /** Shortest path from the root: `["a@1.0.0", "b@2.0.0"]` (the package itself last). */
  path: string[];
}

export type ResolveResult =
  | { kind: 'plan'; packages: PlannedPackage[] }
  | { kind: 'need'; versions: string[]; dependencies: { name: string; version: string }[] };

/** A registry tag as a semver version: `_` stands for `+` (Helm); undefined when it is not semver. */
export function tagToVersion(tag: string): string | undefined {
  const parsed = semver.parse(tag.replaceAll('_', '+'));
  if (!parsed) return undefined;
  return parsed.build.length ? `${parsed.version}+${parsed.build.join('.')}` : parsed.version;
}

/** The versions among `tags`: version -> the tag that carries it (an exact tag wins over a `v`-prefixed one). */
export function versionsFromTags(tags: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const tag of tags) {
    const v = tagToVersion(tag);
    if (v === undefined) continue;
    const existing = out.get(v);
    if (existing === undefined || tag.replaceAll('_', '+') === v) out.set(v, tag);
  }
  return out;
}

/** Highest first; versions equal but for build metadata are ordered by it. */
export function sortVersionsDescending(versions: Iterable<string>): string[] {
  return [...versions].sort((a, b) => {
    const va = parseVersion(a);
    const vb = parseVersion(b);
    return vb.compare(va) || vb.compareBuild(va);
  });
}

interface Constraint {
  range: string;
  by: string;
  /** Path of who asked (empty for the root). */
  from: string[];
}

const rangeCache = new Map<string, semver.Range | null>();
function parseRange(range: string): semver.Range | null {
  let r = rangeCache.get(range);
  if (r === undefined) {
    try {
      r = new semver.Range(range);
    } catch {
      r = null;
    }
    if (rangeCache.size > 10_000) rangeCache.clear();
    rangeCache.set(range, r);
  }
  return r;
}

const semverCache = new Map<string, semver.SemVer>();
function parseVersion(v: string): semver.SemVer {
  let s = semverCache.get(v);
  if (!s) {
    s = new semver.SemVer(v);
    if (semverCache.size > 100_000) semverCache.clear();
    semverCache.set(v, s);
  }
  return s;
}

const satisfiesCache = new Map<string, Map<string, boolean>>();
export function satisfiesRange(version: string, range: string): boolean {
  let byVersion = satisfiesCache.get(range);
  if (!byVersion) {
    if (satisfiesCache.size > 10_000) satisfiesCache.clear();
    satisfiesCache.set(range, (byVersion = new Map()));
  }
  let ok = byVersion.get(version);
  if (ok === undefined) {
    const r = parseRange(range);
    ok = r !== null && r.test(parseVersion(version));
    if (byVersion.size > 100_000) byVersion.clear();
    byVersion.set(version, ok);
  }
  return ok;
}

function describe(c: Constraint, name: string, rootLabel: string): string {
  return [rootLabel, ...c.from, `${name}@${c.range}`].join(' -> ');
}

/** Resolves `input` to a plan, or says what is missing from the graph. Throws LC001/LC002/LC003/LC004. */
export function resolve(input: ResolveInput): ResolveResult {
  const rootLabel = input.rootLabel ?? '.aionctl.yaml';
  const ROOT = '\u0000root';
  const sorted = new Map<string, string[]>();
  const versionsOf = (name: string): string[] | undefined => {
    let s = sorted.get(name);
    if (!s) {
      const known = input.graph.get(name);
      if (!known) {
        if (!input.complete) return undefined;
        sorted.set(name, []);
        return [];
      }
      s = sortVersionsDescending(known.keys());
      sorted.set(name, s);
    }
    return s;
  };
  for (const [name, range] of Object.entries(input.roots)) {
    if (parseRange(range) === null)
      throw new AionError('LC004', `${rootLabel} asks for ${name}@${range}: not a semver range`, {
        hint: 'write a range such as ^1.2.0, ~0.2.0, 1.x or an exact version',
      });
  }

  // Worklist to a fixpoint: each name carries the ranges its current requirers place on it (one requirer per
  // name, since each has one version); a name whose ranges change is re-picked, and a changed pick withdraws its
  // old dependency ranges and places the new ones.
  const ranges = new Map<string, Map<string, string>>();
  const picks = new Map<string, string>();
  const needVersions = new Set<string>();
  const needDeps = new Map<string, { name: string; version: string }>();
  const queue: string[] = [];
  const queued = new Set<string>();
  const enqueue = (name: string) => {
    if (!queued.has(name)) {
      queued.add(name);
      queue.push(name);
    }
  };
  const place = (on: string, by: string, range: string) => {
    let m = ranges.get(on);
    if (!m) ranges.set(on, (m = new Map()));
    m.set(by, range);
    enqueue(on);
  };
  const depsOf = (name: string, version: string | undefined) =>
    version === undefined ? undefined : input.graph.get(name)?.get(version);
  for (const name of Object.keys(input.roots).sort()) place(name, ROOT, input.roots[name]!);
  let steps = 0;
  const maxSteps = 50 * (input.graph.size + Object.keys(input.roots).length + 10);
  let head = 0;
  while (head < queue.length) {
    if (++steps > maxSteps)
      throw new AionError('LC004', 'the dependency graph did not settle', {
        hint: 'pin the packages that keep changing to exact versions in .aionctl.yaml',
      });
    const name = queue[head++]!;
    queued.delete(name);
    const asked = ranges.get(name);
    const old = picks.get(name);
    let pick: string | undefined;
    if (asked && asked.size > 0) {
      const versions = versionsOf(name);
      if (!versions) {
        needVersions.add(name);
        continue;
      }
      const list = [...asked.values()];
      const fits = (v: string) => list.every((r) => satisfiesRange(v, r));
      const preferred = input.preferred?.get(name);
      pick =
        preferred !== undefined && input.graph.get(name)?.has(preferred) && fits(preferred) ? preferred : undefined;
      pick ??= versions.find(fits);
      if (pick === undefined) {
        const constraints = describeConstraints(name, asked, picks, ranges, ROOT);
        throw unsatisfiable(name, constraints, versions, rootLabel);
      }
    }
    if (pick === old) continue;
    const oldDeps = depsOf(name, old);
    if (old !== undefined) needDeps.delete(`${name}@${old}`);
    for (const dep of Object.keys(oldDeps ?? {})) {
      ranges.get(dep)?.delete(name);
      enqueue(dep);
    }
    if (pick === undefined) {
      picks.delete(name);
      continue;
    }
    picks.set(name, pick);
    const deps = depsOf(name, pick);
    if (deps === undefined) {
      needDeps.set(`${name}@${pick}`, { name, version: pick });
      continue;
    }
    for (const dep of Object.keys(deps).sort()) {
      const range = deps[dep]!;
      if (parseRange(range) === null)
        throw new AionError('LC004', `${name}@${pick} depends on ${dep}@${range}: not a semver range`, {
          hint: `fix the dependencies of ${name} and publish a new version`,
        });
      place(dep, name, range);
    }
  }
  if (needVersions.size > 0 || needDeps.size > 0)
    return { kind: 'need', versions: [...needVersions].sort(), dependencies: [...needDeps.values()] };
  // Keep what the roots reach (a cycle abandoned by its requirer would otherwise linger).
  const paths = pathsFrom(Object.keys(input.roots), picks, input.graph);
  const kept = new Map([...picks].filter(([n]) => paths.has(n)));
  const constraints = new Map<string, Constraint[]>();
  for (const name of kept.keys())
    constraints.set(name, describeConstraints(name, ranges.get(name) ?? new Map(), kept, ranges, ROOT, paths));
  return { kind: 'plan', packages: order(rootLabel, kept, constraints, paths, input.graph) };
}

/** Shortest path (as `name@version` steps) from the roots to every reached name, through the picks. */
function pathsFrom(
  roots: string[],
  picks: ReadonlyMap<string, string>,
  graph: ReadonlyMap<string, VersionDeps>,
): Map<string, string[]> {
  const paths = new Map<string, string[]>();
  const queue: string[] = [];
  for (const r of [...roots].sort()) {
    if (!picks.has(r) || paths.has(r)) continue;
    paths.set(r, [`${r}@${picks.get(r)}`]);
    queue.push(r);
  }
  for (let i = 0; i < queue.length; i++) {
    const name = queue[i]!;
    const deps = graph.get(name)?.get(picks.get(name)!) ?? {};
    for (const dep of Object.keys(deps).sort()) {
      if (paths.has(dep) || !picks.has(dep)) continue;
      paths.set(dep, [...paths.get(name)!, `${dep}@${picks.get(dep)}`]);
      queue.push(dep);
    }
  }
  return paths;
}

/** The ranges on `name` with who asked and the path to the asker (root first). */
function describeConstraints(
  _name: string,
  asked: ReadonlyMap<string, string>,
  picks: ReadonlyMap<string, string>,
  _ranges: ReadonlyMap<string, ReadonlyMap<string, string>>,
  ROOT: string,
  known?: Map<string, string[]>,
): Constraint[] {
  const out: Constraint[] = [];
  for (const [by, range] of asked) {
    if (by === ROOT) {
      out.push({ range, by: '', from: [] });
      continue;
    }
    const from = known?.get(by) ?? pathTo(by, picks, _ranges, ROOT);
    out.push({ range, by: `${by}@${picks.get(by)}`, from });
  }
  // the root's own range first, then by path length and name
  return out.sort((a, b) => a.from.length - b.from.length || (a.by < b.by ? -1 : a.by > b.by ? 1 : 0));
}

/** A path from the root to `name` following who asked for whom (for error messages before the graph settles). */
function pathTo(
  name: string,
  picks: ReadonlyMap<string, string>,
  ranges: ReadonlyMap<string, ReadonlyMap<string, string>>,
  ROOT: string,
): string[] {
  const steps: string[] = [];
  const seen = new Set<string>();
  let current: string | undefined = name;
  while (current !== undefined && !seen.has(current)) {
    seen.add(current);
    steps.unshift(`${current}@${picks.get(current)}`);
    const askers: string[] = [...(ranges.get(current)?.keys() ?? [])];
    if (askers.includes(ROOT)) break;
    current = askers.sort()[0];
  }
  return steps;
}

function unsatisfiable(name: string, list: Constraint[], versions: string[], rootLabel: string): AionError {
  const available = versions.length ? [...versions].reverse().join(', ') : 'none';
  const alone = list.find((c) => !versions.some((v) => satisfiesRange(v, c.range)));
  if (alone) {
    return new AionError(
      'LC001',
      `no version of ${name} satisfies ${describe(alone, name, rootLabel)} (available: ${available})`,
      { hint: `widen the range or publish a matching version of ${name}` },
    );
  }
  // Two ranges that no single version meets, else (three or more together) the first and the last.
  let pair: [Constraint, Constraint] = [list[0]!, list[list.length - 1]!];
  outer: for (let i = 0; i < list.length; i++)
    for (let j = i + 1; j < list.length; j++)
      if (!versions.some((v) => satisfiesRange(v, list[i]!.range) && satisfiesRange(v, list[j]!.range))) {
        pair = [list[i]!, list[j]!];
        break outer;
      }
  return new AionError(
    'LC002',
    `conflicting ranges for ${name}: ${describe(pair[0], name, rootLabel)} vs ${describe(pair[1], name, rootLabel)} (available: ${available})`,
    { hint: 'one version per package: align the ranges (update one side) or pin a version both accept' },
  );
}

/** Dependencies first (Kahn's algorithm, names in byte order among equals); LC003 with the cycle. */
function order(
  rootLabel: string,
  picks: Map<string, string>,
  constraints: Map<string, Constraint[]>,
  paths: Map<string, string[]>,
  graph: ReadonlyMap<string, VersionDeps>,
): PlannedPackage[] {
  const deps = new Map<string, string[]>();
  for (const [name, version] of picks) deps.set(name, Object.keys(graph.get(name)?.get(version) ?? {}).sort());
  const cycle = findCycle(deps);
  if (cycle) {
    const shown = cycle.map((n) => `${n}@${picks.get(n)}`).join(' -> ');
    throw new AionError('LC003', `dependency cycle: ${shown}`, {
      hint: 'packages cannot depend on each other in a loop: remove one of these dependencies',
    });
  }
  const out: PlannedPackage[] = [];
  const done = new Set<string>();
  const visit = (name: string) => {
    if (done.has(name)) return;
    done.add(name);
    for (const d of deps.get(name) ?? []) visit(d);
    const version = picks.get(name)!;
    out.push({
      name,
      version,
      requested: (constraints.get(name) ?? []).map((c) => ({ range: c.range, by: c.by || rootLabel })),
      dependencies: { ...(graph.get(name)?.get(version) ?? {}) },
      path: paths.get(name)!.slice(0, -1).concat(`${name}@${version}`),
    });
  };
  for (const name of [...picks.keys()].sort()) visit(name);
  return out;
}

/** The first cycle found by depth-first search, as names with the first repeated at the end. */
export function findCycle(deps: ReadonlyMap<string, readonly string[]>): string[] | undefined {
  const state = new Map<string, 1 | 2>();
  const stack: string[] = [];
  const dfs = (name: string): string[] | undefined => {
    state.set(name, 1);
    stack.push(name);
    for (const d of deps.get(name) ?? []) {
      const s = state.get(d);
      if (s === 1) return [...stack.slice(stack.indexOf(d)), d];
      if (s === undefined && deps.has(d)) {
        const found = dfs(d);
        if (found) return found;
      }
    }
    stack.pop();
    state.set(name, 2);
    return undefined;
  };
  for (const name of [...deps.keys()].sort()) {
    if (state.has(name)) continue;
    const found = dfs(name);
    if (found) return found;
  }
  return undefined;
}

/** Resolves a fully known in-memory graph (no `need` possible): name -> version -> dependencies. */
export function resolveGraph(
  roots: Readonly<Record<string, string>>,
  universe: Readonly<Record<string, Readonly<Record<string, Readonly<Record<string, string>>>>>>,
  options: { preferred?: ReadonlyMap<string, string>; rootLabel?: string } = {},
): PlannedPackage[] {
  const graph = new Map<string, VersionDeps>();
  for (const [name, versions] of Object.entries(universe)) graph.set(name, new Map(Object.entries(versions)));
  const result = resolve({ roots, graph, complete: true, ...options });
  if (result.kind === 'plan') return result.packages;
  throw new Error('unreachable: a complete graph needs nothing');
}
