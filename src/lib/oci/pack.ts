/**
 * `pack`: a package directory becomes an OCI image manifest (artifactType application/vnd.aionos.agent.v1).
 * Reproducible by construction: files in byte order of their paths, modes normalised to 0644/0755, canonical JSON
 * (sorted keys, no whitespace) for config and manifest, and no timestamp unless one is given (SOURCE_DATE_EPOCH).
 */
import { createReadStream } from 'node:fs';
import { resolve } from 'node:path';
import pLimit from 'p-limit';
import { type Env, sourceDateEpoch } from '../env/index.js';
import { canonicalJson } from '../json/index.js';
import { descriptorFor, sha256File } from './digest.js';
import { AionError } from '../errors/index.js';
import { LayoutTarget } from './layout.js';
import { formatReference, normaliseTag, parseReference } from './reference.js';
import { openStore } from './store.js';
import { ANNOTATIONS, PACKAGE_FILE, PACKAGE_MEDIA_TYPES } from './media-types.js';
import { assertTag, versionToTag } from './names.js';
import { listPackageFiles, loadPackageForPack, type PackageInfo } from './package-source.js';
import { type ArtifactReference, type Descriptor, type ImageManifest, MEDIA_TYPES, type Target } from './types.js';

export interface PackOptions {
  /**
   * org.opencontainers.image.created: a Date, `'now'`, or `false` for none. Omitted: SOURCE_DATE_EPOCH from
   * `env` when set, else none (a reproducible artifact).
   */
  created?: Date | 'now' | false;
  /** Extra manifest annotations (e.g. from --annotation), applied over the defaults. */
  annotations?: Record<string, string>;
  /** The environment SOURCE_DATE_EPOCH is read from (default: none). */
  env?: Env;
}

/** The created time pack() records: explicit, now, or SOURCE_DATE_EPOCH (the one rule push DIR and pack share). */
export function packCreated(options: Pick<PackOptions, 'created' | 'env'>): Date | undefined {
  if (options.created === false) return undefined;
  if (options.created === 'now') return new Date();
  return options.created ?? sourceDateEpoch(options.env ?? {});
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

/** RFC 3339 without fractional seconds (the form org.opencontainers.image.created takes). */
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
  const files = await listPackageFiles(dir);
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
  const created = packCreated(options);
  const annotations: Record<string, string> = {
    [ANNOTATIONS.version]: info.version,
    [ANNOTATIONS.packageName]: info.name,
    [ANNOTATIONS.packageVersion]: info.version,
    ...(info.runtimeType ? { [ANNOTATIONS.runtimeType]: info.runtimeType } : {}),
    ...(info.license ? { [ANNOTATIONS.licenses]: info.license } : {}),
    ...(info.description ? { [ANNOTATIONS.description]: info.description } : {}),
    ...(created ? { [ANNOTATIONS.created]: formatCreated(created) } : {}),
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
  await listPackageFiles(dir);
  const target = openDestination(info);
  // A layout stores each file while hashing it (one read); pushPackage then finds the layers present.
  const hashFile = target instanceof LayoutTarget ? (path: string) => target.ingest(createReadStream(path)) : undefined;
  const artifact = await buildPackage(dir, { ...options, info, ...(hashFile ? { hashFile } : {}) });
  const descriptor = await pushPackage(artifact, target, tag);
  return { artifact, tag, descriptor };
}

export interface PackDirectoryOptions extends PackOptions {
  /** Where to: omitted = the store as NAME:VERSION; a store NAME[:TAG]; or an oci: layout (`--output`). */
  output?: ArtifactReference;
  /** `--tag`: a TAG, or NAME[:TAG] to store under another name. */
  tag?: string;
  /** Directory a relative layout path is resolved against. */
  cwd?: string;
}

export interface PackDirectoryResult extends PackResult {
  /** Where the artifact now is, with its tag (e.g. `summarize_text:1.3.0`, `oci:./out:1.0.0`). */
  ref: ArtifactReference;
}

/**
 * What `aionctl pack DIR` and `push DIR` do: validate, build with pack's defaults (created from SOURCE_DATE_EPOCH
 * in `env`), and store into the local store (NAME:VERSION unless `tag`/`output` say otherwise) or an oci: layout.
 */
export async function packDirectory(dir: string, options: PackDirectoryOptions = {}): Promise<PackDirectoryResult> {
  const { output, tag: tagFlag, ...packOptions } = options;
  if (output?.kind === 'registry') {
    throw new AionError('RG108', `pack writes to the store or an oci: layout, not to ${formatReference(output)}`, {
      hint: `pack first, then: aionctl push ${dir} ${formatReference(output)}`,
    });
  }
  const tagOverride = tagFlag === undefined ? undefined : parseTagOption(tagFlag);
  const explicitTag = tagOverride?.tag ?? output?.tag;
  let ref: ArtifactReference | undefined;
  const result = await pack(
    dir,
    (info): Target => {
      if (output?.kind === 'layout') {
        ref = { kind: 'layout', path: output.path };
        return new LayoutTarget(resolve(options.cwd ?? '', output.path));
      }
      const repository = tagOverride?.repository ?? output?.repository ?? info.name;
      ref = { kind: 'store', repository };
      return openStore(repository, options.env ?? {});
    },
    { ...packOptions, ...(explicitTag !== undefined ? { tag: explicitTag } : {}) },
  );
  return { ...result, ref: { ...(ref as ArtifactReference), tag: result.tag } };
}

/** `-t 2.0.0` (a tag) or `-t other_name:2.0.0` / `-t other_name` (a store name). */
function parseTagOption(value: string): { repository?: string; tag?: string } {
  if (value.includes(':') || value.includes('/')) {
    const ref = parseReference(value);
    if (ref.kind !== 'store') throw new AionError('CI001', `--tag takes a TAG or NAME:TAG, not ${value}`);
    return { repository: ref.repository, ...(ref.tag ? { tag: ref.tag } : {}) };
  }
  return { tag: normaliseTag(value) };
}
