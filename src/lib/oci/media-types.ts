/**
 * What an agent package looks like as an OCI artifact (documented in docs/oci.md). The shared contract types
 * (artifactType, config, wasm layer) live in types.ts; these are the package-specific additions.
 */
export { MEDIA_TYPES } from './types.js';

export const PACKAGE_MEDIA_TYPES = {
  /** The aip.yaml exactly as written (comments and all), so `pull -o` gives back the original file. */
  manifestYaml: 'application/vnd.aionos.agent.manifest.v1+yaml',
  /** Any other package file (schemas, scripts, data), stored as its raw bytes (not a tar). */
  file: 'application/vnd.aionos.agent.file.v1',
} as const;

export const ANNOTATIONS = {
  title: 'org.opencontainers.image.title',
  version: 'org.opencontainers.image.version',
  created: 'org.opencontainers.image.created',
  licenses: 'org.opencontainers.image.licenses',
  description: 'org.opencontainers.image.description',
  /** Package name as written in aip.yaml. */
  packageName: 'dev.aionos.package.name',
  /** Package version as written in aip.yaml (may hold `+`, which tags cannot). */
  packageVersion: 'dev.aionos.package.version',
  /** `wasm` or `subprocess`. */
  runtimeType: 'dev.aionos.runtime.type',
  /** File mode of a layer's file, normalised to `0755` (executable) or `0644`. */
  fileMode: 'dev.aionos.file.mode',
} as const;

/** The package manifest file at the root of every package directory. */
export const PACKAGE_FILE = 'aip.yaml';
