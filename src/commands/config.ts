import { BaseCommand } from '../lib/cli/index.js';
import { type AionConfig, type AionPaths, type ConfigSetting, loadConfig, resolvePaths } from '../lib/config/index.js';

export interface ConfigResult {
  paths: AionPaths;
  projectFile: string | null;
  userFile: string | null;
  /** The merged configuration in effect. */
  config: AionConfig;
  /** Every setting in effect and the file it came from. */
  settings: ConfigSetting[];
  warnings: string[];
}

function show(value: unknown): string {
  if (value && typeof value === 'object' && 'match' in value) {
    const { source: _source, ...rule } = value as Record<string, unknown>;
    return JSON.stringify(rule);
  }
  return JSON.stringify(value);
}

export default class Config extends BaseCommand {
  static override summary = 'Show where aionctl keeps its files and the settings in effect, with where each came from.';
  static override description = [
    'Directories follow the XDG base directory spec ($XDG_CONFIG_HOME, $XDG_CACHE_HOME, $XDG_DATA_HOME, $XDG_RUNTIME_DIR); AIONCTL_HOME puts all of them under one root.',
    'Settings come from the user file config.yaml and the project file .aionctl.yaml (found by walking up from the working directory; a directory of that name is ignored with a warning). Both are validated against `aionctl schema aionctl-config` (unknown keys are errors) and refused when owned by another user or writable by group/others. Project sections override user sections key by key; trust rules are different: user rules come first and decide every name they match, project rules only apply to names no user rule matches, and `projectTrust: ignore` in config.yaml drops them.',
  ].join('\n\n');
  static override examples = ['<%= config.bin %> config', '<%= config.bin %> config --json'];

  async run(): Promise<ConfigResult> {
    await this.parse(Config);
    const paths = resolvePaths(process.env);
    const loaded = await loadConfig(process.cwd(), paths.config);
    for (const w of loaded.warnings) this.warnLine(w);
    const result: ConfigResult = {
      paths,
      projectFile: loaded.projectFile ?? null,
      userFile: loaded.userFile ?? null,
      config: loaded.config,
      settings: loaded.settings,
      warnings: loaded.warnings,
    };
    for (const [name, path] of Object.entries(paths)) this.log(`${name.padEnd(8)} ${path}`);
    this.log(`project  ${result.projectFile ?? '(no .aionctl.yaml found)'}`);
    this.log(`user     ${result.userFile ?? '(no config.yaml)'}`);
    if (loaded.settings.length === 0) this.log('settings (none: built-in defaults)');
    else this.log('settings');
    for (const s of loaded.settings) this.log(`  ${s.key} = ${show(s.value)}  (${s.source})`);
    return result;
  }
}
