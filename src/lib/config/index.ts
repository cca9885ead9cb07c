export { type AionPaths, type Env, resolvePaths } from './paths.js';
export {
  type AionConfig,
  type LoadedConfig,
  type StampConfig,
  type TrustRule,
  findProjectFile,
  loadConfig,
  parseConfig,
  PROJECT_FILE,
  readConfigFile,
  USER_CONFIG_FILE,
} from './project.js';
