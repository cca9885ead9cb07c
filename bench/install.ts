// Install: (1) the resolver over a generated graph of 1,000 packages x 20 versions in memory (target <= 50 ms);
// (2) `install --frozen` of 50 packages already in the store, against `aionctl --version` in the same run
// (target <= 2x); (3) a cold `install` of 50 small signed packages from a real docker-registry, packages/s,
// against `skopeo copy` of the same 50 (which neither resolves nor verifies). Medians.
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveGraph } from '../src/lib/resolve/index.js';
import {
  folderDestination,
  makeKeys,
  registryDestination,
  seedUniverse,
  type UniversePackage,
  writeProject,
} from '../test/helpers/packages.js';
import { startRegistry } from '../test/helpers/registry.js';
import { median, REPO_ROOT, round } from './util.js';

const BIN = join(REPO_ROOT, 'bin', 'run.js');

/** A deterministic pseudo-random graph: package i's versions depend on up to 3 packages of lower index. */
export function generateGraph(packages: number, versions: number) {
  let seed = 42;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const universe: Record<string, Record<string, Record<string, string>>> = {};
  for (let i = 0; i < packages; i++) {
    const vs: Record<string, Record<string, string>> = {};
    for (let v = 0; v < versions; v++) {
      const major = 1 + Math.floor(v / 10);
      const version = `${major}.${v % 10}.${Math.floor(rand() * 3)}`;
      const deps: Record<string, string> = {};
      for (let d = 0; d < 3 && i > 0; d++) {
        const j = Math.floor(rand() * i);
        deps[`p${j}`] = rand() < 0.5 ? '^1.0.0' : '>=1.2.0';
      }
      vs[version] = deps;
    }
    universe[`p${i}`] = vs;
  }
  const roots: Record<string, string> = {};
  for (let i = packages - 50; i < packages; i++) roots[`p${i}`] = '^1.0.0';
  return { universe, roots };
}

function time(args: string[], cwd: string, env: NodeJS.ProcessEnv, cmd = process.execPath): number {
  const start = process.hrtime.bigint();
  const r = spawnSync(cmd, cmd === process.execPath ? [BIN, ...args] : args, {
    cwd,
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return ms;
}

export async function installBench(): Promise<Record<string, number | string>> {
  const figures: Record<string, number | string> = {};
  // (1) resolver
  const { universe, roots } = generateGraph(1000, 20);
  const resolveRuns: number[] = [];
  let planned = 0;
  for (let i = 0; i < 7; i++) {
    const start = process.hrtime.bigint();
    planned = resolveGraph(roots, universe).length;
    resolveRuns.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  figures.resolve_1000x20_ms = round(median(resolveRuns));
  figures.resolve_planned_packages = planned;
  figures.resolve_target_ms = 50;

  const root = await mkdtemp(join(tmpdir(), 'aionctl-bench-install-'));
  const registry = await startRegistry();
  try {
    const keys = await makeKeys(join(root, 'keys'));
    const fifty: UniversePackage[] = Array.from({ length: 50 }, (_, i) => ({
      name: `pkg${i}`,
      version: '1.0.0',
      ...(i > 0 ? { dependencies: { [`pkg${i - 1}`]: '^1.0.0' } } : {}),
    }));
    const folder = join(root, 'pkgs');
    await seedUniverse(
      join(root, 'work'),
      keys,
      [folderDestination(folder), registryDestination(registry.host)],
      fifty,
    );
    const packages = Object.fromEntries(fifty.map((p) => [p.name, '^1.0.0']));

    // (2) frozen install, everything in the store and extracted, vs --version
    const warm = join(root, 'warm');
    await writeProject(warm, {
      registry: `oci:${folder}`,
      trustMatch: [`oci:${folder}/*`],
      trustedPub: keys.trustedPub,
      packages,
    });
    const env = { ...process.env, AIONCTL_HOME: join(warm, 'home'), CI: '' };
    time(['install'], warm, env);
    const frozen: number[] = [];
    const version: number[] = [];
    for (let i = 0; i < 5; i++) {
      version.push(time(['--version'], warm, env));
      frozen.push(time(['install', '--frozen'], warm, env));
    }
    figures.frozen_50_ms = round(median(frozen));
    figures.version_ms = round(median(version));
    figures.frozen_vs_version = round(median(frozen) / median(version));
    figures.frozen_target_ratio = 2;

    // (3) cold install from the registry vs skopeo copy of the same 50
    try {
      await coldBench(root, registry.host, keys, fifty, packages, figures);
    } catch (err) {
      figures.cold_error = String((err as Error).message).split('\n')[0]!;
    }
  } finally {
    await registry.stop();
    await rm(root, { recursive: true, force: true });
  }
  return figures;
}

async function coldBench(
  root: string,
  host: string,
  keys: Awaited<ReturnType<typeof makeKeys>>,
  fifty: UniversePackage[],
  packages: Record<string, string>,
  figures: Record<string, number | string>,
): Promise<void> {
  {
    const registry = { host };
    const cold: number[] = [];
    for (let i = 0; i < 3; i++) {
      const dir = join(root, `cold${i}`);
      await writeProject(dir, {
        registry: `${registry.host}/agents`,
        trustMatch: [`${registry.host}/agents/*`],
        trustedPub: keys.trustedPub,
        packages,
      });
      cold.push(
        time(['install', '--concurrency', '8'], dir, { ...process.env, AIONCTL_HOME: join(dir, 'home'), CI: '' }),
      );
    }
    const skopeo: number[] = [];
    for (let i = 0; i < 3; i++) {
      const out = join(root, `skopeo${i}`);
      await mkdir(out, { recursive: true }); // skopeo's oci: transport creates the layout, not its parent
      const start = process.hrtime.bigint();
      for (const p of fifty)
        time(
          [
            'copy',
            '--quiet',
            '--src-tls-verify=false',
            `docker://${registry.host}/agents/${p.name}:1.0.0`,
            `oci:${out}/${p.name}:1.0.0`,
          ],
          root,
          process.env,
          'skopeo',
        );
      skopeo.push(Number(process.hrtime.bigint() - start) / 1e6);
      await rm(out, { recursive: true, force: true });
    }
    figures.cold_50_ms = round(median(cold));
    figures.cold_packages_per_s = round(50 / (median(cold) / 1000));
    figures.skopeo_50_ms = round(median(skopeo));
    figures.skopeo_packages_per_s = round(50 / (median(skopeo) / 1000));
  }
}
