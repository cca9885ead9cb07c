import { BaseCommand } from '../lib/cli/index.js';
import { resolvePaths } from '../lib/config/index.js';
import { type ListedPackage, listInstalled } from '../lib/install/index.js';

export default class Ls extends BaseCommand {
  static override summary = 'List the installed packages as a tree: version, digest, dependencies, where from.';
  static override description =
    'Reads aionctl.lock and .aionctl/packages (no network). Direct packages (declared in .aionctl.yaml) are roots; "(not extracted)" marks a locked package missing from .aionctl/packages (run `aionctl install`).';
  static override examples = ['<%= config.bin %> ls', '<%= config.bin %> ls --json'];

  async run(): Promise<{ projectRoot: string; packages: ListedPackage[] }> {
    await this.parse(Ls);
    const result = await listInstalled({ cwd: process.cwd(), env: process.env, paths: resolvePaths(process.env) });
    const byName = new Map(result.packages.map((p) => [p.name, p]));
    const line = (p: ListedPackage, prefix: string, seen: Set<string>) => {
      const note = p.installed ? '' : ' (not extracted)';
      this.log(`${prefix}${p.name}@${p.version}  ${p.digest.slice(0, 19)}  ${p.repository}${note}`);
      if (seen.has(p.name)) return;
      const next = new Set(seen).add(p.name);
      for (const dep of Object.keys(p.dependencies).sort()) {
        const child = byName.get(dep);
        if (child) line(child, `${prefix.replace(/[├└]─ $/, '   ')}└─ `, next);
      }
    };
    if (result.packages.length === 0) this.log('nothing is installed');
    for (const p of result.packages.filter((x) => x.direct)) line(p, '', new Set());
    return result;
  }
}
