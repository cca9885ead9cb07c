/**
 * From PACKAGE (what the user typed) to a runnable package directory: a directory is used as it is; an installed
 * name is `.aionctl/packages/NAME` (found walking up from cwd); a store, layout or registry reference is verified
 * against the trust policy and extracted once per digest under the cache (nothing unverified runs).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AionError, isAionError } from '../errors/index.js';
import { writeFileAtomic } from '../fs/index.js';
import type { AgentPackage } from '../manifest/index.js';
import type { Descriptor, ReadTarget } from '../oci/index.js';
import type { RunContext, Runnable, RunnableSource } from './types.js';

export const INSTALLED_DIR = join('.aionctl', 'packages');

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** `.aionctl/packages/NAME` in cwd or a parent directory. */
export function findInstalled(name: string, cwd: string): string | undefined {
  if (!/^[a-z0-9]+(?:[._-][a-z0-9]+)*$/.test(name)) return undefined;
  let dir = resolve(cwd);
  for (;;) {
    const candidate = join(dir, INSTALLED_DIR, name);
    if (existsSync(join(candidate, 'aip.yaml'))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** sha256 over the package's files (path and content digest of each, in byte order): a directory's identity. */
export async function directoryDigest(dir: string): Promise<string> {
  const { listPackageFiles } = await import('../oci/package-source.js');
  const outer = createHash('sha256');
  for (const file of await listPackageFiles(dir)) {
    const inner = createHash('sha256').update(readFileSync(file.source)).digest('hex');
    outer.update(`${file.path}\0${inner}\n`);
  }
  return `sha256:${outer.digest('hex')}`;
}

/** A digest an install left next to the package (`.digest` or `.aionctl-digest`), when there is one. */
function recordedDigest(dir: string): string | undefined {
  for (const name of ['.digest', '.aionctl-digest']) {
    try {
      const text = readFileSync(join(dir, name), 'utf8').trim();
      if (/^sha256:[a-f0-9]{64}$/.test(text)) return text;
    } catch {
      // none
    }
  }
  return undefined;
}

/** The agent-package schema: part of the validation cache key, so a schema change revalidates. */
const PACKAGE_SCHEMA = fileURLToPath(new URL('../../../../manifests/agent-package.schema.json', import.meta.url));

/** A validated manifest is a few KiB: a bigger cache file is not one of ours. */
const MAX_VALIDATED_BYTES = 1024 * 1024;

/** The validated manifest kept in the cache, when the file is there, bounded and has a manifest's shape. */
function readValidated(file: string): AgentPackage | undefined {
  try {
    if (statSync(file).size > MAX_VALIDATED_BYTES) return undefined;
    const kept = JSON.parse(readFileSync(file, 'utf8')) as Partial<AgentPackage> | null;
    const ok =
      typeof kept?.metadata?.name === 'string' &&
      typeof kept.metadata.version === 'string' &&
      typeof kept.runtime?.type === 'string';
    return ok ? (kept as AgentPackage) : undefined;
  } catch {
    return undefined; // not validated yet
  }
}

/**
 * Validates the package through the manifests library, once per content digest: the validated manifest is kept
 * under the cache (keyed by the files' digest and the schema), so a repeat run skips loading ajv and yaml.
 */
async function validatedManifest(dir: string, contentDigest: string, cacheDir: string): Promise<AgentPackage> {
  const schema = createHash('sha256').update(readFileSync(PACKAGE_SCHEMA)).digest('hex').slice(0, 16);
  const file = join(cacheDir, 'run', 'validated', `${contentDigest.slice('sha256:'.length)}-${schema}.json`);
  const kept = readValidated(file);
  if (kept) return kept;
  const { loadPackage } = await import('../manifest/package.js');
  const { manifest } = loadPackage(dir);
  try {
    await mkdir(dirname(file), { recursive: true });
    await writeFileAtomic(file, JSON.stringify(manifest), { fsync: false });
  } catch {
    // a read-only cache only costs speed
  }
  return manifest;
}

async function loadRunnable(dir: string, source: RunnableSource, ctx: RunContext, digest?: string): Promise<Runnable> {
  const root = resolve(dir);
  if (!existsSync(join(root, 'aip.yaml'))) {
    // The manifests library gives the canonical "not a package" error (SC018).
    const { loadPackage } = await import('../manifest/package.js');
    loadPackage(root);
  }
  const contentDigest = await directoryDigest(root);
  const manifest = await validatedManifest(root, contentDigest, ctx.paths.cache);
  const { metadata } = manifest;
  return {
    dir: root,
    manifest,
    identity: { name: metadata.name, version: metadata.version, digest: digest ?? contentDigest },
    contentDigest,
    source,
  };
}

/**
 * Next to an extracted package (`<dir>.content`): the content digest its files had when they were extracted from
 * the verified store, so a re-use runs only files that still match it.
 */
function contentRecordFile(dir: string): string {
  return `${dir}.content`;
}

function recordedContent(dir: string): string | undefined {
  try {
    const text = readFileSync(contentRecordFile(dir), 'utf8');
    return /^sha256:[a-f0-9]{64}$/.test(text) ? text : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A store, layout or registry reference: verified against the trust policy (ST codes, exit 6, quarantined on
 * failure), copied into the store when it came from elsewhere, and extracted under the cache once per digest.
 * `recorded` is the content digest of the files as extracted (none when the record is missing or malformed): a
 * caller runs the directory only when its files still have it. `extracted` says it was extracted by this call.
 */
async function materialize(
  spec: string,
  ctx: RunContext,
): Promise<{ dir: string; digest: string; source: RunnableSource; extracted: boolean; recorded?: string }> {
  const oci = await import('../oci/index.js');
  const { createPolicyVerifier, PULL_REFERRER_POLICY } = await import('../sign/index.js');
  const { loadConfig } = await import('../config/index.js');
  const ref = oci.parseReference(spec);
  oci.requireSelector(ref, 'run');
  const loaded = await loadConfig(ctx.cwd, ctx.paths.config);
  const verifier = createPolicyVerifier(loaded.config, { paths: ctx.paths, env: ctx.env });
  const source = await oci.openTarget(ref, { env: ctx.env });
  let descriptor: Descriptor;
  let store: ReadTarget;
  try {
    if (ref.kind === 'store') {
      // Already in the store: verify the exact digest (quarantine included) and read it from there.
      descriptor = (await source.fetchManifest(oci.requireSelector(ref, 'run'))).descriptor;
      await verifier.verify(source, { ...ref, digest: descriptor.digest });
      store = source;
    } else {
      // The same flow as `aionctl pull`: verified before anything is stored, then read from the store.
      const pulled = await oci.pullArtifact(source, ref, {
        verify: (target, pinned) => verifier.verify(target, pinned),
        referrerPolicy: PULL_REFERRER_POLICY,
        env: ctx.env,
        cwd: ctx.cwd,
        ...(ctx.signal ? { signal: ctx.signal } : {}),
      });
      descriptor = pulled.descriptor;
      store = oci.openStore(pulled.stored.repository, ctx.env);
    }
    const hex = descriptor.digest.slice('sha256:'.length);
    const dir = join(ctx.paths.cache, 'run', 'packages', hex);
    const extracted = !existsSync(join(dir, 'aip.yaml'));
    if (extracted) {
      const staging = `${dir}.tmp-${process.pid}-${Date.now()}`;
      await mkdir(dirname(dir), { recursive: true });
      try {
        await oci.extractPackage(store, descriptor, staging);
        // Recorded before the directory appears, so a package in the cache always has its record.
        await writeFileAtomic(contentRecordFile(dir), await directoryDigest(staging), { fsync: false });
        await rename(staging, dir).catch(async (err) => {
          if (!existsSync(join(dir, 'aip.yaml'))) throw err;
        });
      } finally {
        await rm(staging, { recursive: true, force: true });
        if (store !== source) await store.close();
      }
    } else if (store !== source) await store.close();
    const kind: RunnableSource = ref.kind === 'store' ? 'store' : ref.kind === 'layout' ? 'layout' : 'registry';
    return { dir, digest: descriptor.digest, source: kind, extracted, recorded: recordedContent(dir) };
  } finally {
    await source.close().catch(() => undefined);
  }
}

/**
 * PACKAGE to a validated package: a directory (a path that exists), an installed name, or a reference
 * (materialized under the trust policy). EX028 when it is none of them.
 */
export async function resolveRunnable(spec: string, ctx: RunContext): Promise<Runnable> {
  const path = isAbsolute(spec) ? spec : resolve(ctx.cwd, spec);
  if (isDirectory(path)) return loadRunnable(path, 'directory', ctx);
  const installed = findInstalled(spec, ctx.cwd);
  if (installed) return loadRunnable(installed, 'installed', ctx, recordedDigest(installed));
  const looksLikeRef = spec.includes(':') || spec.includes('@') || spec.includes('/');
  if (!looksLikeRef)
    throw new AionError('EX028', `${spec} is not a package directory or an installed package`, {
      hint: `install it first (aionctl install ${spec}), or give a directory, NAME:TAG, oci:PATH:TAG or a registry reference`,
    });
  try {
    const first = await materialize(spec, ctx);
    const runnable = await loadRunnable(first.dir, first.source, ctx, first.digest);
    if (first.recorded === runnable.contentDigest) return runnable;
    // The cached files changed since they were extracted (or were never recorded): extract them again.
    return await reextract(spec, ctx, first.dir);
  } catch (err) {
    if (isAionError(err) && err.code === 'RG001')
      throw new AionError('EX028', `${spec} is not a package directory, an installed package or a reference`, {
        hint: 'give a directory, an installed NAME, NAME:TAG, oci:PATH:TAG or HOST/REPOSITORY:TAG',
        cause: err,
      });
    throw err;
  }
}

async function reextract(spec: string, ctx: RunContext, dir: string): Promise<Runnable> {
  await rm(dir, { recursive: true, force: true });
  await rm(contentRecordFile(dir), { force: true });
  const again = await materialize(spec, ctx);
  if (!again.extracted)
    throw new AionError('FS003', `the cached package ${dir} does not match what was extracted and cannot be replaced`, {
      hint: `remove ${dir} and run again`,
    });
  return loadRunnable(again.dir, again.source, ctx, again.digest);
}
