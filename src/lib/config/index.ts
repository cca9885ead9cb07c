export { type AionPaths, type Env, resolvePaths } from './paths.js';
export {
  type AionConfig,
  assertSafeConfigFile,
  type ConfigSetting,
  type DaemonConfig,
  findProjectFile,
  type LoadedConfig,
  type LoadOptions,
  loadConfig,
  MAX_CONFIG_BYTES,
  parseConfig,
  PROJECT_FILE,
  readConfigFile,
  type StampConfig,
  type TrustRule,
  USER_CONFIG_FILE,
} from './project.js';
