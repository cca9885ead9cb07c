export { BaseCommand, type BaseFlags } from './base-command.js';
export { colorEnabled, createStyler, type StyleName, type Styler } from './style.js';
export { readPassword } from './prompt.js';
export { createProgress, formatBytes, type ProgressOptions, type ProgressReporter, shortDigest } from './progress.js';
export { connectOptions, INSECURE_WARNING, type RegistryFlagValues, registryFlags } from './registry.js';
