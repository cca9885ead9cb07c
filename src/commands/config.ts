import { BaseCommand } from '../lib/cli/index.js';
import { type AionConfig, type AionPaths, loadConfig, resolvePaths } from '../lib/config/index.js';

export interface ConfigResult {
  paths: AionPaths;
  projectFile: string | null;
  userFile: string | null;
  config: AionConfig;
}

export default class Config extends BaseCommand {
  static override summary = 'Show where aionctl keeps its files and the configuration in effect.';
  static override description =
    'Directories follow the XDG base directory spec ($XDG_CONFIG_HOME, $XDG_CACHE_HOME, $XDG_DATA_HOME, $XDG_RUNTIME_DIR); AIONCTL_HOME puts all of them under one root. The project file .aionctl.yaml is found by walking up from the working directory and overrides the user config.yaml section by section.';
  static override examples = ['<%= config.bin %> config', '<%= config.bin %> config --json'];

  async run(): Promise<ConfigResult> {
    await this.parse(Config);
    const paths = resolvePaths(process.env);
    const loaded = await loadConfig(process.cwd(), paths.config);
    const result: ConfigResult = {
      paths,
      projectFile: loaded.projectFile ?? null,
      userFile: loaded.userFile ?? null,
      config: loaded.config,
    };
    for (const [name, path] of Object.entries(paths)) this.log(`${name.padEnd(8)} ${path}`);
    this.log(`project  ${result.projectFile ?? '(no .aionctl.yaml found)'}`);
    this.log(`user     ${result.userFile ?? '(no config.yaml)'}`);
    return result;
  }
}
