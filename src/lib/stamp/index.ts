/** `aionctl stamp`: ONEX metadata blocks in source files. Pure planning in plan.ts, I/O in select.ts and run.ts. */
export { locateBlock, loadYaml } from './block.js';
export { stampNow } from './clock.js';
export {
  canonicalJson,
  FIELD_ORDER,
  lineTerminatorIn,
  quoteOneLine,
  type FieldName,
  type Fields,
  LIFECYCLES,
  renderField,
} from './fields.js';
export { normalizeBody, sealedText, stampHash } from './hash.js';
export { preambleEnd } from './preamble.js';
export {
  assertOneLineValues,
  type Change,
  decodeText,
  type FieldValues,
  type Plan,
  planStamp,
  type StampContext,
} from './plan.js';
export { defaultOwner } from './owner.js';
export { renderBlock } from './render.js';
export {
  defaultConcurrency,
  type FileResult,
  type FileStatus,
  type StampRunOptions,
  type StampRunResult,
  stampFiles,
} from './run.js';
export { globMatcher, mayBeInGitWorkTree, PRUNED_DIRS, selectFiles } from './select.js';
export {
  type CommentStyle,
  fileTypeFor,
  type FileType,
  SKIP_REASONS,
  type SkipReason,
  STYLES,
  type StyleId,
  styleTable,
} from './styles.js';
