import { Flags } from '@oclif/core';
import { BaseCommand } from '../../lib/cli/index.js';
import { runForeground, startDaemon, type StartResult } from '../../lib/daemon/index.js';

export default class DaemonStart extends BaseCommand {
  static override summary = 'Start the background daemon for this user and store (returns once it answers).';
  static override description = [
    'The daemon keeps warm sandboxed hosts, compiled modules, schemas and registry/verification caches, and serves `aionctl run` and an HTTP API over a private Unix socket ($AIONCTL_HOME/run, $XDG_RUNTIME_DIR/aionctl or /tmp/aionctl-<uid>, mode 0700). One daemon per user and store; a daemon of another version is replaced. It exits after daemon.idleTimeoutMs without requests (default 30 min).',
    '--foreground runs it in this process (for debugging and service managers such as a systemd user unit; see docs/daemon.md), logging JSON lines to stderr as well as the log file.',
  ].join('\n\n');
  static override examples = [
    '<%= config.bin %> daemon start',
    '<%= config.bin %> daemon start --foreground',
    '<%= config.bin %> daemon start --json',
  ];
  static override flags = {
    foreground: Flags.boolean({ description: 'Run in this process until stopped (SIGTERM drains, then exits).' }),
    timeout: Flags.integer({ description: 'How long to wait for /healthz, in ms.', default: 15_000, min: 100 }),
  };

  async run(): Promise<StartResult | { stopped: string }> {
    const { flags } = await this.parse(DaemonStart);
    if (flags.foreground) {
      const reason = await runForeground({
        env: process.env,
        cwd: process.cwd(),
        echo: (line) => process.stderr.write(line),
        signals: process,
      });
      return { stopped: reason };
    }
    const result = await startDaemon({
      env: process.env,
      cwd: process.cwd(),
      nodePath: process.execPath,
      timeoutMs: flags.timeout,
    });
    const what = { started: 'started', running: 'already running', replaced: 'replaced an older daemon;' }[
      result.action
    ];
    this.log(`daemon ${what} pid ${result.pid} on ${result.socket}`);
    return result;
  }
}
