import { Flags } from '@oclif/core';
import { BaseCommand } from '../../lib/cli/index.js';
import { daemonLogs } from '../../lib/daemon/index.js';

export default class DaemonLogs extends BaseCommand {
  static override summary = "Print the last lines of the daemon's JSON-lines log (rotated by size).";
  static override examples = ['<%= config.bin %> daemon logs', '<%= config.bin %> daemon logs -n 200 --json'];
  static override flags = {
    lines: Flags.integer({ char: 'n', description: 'How many lines.', default: 50, min: 1 }),
  };

  async run(): Promise<{ file: string; entries: unknown[] }> {
    const { flags } = await this.parse(DaemonLogs);
    const { file, lines } = daemonLogs({ env: process.env, lines: flags.lines });
    if (!this.jsonEnabled()) for (const line of lines) process.stdout.write(`${line}\n`);
    if (lines.length === 0) this.diag(`no log yet at ${file}`);
    return {
      file,
      entries: lines.map((l) => {
        try {
          return JSON.parse(l) as unknown;
        } catch {
          return l;
        }
      }),
    };
  }
}
