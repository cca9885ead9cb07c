export {
  checkPackageFiles,
  checkRegistryGroup,
  DEFAULT_MODULE,
  DEFAULT_ROUTES,
  MAX_IO_SCHEMA_BYTES,
  MAX_IO_SCHEMA_DEPTH,
  ociRefProblem,
  type ParsedFile,
} from './cross.js';
export { type Diagnostic, formatDiagnostic, isWarning } from './diagnostics.js';
export { type DuplicateKey, findDuplicateKeys } from './unique-keys.js';
export { detectKind, KIND_NAMES, KINDS, type KindInfo, kindFromFileName, type ManifestKind } from './kinds.js';
export { type LoadedPackage, loadPackage, PACKAGE_MANIFEST } from './package.js';
export { toSarif } from './sarif.js';
export { SCHEMA_DIR, schemaFor, validatorFor } from './schemas.js';
export {
  canonicalJson,
  checkUserSchema,
  configureValidatorCache,
  DEFAULT_VALIDATOR_CACHE_ENTRIES,
  schemaDigest,
  userSchemaValidator,
  validatorCacheStats,
} from './schema-cache.js';
export {
  MAX_ALIASES,
  MAX_DEPTH,
  MAX_MANIFEST_BYTES,
  parseSource,
  parseWithPositions,
  readManifestText,
  type SourceDocument,
} from './source.js';
export { generateTypes } from './typegen.js';
export type * from './types.generated.js';
export {
  assertSomethingToValidate,
  expandPaths,
  type FileResult,
  validatePaths,
  validateSource,
  type ValidationReport,
} from './validate.js';
export {
  PACKAGE_NAME_PATTERN,
  packageNameFrom,
  scaffoldPackage,
  type ScaffoldFile,
  type ScaffoldRuntime,
} from './scaffold.js';
