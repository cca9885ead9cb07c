import { Args } from '@oclif/core';
import { BaseCommand } from '../lib/cli/index.js';
import { type InstallResult, summaryLine } from '../lib/install/index.js';
import { installFlags, installWithFlags } from './install.js';

export default class Update extends BaseCommand {
  static override summary = 'Re-resolve packages within their ranges and rewrite aionctl.lock.';
  static override description =
    'Without NAME every package is re-resolved to the highest version its ranges accept; with NAME... only those move and the others keep their locked versions when they can. The ranges in .aionctl.yaml do not change (edit them, or `aionctl install NAME@RANGE`, to go beyond).';
  static override examples = ['<%= config.bin %> update', '<%= config.bin %> update summarize_text --json'];
  static override strict = false;
  static override args = { packages: Args.string({ description: 'NAME to update (default: all).' }) };
  static override flags = { ...installFlags };

  async run(): Promise<InstallResult> {
    const { argv, flags } = await this.parse(Update);
    const silent = flags.quiet || this.jsonEnabled();
    // frozen defaults to off here: updating or removing means the lockfile is meant to change.
    const result = await installWithFlags(
      { ...flags, frozen: flags.frozen ?? false },
      { silent, diag: (l) => this.diag(l), warn: (m) => this.warnLine(m) },
      { update: argv as string[] },
    );
    if (!silent) this.diag(summaryLine(result));
    return result;
  }
}
