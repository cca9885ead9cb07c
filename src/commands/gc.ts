import { Flags } from '@oclif/core';
import { BaseCommand } from '../lib/cli/index.js';
import { resolvePaths } from '../lib/config/index.js';
import { gc, type GcResult } from '../lib/install/index.js';

export default class Gc extends BaseCommand {
  static override summary = 'Remove store blobs that no tag, lockfile entry or referrer uses.';
  static override description =
    "Walks the local store from every tag and every digest of this project's aionctl.lock (with the signatures and SBOMs that refer to them) and deletes the blobs nothing reaches. --dry-run lists them without deleting.";
  static override examples = ['<%= config.bin %> gc --dry-run', '<%= config.bin %> gc --json'];
  static override flags = { 'dry-run': Flags.boolean({ description: 'List what would be removed; remove nothing.' }) };

  async run(): Promise<GcResult> {
    const { flags } = await this.parse(Gc);
    const result = await gc({
      cwd: process.cwd(),
      env: process.env,
      paths: resolvePaths(process.env),
      dryRun: flags['dry-run'],
    });
    for (const b of result.blobs)
      this.log(`${result.dryRun ? 'would remove' : 'removed'} ${b.digest} (${b.size} bytes)`);
    this.diag(`${result.blobs.length} blobs, ${result.bytes} bytes${result.dryRun ? ' (dry run)' : ''}`);
    return result;
  }
}
