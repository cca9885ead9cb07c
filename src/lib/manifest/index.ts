export { checkPackageFiles, checkRegistryGroup, DEFAULT_ROUTES, ociRefProblem, type ParsedFile } from './cross.js';
export { type Diagnostic, formatDiagnostic } from './diagnostics.js';
export { detectKind, KIND_NAMES, KINDS, type KindInfo, kindFromFileName, type ManifestKind } from './kinds.js';
export { type LoadedPackage, loadPackage, PACKAGE_MANIFEST } from './package.js';
export { toSarif } from './sarif.js';
export { SCHEMA_DIR, schemaFor, validatorFor } from './schemas.js';
export {
  MAX_ALIASES,
  MAX_DEPTH,
  MAX_MANIFEST_BYTES,
  parseSource,
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
