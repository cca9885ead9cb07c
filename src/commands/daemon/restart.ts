import { Flags } from '@oclif/core';
import { BaseCommand } from '../../lib/cli/index.js';
import { startDaemon, type StartResult, stopDaemon } from '../../lib/daemon/index.js';

export default class DaemonRestart extends BaseCommand {
  static override summary = 'Stop the daemon (draining it) and start a fresh one.';
  static override examples = ['<%= config.bin %> daemon restart'];
  static override flags = {
    timeout: Flags.integer({ description: 'How long to wait for each step, in ms.', default: 15_000, min: 100 }),
  };

  async run(): Promise<StartResult & { stoppedPid?: number }> {
    const { flags } = await this.parse(DaemonRestart);
    const stopped = await stopDaemon({ env: process.env, timeoutMs: flags.timeout });
    const result = await startDaemon({
      env: process.env,
      cwd: process.cwd(),
      nodePath: process.execPath,
      timeoutMs: flags.timeout,
    });
    this.log(`daemon restarted: pid ${result.pid} on ${result.socket}`);
    return { ...result, ...(stopped.pid ? { stoppedPid: stopped.pid } : {}) };
  }
}
