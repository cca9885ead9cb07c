import { Flags } from '@oclif/core';
import { BaseCommand } from '../../lib/cli/index.js';
import { stopDaemon, type StopResult } from '../../lib/daemon/index.js';

export default class DaemonStop extends BaseCommand {
  static override summary = 'Stop the daemon: in-flight runs finish first; a stale socket or pid file is cleaned.';
  static override examples = ['<%= config.bin %> daemon stop', '<%= config.bin %> daemon stop --json'];
  static override flags = {
    timeout: Flags.integer({ description: 'How long to let it drain before signals, in ms.', default: 30_000 }),
  };

  async run(): Promise<StopResult> {
    const { flags } = await this.parse(DaemonStop);
    const result = await stopDaemon({ env: process.env, timeoutMs: flags.timeout });
    this.log(result.stopped ? `daemon pid ${result.pid} stopped` : 'no daemon was running');
    for (const f of result.cleaned) this.diag(`removed stale ${f}`);
    return result;
  }
}
