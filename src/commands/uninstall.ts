import { Args } from '@oclif/core';
import { BaseCommand } from '../lib/cli/index.js';
import { type InstallResult, summaryLine } from '../lib/install/index.js';
import { installFlags, installWithFlags } from './install.js';

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
    // frozen defaults to off here: updating or removing means the lockfile is meant to change.
    const result = await installWithFlags(
      { ...flags, frozen: flags.frozen ?? false },
      { silent, diag: (l) => this.diag(l), warn: (m) => this.warnLine(m) },
      { remove: argv as string[] },
    );
    if (!silent) this.diag(`removed ${result.removed.join(', ')}; ${summaryLine(result)}`);
    return result;
  }
}
