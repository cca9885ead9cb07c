import { BaseCommand, connectOptions, registryFlags } from '../lib/cli/index.js';
import { resolvePaths } from '../lib/config/index.js';
import { type OutdatedPackage, outdated } from '../lib/install/index.js';

export default class Outdated extends BaseCommand {
  static override summary = 'Show, for each locked package, the newest version within its ranges and beyond.';
  static override description =
    "wanted: the newest version every range on the package accepts (what `aionctl update` moves to); latest: the newest stable version at all (going there may need a wider range). Lists the repositories' tags.";
  static override examples = ['<%= config.bin %> outdated', '<%= config.bin %> outdated --json'];
  static override flags = { ...registryFlags };

  async run(): Promise<OutdatedPackage[]> {
    const { flags } = await this.parse(Outdated);
    const rows = await outdated({
      cwd: process.cwd(),
      env: process.env,
      paths: resolvePaths(process.env),
      registry: connectOptions(flags, (m) => this.warnLine(m)),
    });
    this.log(['package', 'current', 'wanted', 'latest'].join('\t'));
    for (const r of rows) this.log([r.name, r.current, r.wanted, r.latest].join('\t'));
    return rows;
  }
}
