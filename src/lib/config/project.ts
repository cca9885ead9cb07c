import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { AionError, fsError } from '../errors/index.js';

// `yaml` costs ~50 ms to import; load it only when a config file exists (most runs of a CLI have none).
type YamlOptions = import('yaml').ParseOptions &
  import('yaml').DocumentOptions &
  import('yaml').SchemaOptions &
  import('yaml').ToJSOptions;
let yamlParse: ((text: string, options: YamlOptions) => unknown) | undefined;
function parse(text: string, options: YamlOptions): unknown {
  yamlParse ??= (createRequire(import.meta.url)('yaml') as typeof import('yaml')).parse;
  return yamlParse(text, options);
}
export const PROJECT_FILE = '.aionctl.yaml';
export const USER_CONFIG_FILE = 'config.yaml';

/** Stamp defaults a project may set. */
export interface StampConfig {
  owner?: string;
  author?: string;
  copyright?: string;
  description?: string;
  version?: string;
  runtime_language_hint?: string;
  /** Default lifecycle for new blocks: active, draft, deprecated or archived. */
  lifecycle?: string;
  state_contract?: string;
  meta_type?: string;
  /** Globs (gitignore-like, relative to the project root) never stamped or checked. */
  ignore?: string[];
}

export interface TrustRule {
  /** Glob over `registry/repository` (e.g. `registry.example/team/*`). */
  match: string;
  /** Public key files (or env://VAR) any of which may sign matching artifacts. */
  keys: string[];
  requireSbom?: boolean;
}

/** The merged configuration; unknown top-level sections are kept for later issues. */
export interface AionConfig {
  stamp?: StampConfig;
  trust?: TrustRule[];
  [section: string]: unknown;
}

export interface LoadedConfig {
  config: AionConfig;
  /** The `.aionctl.yaml` found walking up from cwd, if any. */
  projectFile?: string;
  /** Directory of the project file: relative ignore globs are anchored here. */
  projectRoot?: string;
  userFile?: string;
}

/** Finds `.aionctl.yaml` in `start` or the nearest ancestor. */
export async function findProjectFile(start: string): Promise<string | undefined> {
  let dir = resolve(start);
  for (;;) {
    const candidate = join(dir, PROJECT_FILE);
    try {
      await readFile(candidate);
      return candidate;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw fsError(err, candidate);
    }
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** Parses one config file; a missing file is `undefined`, a broken one a CI004 error with its position. */
export async function readConfigFile(path: string): Promise<AionConfig | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw fsError(err, path);
  }
  return parseConfig(text, path);
}

export function parseConfig(text: string, path: string): AionConfig {
  let value: unknown;
  try {
    value = parse(text, { maxAliasCount: 100, uniqueKeys: true });
  } catch (err) {
    const pos = (err as { linePos?: Array<{ line: number; col: number }> }).linePos?.[0];
    throw new AionError('CI004', `${path} is not valid YAML: ${(err as Error).message.split('\n')[0]}`, {
      cause: err,
      position: { file: path, line: pos?.line, col: pos?.col },
      hint: 'fix the YAML syntax',
    });
  }
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new AionError('CI004', `${path} must be a YAML mapping`, { position: { file: path, line: 1, col: 1 } });
  }
  const config = value as AionConfig;
  const ignore = config.stamp?.ignore;
  if (ignore !== undefined && (!Array.isArray(ignore) || ignore.some((g) => typeof g !== 'string'))) {
    throw new AionError('CI004', `${path}: stamp.ignore must be a list of glob strings`, { position: { file: path } });
  }
  return config;
}

/** User config first, then the project file over it (project wins, per section). */
export async function loadConfig(cwd: string, configDir: string): Promise<LoadedConfig> {
  const userFile = join(configDir, USER_CONFIG_FILE);
  const user = await readConfigFile(userFile);
  const projectFile = await findProjectFile(cwd);
  const project = projectFile ? await readConfigFile(projectFile) : undefined;
  const config: AionConfig = { ...user };
  for (const [key, value] of Object.entries(project ?? {})) {
    const base = config[key];
    config[key] =
      value &&
      typeof value === 'object' &&
      !Array.isArray(value) &&
      base &&
      typeof base === 'object' &&
      !Array.isArray(base)
        ? { ...base, ...value }
        : value;
  }
  return {
    config,
    projectFile,
    projectRoot: projectFile ? dirname(projectFile) : undefined,
    userFile: user ? userFile : undefined,
  };
}
