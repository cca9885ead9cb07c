import { Args } from '@oclif/core';
import { BaseCommand } from '../../lib/cli/index.js';
import { resolvePaths } from '../../lib/config/index.js';
import { type QuarantineRecord, removeFromQuarantine } from '../../lib/sign/index.js';

export default class QuarantineRm extends BaseCommand {
  static override summary = 'Forget a quarantined artifact.';
  static override description =
    'Removes the quarantine record of DIGEST (a full sha256 digest or a unique prefix of at least 7 hex characters). Nothing is trusted by this: the next pull verifies again.';
  static override examples = [
    '<%= config.bin %> quarantine rm sha256:4f3c2a1',
    '<%= config.bin %> quarantine rm 4f3c2a1b',
  ];
  static override args = {
    digest: Args.string({ description: 'Digest (or unique prefix) to forget.', required: true }),
  };

  async run(): Promise<QuarantineRecord> {
    const { args } = await this.parse(QuarantineRm);
    const record = await removeFromQuarantine(resolvePaths(process.env).data, args.digest);
    this.log(`removed ${record.digest} (${record.ref}) from quarantine`);
    return record;
  }
}
