/** Agent packages as OCI artifacts: digests, OCI image layouts, the local store, pack, copy and extract. */
export * from './types.js';
export {
  DigestVerifier,
  descriptorFor,
  digestHex,
  isDigest,
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
  isAttachmentTag,
  listStore,
  listStoreImages,
  openStore,
  removeStoreTag,
  type RemovedTag,
  type StoreEntry,
  type StoreImage,
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
  canonicalJson,
  createdFromEnv,
  defaultTag,
  formatCreated,
  pack,
  type PackedArtifact,
  type PackOptions,
  type PackResult,
  pushPackage,
} from './pack.js';
export { type CopyEvent, type CopyOptions, type CopyResult, copyArtifact } from './copy.js';
export { type ExtractedFile, type ExtractResult, extractPackage, safeTitleSegments } from './extract.js';
export { type OpenTargetOptions, openTarget } from './targets.js';
export {
  formatReference,
  type LayoutReference,
  parseReference,
  referenceSelector,
  requireSelector,
  type StoreReference,
} from './reference.js';
