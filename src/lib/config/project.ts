/**
 * The configuration: the user's `config.yaml` and the nearest project `.aionctl.yaml`, each validated against
 * manifests/aionctl-config.schema.json (unknown keys are CI004 errors with file:line:col).
 *
 * Safety (like git's safe.directory): a config file owned by another user (not the caller, not root) or writable
 * by group/others is refused with ST020 naming it; a `.aionctl.yaml` that is not a regular file is ignored with a
 * warning. Relative key paths resolve against the directory of the file that names them.
 *
 * Merging: project sections override user sections key by key, except `trust`: user rules come first and are
 * authoritative (first match wins), project rules are appended so they only decide names no user rule matches,
 * and the user can drop them entirely with `projectTrust: ignore`. A project file can never replace or widen what
 * the user's own rules say about a name.
 */
import { lstat, readFile, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { AionError, fsError } from '../errors/index.js';
import type { AionctlConfig } from '../manifest/types.generated.js';

export const PROJECT_FILE = '.aionctl.yaml';
export const USER_CONFIG_FILE = 'config.yaml';
/** Config files are small: anything bigger is refused before parsing. */
export const MAX_CONFIG_BYTES = 1024 * 1024;

/** Stamp defaults a project may set (the `stamp` section of manifests/aionctl-config.schema.json). */
export type StampConfig = NonNullable<AionctlConfig['stamp']>;

export interface TrustRule {
  /** Glob over `registry/repository` (e.g. `registry.example/team/*`). */
  match: string;
  /** Public key files (or env://VAR) any of which may sign matching artifacts. */
  keys: string[];
  requireSbom?: boolean;
  /** Accept Sigstore bundles that do not name the repository they were made for (cosign-made bundles). */
  allowUnboundBundles?: boolean;
  /** The file the rule came from (set by the loader; relative keys were resolved against its directory). */
  source?: string;
}

/** Settings of the background daemon (the `daemon` section of the config schema). */
export type DaemonConfig = NonNullable<AionctlConfig['daemon']>;

/** The merged configuration (shape enforced by manifests/aionctl-config.schema.json). */
export interface AionConfig {
  stamp?: StampConfig;
  trust?: TrustRule[];
  /** User config only: use project trust rules for names no user rule matches (`add`, default) or not. */
  projectTrust?: 'add' | 'ignore';
  /** Default registry repository prefix (`localhost:5000/agents`, `oci:DIR`). */
  registry?: string;
  /** Package name → semver range or `repository@range`. */
  packages?: Record<string, string>;
  daemon?: DaemonConfig;
  [section: string]: unknown;
}

/** One setting in effect and the file it came from (`aionctl config`). */
export interface ConfigSetting {
  key: string;
  value: unknown;
  source: string;
}

export interface LoadedConfig {
  config: AionConfig;
  /** The `.aionctl.yaml` found walking up from cwd, if any. */
  projectFile?: string;
  /** Directory of the project file: relative ignore globs are anchored here. */
  projectRoot?: string;
  userFile?: string;
  /** Every leaf setting in effect with its source file. */
  settings: ConfigSetting[];
  /** Things the caller should print (e.g. a `.aionctl.yaml` that is a directory was ignored). */
  warnings: string[];
}

export interface LoadOptions {
  /** The uid config files must belong to (besides root); default the current process's. Undefined: no check. */
  uid?: number | null;
}

function currentUid(): number | undefined {
  return typeof process.getuid === 'function' ? process.getuid() : undefined;
}

/** ST020 when `path` is owned by someone else than `uid`/root or is group/other-writable. */
export async function assertSafeConfigFile(path: string, uid: number | undefined): Promise<void> {
  if (uid === undefined) return;
  let st;
  let link;
  try {
    link = await lstat(path);
    st = await stat(path);
  } catch (err) {
    throw fsError(err, path);
  }
  const hint = `if you trust it: chown ${uid} ${path} && chmod go-w ${path}; otherwise delete it`;
  // A symlink planted by someone else must not borrow the trust of the file it points at.
  if (link.isSymbolicLink() && link.uid !== uid && link.uid !== 0)
    throw new AionError('ST020', `refusing config file ${path}: it is a symlink owned by uid ${link.uid}`, { hint });
  if (st.uid !== uid && st.uid !== 0)
    throw new AionError('ST020', `refusing config file ${path}: it is owned by uid ${st.uid}, not by you or root`, {
      hint,
    });
  if (st.mode & 0o022)
    throw new AionError(
      'ST020',
      `refusing config file ${path}: it is writable by ${st.mode & 0o020 ? 'group' : 'others'} (mode ${(st.mode & 0o777).toString(8)})`,
      { hint },
    );
}

/**
 * Finds `.aionctl.yaml` in `start` or the nearest ancestor. Candidates that are not regular files (a directory
 * named `.aionctl.yaml`) or cannot be inspected are skipped with a warning pushed on `warnings`.
 */
export async function findProjectFile(start: string, warnings: string[] = []): Promise<string | undefined> {
  let dir = resolve(start);
  for (;;) {
    const candidate = join(dir, PROJECT_FILE);
    try {
      const st = await stat(candidate);
      if (st.isFile()) return candidate;
      warnings.push(`ignoring ${candidate}: not a regular file`);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') warnings.push(`ignoring ${candidate}: ${code ?? 'unreadable'}`);
    }
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/**
 * Reads, checks (ownership, mode, schema) and parses one config file; a missing file is `undefined`. Relative key
 * paths of its trust rules are resolved against the file's directory and each rule records its source.
 */
export async function readConfigFile(path: string, options: LoadOptions = {}): Promise<AionConfig | undefined> {
  let text: string;
  try {
    const st = await stat(path);
    if (!st.isFile()) throw Object.assign(new Error('not a regular file'), { code: 'EISDIR' });
    if (st.size > MAX_CONFIG_BYTES)
      throw new AionError('FS005', `${path} is ${st.size} bytes; config files are limited to ${MAX_CONFIG_BYTES}`);
    await assertSafeConfigFile(path, options.uid === undefined ? currentUid() : (options.uid ?? undefined));
    text = await readFile(path, 'utf8');
  } catch (err) {
    if (err instanceof AionError) throw err;
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw fsError(err, path);
  }
  return parseConfig(text, path);
}

/** Parses and validates config text (CI004 with file:line:col); relative key paths resolve against `path`'s dir. */
export async function parseConfig(text: string, path: string): Promise<AionConfig> {
  // The YAML parser and ajv cost ~90 ms to load: only when a config file exists.
  const [{ parseSource }, { validatorFor }, { schemaDiagnostics }] = await Promise.all([
    import('../manifest/source.js'),
    import('../manifest/schemas.js'),
    import('../manifest/schema-errors.js'),
  ]);
  const { source, diagnostics } = parseSource(path, text);
  const fail = (d: { line: number; col: number; message: string }, hint: string): never => {
    throw new AionError('CI004', `${path}:${d.line}:${d.col}: ${d.message.replace(/[\s:]+$/, '')}`, {
      position: { file: path, line: d.line, col: d.col },
      hint,
    });
  };
  if (!source || diagnostics.length > 0)
    fail(diagnostics[0] ?? { line: 1, col: 1, message: 'unreadable YAML' }, 'fix the YAML syntax');
  const value = source!.data;
  if (value === null || value === undefined) return {};
  const validate = validatorFor('aionctl-config');
  if (!validate(value)) {
    const [first] = schemaDiagnostics(source!, validate.errors ?? []);
    fail(first ?? { line: 1, col: 1, message: 'invalid configuration' }, 'see `aionctl schema aionctl-config`');
  }
  const config = value as AionConfig;
  const base = dirname(resolve(path));
  if (config.trust) {
    config.trust = config.trust.map((rule) => ({
      ...rule,
      keys: rule.keys.map((k) => (k.startsWith('env://') || isAbsolute(k) ? k : join(base, k))),
      source: path,
    }));
  }
  return config;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return !!value && typeof value === 'object' && !Array.isArray(value);
}

/** Leaf settings of one file: sections one level deep (`stamp.owner`), trust rules by index. */
function settingsOf(config: AionConfig, source: string): Map<string, ConfigSetting> {
  const out = new Map<string, ConfigSetting>();
  for (const [key, value] of Object.entries(config)) {
    if (key === 'trust') continue;
    if (isRecord(value))
      for (const [sub, v] of Object.entries(value))
        out.set(`${key}.${sub}`, { key: `${key}.${sub}`, value: v, source });
    else out.set(key, { key, value, source });
  }
  return out;
}

/**
 * Loads the user config and the nearest project file and merges them (see the module comment for the rules).
 * Throws ST020 for an unsafe file, CI004 for an invalid one.
 */
export async function loadConfig(cwd: string, configDir: string, options: LoadOptions = {}): Promise<LoadedConfig> {
  const warnings: string[] = [];
  const userFile = join(configDir, USER_CONFIG_FILE);
  const user = await readConfigFile(userFile, options);
  const projectFile = await findProjectFile(cwd, warnings);
  const project = projectFile ? await readConfigFile(projectFile, options) : undefined;
  if (project?.projectTrust !== undefined)
    throw new AionError('CI004', `${projectFile}: projectTrust is a user setting (config.yaml), not a project one`, {
      position: { file: projectFile! },
    });

  const config: AionConfig = { ...user };
  delete config.trust;
  for (const [key, value] of Object.entries(project ?? {})) {
    if (key === 'trust') continue;
    const base = config[key];
    config[key] = isRecord(value) && isRecord(base) ? { ...base, ...value } : value;
  }
  const userRules = user?.trust ?? [];
  const projectRules = user?.projectTrust === 'ignore' ? [] : (project?.trust ?? []);
  if (project?.trust?.length && user?.projectTrust === 'ignore')
    warnings.push(`ignoring the trust rules of ${projectFile} (projectTrust: ignore in ${userFile})`);
  if (userRules.length + projectRules.length > 0) config.trust = [...userRules, ...projectRules];

  const settings = new Map<string, ConfigSetting>();
  if (user) for (const [k, s] of settingsOf(user, userFile)) settings.set(k, s);
  if (project && projectFile) for (const [k, s] of settingsOf(project, projectFile)) settings.set(k, s);
  const list = [...settings.values()];
  (config.trust ?? []).forEach((rule, i) => list.push({ key: `trust[${i}]`, value: rule, source: rule.source ?? '' }));
  return {
    config,
    projectFile,
    projectRoot: projectFile ? dirname(projectFile) : undefined,
    userFile: user ? userFile : undefined,
    settings: list,
    warnings,
  };
}
