export { BaseCommand, type BaseFlags } from './base-command.js';
export { oclifArgs, oclifFlags } from './oclif-spec.js';
export { colorEnabled, createStyler, type StyleName, type Styler } from './style.js';
export {
  assertNoTlogUpload,
  cosignArgv,
  cosignSignFlags,
  cosignVerifyFlags,
  outputFlag,
  wantsJsonOutput,
} from './cosign.js';
export { columns, humanSize, tagMovedLine } from './format.js';
export { readPassword } from './prompt.js';
export { createProgress, formatBytes, type ProgressOptions, type ProgressReporter, shortDigest } from './progress.js';
export { connectOptions, INSECURE_WARNING, type RegistryFlagValues, registryFlags } from './registry.js';
