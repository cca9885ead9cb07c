/** Agent packages as OCI artifacts: digests, OCI image layouts, the local store, pack, copy and extract. */
export {
  type ArtifactReference,
  type Descriptor,
  type Digest,
  EMPTY_DESCRIPTOR,
  type FetchedManifest,
  type ImageIndex,
  type ImageManifest,
  MEDIA_TYPES,
  type ReadOptions,
  type ReadTarget,
  type Target,
} from './types.js';
export type { ConnectOptions } from './registry/index.js';
// The light parts of the registry client (no HTTP stack): commands use them without loading undici.
export { eraseCredential } from './registry/credentials.js';
export { DEFAULT_CHUNK_SIZE, DEFAULT_MONOLITHIC_MAX } from './registry/defaults.js';
export { parseRegistryHost } from './registry/host.js';
export { presentTags, type TagSort } from './registry/tags.js';
export {
  DigestVerifier,
  descriptorFor,
  digestHex,
  forwardVerified,
  isDigest,
  isVerifiedStream,
  markVerified,
  parseDigest,
  sha256,
  sha256File,
  sha256Stream,
  verifyBytes,
} from './digest.js';
export { assertRepository, assertTag, MAX_MANIFEST_BYTES, referrersTagFor, versionToTag } from './names.js';
export {
  isIndexMediaType,
  isManifestMediaType,
  LayoutTarget,
  type LayoutOptions,
  type LayoutTag,
  REF_NAME,
  type TagMove,
} from './layout.js';
export {
  assertStoreName,
  isAttachmentTag,
  listStore,
  listStoreImages,
  openStore,
  removeStoreTag,
  type RemovedTag,
  type StoreEntry,
  type StoreImage,
  storeNameFor,
  storeRoot,
} from './store.js';
export {
  artifactSize,
  cosignTag,
  type InspectedFile,
  type InspectedSbom,
  type InspectedSignature,
  inspectArtifact,
  type InspectResult,
  listSignatures,
  readManifest,
  SBOM_ARTIFACT_TYPES,
} from './inspect.js';
export {
  type DiscoverOptions,
  type DiscoverResult,
  discoverReferrers,
  type ReferrerNode,
  renderReferrerTree,
} from './discover.js';
export { ANNOTATIONS, PACKAGE_FILE, PACKAGE_MEDIA_TYPES } from './media-types.js';
export {
  alwaysPacked,
  listPackageFiles,
  type ListPackageOptions,
  loadIgnoreMatcher,
  loadPackageForPack,
  type PackageFile,
  type PackageInfo,
  type PackPlan,
  planPack,
} from './package-source.js';
export {
  createIgnoreMatcher,
  DEFAULT_IGNORE_RULES,
  IGNORE_FILES,
  type IgnoreMatcher,
  type IgnoreRule,
  parseIgnore,
} from './ignore.js';
export {
  buildPackage,
  defaultTag,
  formatCreated,
  pack,
  packCreated,
  packDirectory,
  type PackDirectoryOptions,
  type PackDirectoryResult,
  type PackedArtifact,
  type PackOptions,
  type PackResult,
  pushPackage,
} from './pack.js';
export { type CopyEvent, type CopyOptions, type CopyResult, copyArtifact } from './copy.js';
export { type ExtractedFile, type ExtractResult, extractPackage, safeTitleSegments } from './extract.js';
export { listTags, type OpenTargetOptions, openTarget } from './targets.js';
export { type CachingReadTarget, cachingReadTarget } from './caching-target.js';
export { assertExtractDestination, pullArtifact, type PullOptions, type PullResult } from './pull.js';
export {
  type CopyPlan,
  type OpenEnd,
  planCopy,
  type PlanCopyOptions,
  pushSource,
  type PushSourceOptions,
  type PushSourceResult,
  transfer,
  type TransferOptions,
} from './transfer.js';
export {
  formatReference,
  type LayoutReference,
  normaliseTag,
  type ParseReferenceOptions,
  parseReference,
  type RegistryReference,
  referenceSelector,
  requireSelector,
  type StoreReference,
} from './reference.js';
