/**
 * `pack`: a package directory becomes an OCI image manifest (artifactType application/vnd.aionos.agent.v1).
 * Reproducible by construction: files in byte order of their paths, modes normalised to 0644/0755, canonical JSON
 * (sorted keys, no whitespace) for config and manifest, and no timestamp unless one is given (SOURCE_DATE_EPOCH).
 */
import { createReadStream } from 'node:fs';
import pLimit from 'p-limit';
import { AionError } from '../errors/index.js';
import { descriptorFor, sha256File } from './digest.js';
import { LayoutTarget } from './layout.js';
import { ANNOTATIONS, PACKAGE_FILE, PACKAGE_MEDIA_TYPES } from './media-types.js';
import { assertTag, versionToTag } from './names.js';
import { alwaysPacked, listPackageFiles, loadPackageForPack, type PackageInfo } from './package-source.js';
import { type Descriptor, type ImageManifest, MEDIA_TYPES, type Target } from './types.js';

export interface PackOptions {
  /** Stamps org.opencontainers.image.created (omit for a reproducible artifact). */
  created?: Date;
  /** Extra manifest annotations (e.g. from --annotation). */
  annotations?: Record<string, string>;
}

export interface PackedLayer {
  descriptor: Descriptor;
  /** File to stream the content from. */
  source: string;
}

export interface PackedArtifact {
  info: PackageInfo;
  manifest: ImageManifest;
  manifestBytes: Uint8Array;
  descriptor: Descriptor;
  configBytes: Uint8Array;
  layers: PackedLayer[];
}

/** JSON with object keys sorted at every level and no insignificant whitespace. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) out[key] = sortKeys((value as Record<string, unknown>)[key]);
    return out;
  }
  return value;
}

/** RFC 3339 without fractional seconds, from `SOURCE_DATE_EPOCH` (seconds since the epoch). */
export function createdFromEnv(env: NodeJS.ProcessEnv = process.env): Date | undefined {
  const raw = env.SOURCE_DATE_EPOCH;
  if (raw === undefined || raw === '') return undefined;
  if (!/^\d{1,12}$/.test(raw)) {
    throw new AionError('CI001', `SOURCE_DATE_EPOCH must be a whole number of seconds, got "${raw}"`, {
      hint: 'e.g. SOURCE_DATE_EPOCH=$(git log -1 --format=%ct)',
    });
  }
  return new Date(Number(raw) * 1000);
}

export function formatCreated(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function layerMediaType(path: string, info: PackageInfo): string {
  if (path === PACKAGE_FILE) return PACKAGE_MEDIA_TYPES.manifestYaml;
  if (path === info.module || path.endsWith('.wasm')) return MEDIA_TYPES.wasmLayer;
  return PACKAGE_MEDIA_TYPES.file;
}

/** Builds the artifact in memory (files are only hashed, not copied). Validates the package first. */
export interface BuildOptions extends PackOptions {
  /** Already loaded (and validated) package info. */
  info?: PackageInfo;
  /** How to digest a file; a layout destination stores it in the same pass (see pack()). */
  hashFile?: (path: string) => Promise<{ digest: string; size: number }>;
}

export async function buildPackage(dir: string, options: BuildOptions = {}): Promise<PackedArtifact> {
  const info = options.info ?? (await loadPackageForPack(dir));
  const hashFile = options.hashFile ?? sha256File;
  const files = await listPackageFiles(dir, { always: alwaysPacked(info) });
  const limit = pLimit(4);
  const layers = await Promise.all(
    files.map((file) =>
      limit(async (): Promise<PackedLayer> => {
        const { digest, size } = await hashFile(file.source);
        return {
          source: file.source,
          descriptor: {
            mediaType: layerMediaType(file.path, info),
            digest,
            size,
            annotations: {
              [ANNOTATIONS.fileMode]: file.executable ? '0755' : '0644',
              [ANNOTATIONS.title]: file.path,
            },
          },
        };
      }),
    ),
  );
  const configBytes = Buffer.from(canonicalJson(info.document), 'utf8');
  const annotations: Record<string, string> = {
    [ANNOTATIONS.version]: info.version,
    [ANNOTATIONS.packageName]: info.name,
    [ANNOTATIONS.packageVersion]: info.version,
    ...(info.runtimeType ? { [ANNOTATIONS.runtimeType]: info.runtimeType } : {}),
    ...(info.license ? { [ANNOTATIONS.licenses]: info.license } : {}),
    ...(info.description ? { [ANNOTATIONS.description]: info.description } : {}),
    ...(options.created ? { [ANNOTATIONS.created]: formatCreated(options.created) } : {}),
    ...options.annotations,
  };
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.imageManifest,
    artifactType: MEDIA_TYPES.agentArtifact,
    config: descriptorFor(MEDIA_TYPES.agentConfig, configBytes),
    layers: layers.map((l) => l.descriptor),
    annotations,
  };
  const manifestBytes = Buffer.from(canonicalJson(manifest), 'utf8');
  return {
    info,
    manifest,
    manifestBytes,
    descriptor: {
      ...descriptorFor(MEDIA_TYPES.imageManifest, manifestBytes),
      artifactType: MEDIA_TYPES.agentArtifact,
    },
    configBytes,
    layers,
  };
}

/** The default tag of a package: its version, `+` written as `_`. */
export function defaultTag(info: PackageInfo): string {
  return versionToTag(info.version);
}

/**
 * Stores a built artifact in `target` under `tag`: layers (streamed from the files and verified against the
 * digests computed while building, so a file changed in between is refused), config, then the manifest.
 */
export async function pushPackage(artifact: PackedArtifact, target: Target, tag: string): Promise<Descriptor> {
  const limit = pLimit(4);
  await Promise.all(
    artifact.layers.map((layer) => limit(() => target.pushBlob(layer.descriptor, createReadStream(layer.source)))),
  );
  await target.pushBlob(artifact.manifest.config, artifact.configBytes);
  await target.pushManifest(artifact.descriptor, artifact.manifestBytes, tag);
  return artifact.descriptor;
}

export interface PackResult {
  artifact: PackedArtifact;
  tag: string;
  descriptor: Descriptor;
}

/** Validate, build and store: what `aionctl pack` does. */
export async function pack(
  dir: string,
  openDestination: (info: PackageInfo) => Target,
  options: PackOptions & { tag?: string } = {},
): Promise<PackResult> {
  if (options.tag !== undefined) assertTag(options.tag);
  const info = await loadPackageForPack(dir);
  const tag = options.tag ?? defaultTag(info);
  // Every path is checked (listPackageFiles) before the first byte is stored.
  await listPackageFiles(dir, { always: alwaysPacked(info) });
  const target = openDestination(info);
  // A layout stores each file while hashing it (one read); pushPackage then finds the layers present.
  const hashFile = target instanceof LayoutTarget ? (path: string) => target.ingest(createReadStream(path)) : undefined;
  const artifact = await buildPackage(dir, { ...options, info, ...(hashFile ? { hashFile } : {}) });
  const descriptor = await pushPackage(artifact, target, tag);
  return { artifact, tag, descriptor };
}
