/**
 * The install's only contact with artifacts, in small functions over the OCI and signing primitives
 * (openTarget, the policy verifier, copyArtifact, extractPackage).
 */
import type { AionConfig, AionPaths, Env } from '../config/index.js';
import { AionError } from '../errors/index.js';
import {
  type ArtifactReference,
  copyArtifact,
  type Descriptor,
  type ImageManifest,
  MEDIA_TYPES,
  openStore,
  openTarget,
  type ReadTarget,
  type Target,
} from '../oci/index.js';
import type { ConnectOptions } from '../oci/registry/index.js';
import { versionsFromTags } from '../resolve/index.js';

/** The signing library costs most of the start-up; an install with nothing to do never loads it. */
const sign = () => import('../sign/index.js');
import type { PackageSource } from './project.js';

export interface FetchContext {
  env: Env;
  paths: AionPaths;
  config: AionConfig;
  /** Where relative trust-rule key paths are anchored. */
  baseDir?: string;
  registry?: ConnectOptions;
  /** Only the local store: sources are never opened. */
  offline: boolean;
  concurrency: number;
  signal?: AbortSignal;
  /** Opens a repository instead of openTarget (the daemon passes its caching opener). */
  openRepository?: (ref: ArtifactReference) => Promise<Target>;
}

/** What a FetchContext is made from: the caller's options and the loaded project config. */
export interface FetchContextOptions {
  env: Env;
  paths: AionPaths;
  registry?: ConnectOptions;
  offline?: boolean;
  concurrency?: number;
  signal?: AbortSignal;
  openRepository?: FetchContext['openRepository'];
}

export function fetchContext(
  options: FetchContextOptions,
  loaded: { config: AionConfig; projectRoot?: string | undefined },
): FetchContext {
  return {
    env: options.env,
    paths: options.paths,
    config: loaded.config,
    ...(loaded.projectRoot ? { baseDir: loaded.projectRoot } : {}),
    ...(options.registry ? { registry: options.registry } : {}),
    offline: options.offline === true,
    concurrency: options.concurrency ?? 4,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.openRepository ? { openRepository: options.openRepository } : {}),
  };
}

/** Releases a registry target's connections (layouts and the store hold none). */
async function closeTarget(target: unknown): Promise<void> {
  const close = (target as { close?: () => Promise<void> }).close;
  if (typeof close === 'function') await close.call(target).catch(() => undefined);
}

/** Opens each repository once (registry connections are reused) and closes them all at the end. */
export class Sources {
  private readonly open = new Map<string, Promise<Target>>();
  constructor(private readonly ctx: FetchContext) {}

  /** The repository of `source` (or, offline, the store's copy of `name`). */
  target(name: string, source: PackageSource): Promise<Target> {
    if (this.ctx.offline) return Promise.resolve(openStore(name, this.ctx.env));
    let pending = this.open.get(source.repository);
    if (!pending) {
      pending = this.ctx.openRepository
        ? this.ctx.openRepository(source.ref)
        : openTarget(source.ref, { env: this.ctx.env, registry: this.ctx.registry });
      this.open.set(source.repository, pending);
    }
    return pending;
  }

  async close(): Promise<void> {
    for (const p of this.open.values()) await p.then(closeTarget, () => undefined);
  }
}

function isNotFound(err: unknown): boolean {
  const code = (err as { code?: string }).code;
  return code === 'RG003' || code === 'RG004' || code === 'FS001';
}

/** version -> tag of every semver tag of the repository; empty when the repository does not exist. */
export async function listVersions(target: ReadTarget): Promise<Map<string, string>> {
  try {
    return versionsFromTags(await target.tags());
  } catch (err) {
    if (isNotFound(err)) return new Map();
    throw err;
  }
}

export interface PackageMeta {
  descriptor: Descriptor;
  dependencies: Record<string, string>;
}

/** The manifest a tag (or digest) names and the package's own `dependencies` (from its config blob). */
export async function readPackageMeta(target: ReadTarget, selector: string, what: string): Promise<PackageMeta> {
  const { descriptor, bytes } = await target.fetchManifest(selector);
  let manifest: ImageManifest;
  try {
    manifest = JSON.parse(Buffer.from(bytes).toString('utf8')) as ImageManifest;
  } catch (err) {
    throw new AionError('LC009', `the manifest of ${what} is not JSON`, { cause: err });
  }
  if (descriptor.mediaType !== MEDIA_TYPES.imageManifest || manifest.config?.mediaType !== MEDIA_TYPES.agentConfig)
    throw new AionError('LC009', `${what} is not an agent package (no ${MEDIA_TYPES.agentConfig} config)`, {
      hint: 'publish packages with `aionctl pack`/`aionctl push`',
    });
  const config = await (await sign()).fetchSmallBlob(target, manifest.config, 1024 * 1024, 'package config');
  let deps: unknown;
  try {
    deps = (JSON.parse(config.toString('utf8')) as { dependencies?: unknown }).dependencies ?? {};
  } catch (err) {
    throw new AionError('LC009', `the config of ${what} is not JSON`, { cause: err });
  }
  if (
    typeof deps !== 'object' ||
    deps === null ||
    Array.isArray(deps) ||
    Object.values(deps).some((v) => typeof v !== 'string')
  )
    throw new AionError('LC009', `${what} has malformed dependencies (expected name: range)`);
  return {
    descriptor: { ...descriptor, ...(manifest.artifactType ? { artifactType: manifest.artifactType } : {}) },
    dependencies: deps as Record<string, string>,
  };
}

/**
 * Verifies `digest` (read from `target`) against the trust policy under the identity of `ref` (the origin, also
 * when `target` is the store's copy). Refuses quarantined digests first (ST013). Returns the signer.
 */
export function verifyPackage(
  ctx: FetchContext,
  target: ReadTarget,
  ref: ArtifactReference,
  digest: string,
): Promise<string> {
  return checkPolicy(ctx, target, ref, digest, true);
}

/** The policy check; `record`: whether a refusal is recorded in the quarantine. */
async function checkPolicy(
  ctx: FetchContext,
  target: ReadTarget,
  ref: ArtifactReference,
  digest: string,
  record: boolean,
): Promise<string> {
  const { isQuarantined, createPolicyVerifier } = await sign();
  // Before the verifier's own check, which comes after resolving the digest (a round trip to the registry).
  const quarantined = await isQuarantined(ctx.paths.data, digest);
  if (quarantined)
    throw new AionError('ST013', `${quarantined.ref} (${digest}) is quarantined: ${quarantined.reason}`, {
      hint: 'see `aionctl quarantine ls`; remove it only once you trust it again',
    });
  const verifier = createPolicyVerifier(ctx.config, {
    paths: ctx.paths,
    env: ctx.env,
    ...(ctx.baseDir ? { baseDir: ctx.baseDir } : {}),
    record,
  });
  return (await verifier.verify(target, { ...ref, digest })).signer;
}

/**
 * The store's descriptor of a manifest digest when the store holds it (a manifest is stored after its whole
 * graph, so present means complete), else undefined.
 */
export async function inStore(ctx: FetchContext, name: string, digest: string): Promise<Descriptor | undefined> {
  try {
    return await openStore(name, ctx.env).resolve(digest);
  } catch {
    return undefined;
  }
}

/** Copies a verified artifact (with its signatures) into the store and tags it `name:tag`. */
export async function storePackage(
  ctx: FetchContext,
  source: ReadTarget,
  name: string,
  descriptor: Descriptor,
  tag: string,
): Promise<void> {
  ctx.signal?.throwIfAborted();
  await copyArtifact(source, descriptor, openStore(name, ctx.env), tag, {
    referrers: true,
    concurrency: ctx.concurrency,
  });
}

/**
 * Verifies the store's copy of a package; undefined when it does not verify there (a package packed or pulled
 * into the store without the signatures its repository has): the caller then verifies it from the repository,
 * which records a real refusal in the quarantine. The store's failure is not one: it is not recorded.
 */
export async function verifyStoreCopy(
  ctx: FetchContext,
  name: string,
  ref: ArtifactReference,
  digest: string,
): Promise<string | undefined> {
  try {
    return await checkPolicy(ctx, openStore(name, ctx.env), ref, digest, false);
  } catch (err) {
    const code = (err as { code?: string }).code ?? '';
    if (!code.startsWith('ST') || code === 'ST013' || code === 'ST009') throw err;
    return undefined;
  }
}
