import { BaseCommand } from '../../lib/cli/index.js';
import { resolvePaths } from '../../lib/config/index.js';
import { type QuarantineRecord, listQuarantine } from '../../lib/sign/index.js';

export default class QuarantineLs extends BaseCommand {
  static override summary = 'List artifacts refused by verification or the trust policy, with the reason.';
  static override description =
    'An artifact whose signature or trust-policy check fails never enters the usable store; it is recorded here with the reference, digest, error code and reason, until removed with `aionctl quarantine rm`.';
  static override examples = ['<%= config.bin %> quarantine ls', '<%= config.bin %> quarantine ls --json'];

  async run(): Promise<QuarantineRecord[]> {
    await this.parse(QuarantineLs);
    const records = await listQuarantine(resolvePaths(process.env).data);
    if (records.length === 0) this.log('nothing is quarantined');
    for (const r of records) this.log(`${r.digest.slice(0, 19)}  ${r.code}  ${r.ref}  ${r.at}\n    ${r.reason}`);
    return records;
  }
}
