import { Args } from '@oclif/core';
import { BaseCommand, connectOptions } from '../lib/cli/index.js';
import { resolvePaths } from '../lib/config/index.js';
import { install, type InstallResult, progressLine, summaryLine } from '../lib/install/index.js';
import { installFlags } from './install.js';

export default class Uninstall extends BaseCommand {
  static override summary = 'Remove packages from .aionctl.yaml, the lockfile and .aionctl/packages.';
  static override description =
    'The remaining packages keep their locked versions; dependencies nothing needs any more are removed too. The store keeps the blobs until `aionctl gc`.';
  static override examples = ['<%= config.bin %> uninstall echo_json', '<%= config.bin %> uninstall a b --json'];
  static override strict = false;
  static override args = { packages: Args.string({ description: 'NAME to remove.', required: true }) };
  static override flags = { ...installFlags };

  async run(): Promise<InstallResult> {
    const { argv, flags } = await this.parse(Uninstall);
    const silent = flags.quiet || this.jsonEnabled();
    const result = await install({
      cwd: process.cwd(),
      env: process.env,
      paths: resolvePaths(process.env),
      remove: argv as string[],
      frozen: flags.frozen ?? false,
      offline: flags.offline,
      concurrency: flags.concurrency,
      registry: connectOptions(flags, (m) => this.warnLine(m)),
      onEvent: (e) => {
        if (!silent) this.log(progressLine(e));
      },
    });
    if (!silent) this.diag(`removed ${result.removed.join(', ')}; ${summaryLine(result)}`);
    return result;
  }
}
