import { BaseCommand } from '../../lib/cli/index.js';
import { EXIT } from '../../lib/errors/index.js';
import { daemonStatus, type StatusResult } from '../../lib/daemon/index.js';

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

export default class DaemonStatusCommand extends BaseCommand {
  static override summary =
    'Show whether the daemon runs, and its pid, version, uptime, runs, memory, caches and pools.';
  static override description =
    'Exit code 0 when a daemon answers, 7 when none runs (LC family), so scripts can test it.';
  static override examples = ['<%= config.bin %> daemon status', '<%= config.bin %> daemon status --json'];

  async run(): Promise<StatusResult> {
    await this.parse(DaemonStatusCommand);
    const s = await daemonStatus({ env: process.env });
    if (!s.running) {
      this.setExitCode(EXIT.LIFECYCLE);
      this.log(`no daemon running (socket ${s.socket})`);
      for (const f of s.stale) this.diag(`stale file: ${f} (aionctl daemon stop cleans it)`);
      return s;
    }
    this.log(`daemon pid ${s.pid}, version ${s.version} (build ${s.buildId}), up ${Math.round(s.uptimeMs / 1000)} s`);
    this.log(`socket   ${s.socket}`);
    this.log(`runs     ${s.runs.total} (${s.runs.ok} ok, ${s.runs.failed} failed, ${s.runs.inFlight} in flight)`);
    this.log(`queue    high ${s.queue.high}, normal ${s.queue.normal}, low ${s.queue.low} (max ${s.queue.max} each)`);
    this.log(`memory   rss ${mib(s.rss)}, heap ${mib(s.heapUsed)}`);
    for (const c of s.caches)
      this.log(
        `cache    ${c.name}: ${c.entries} entries, ${mib(c.bytes)} of ${mib(c.maxBytes)}, ${c.hits} hits, ${c.misses} misses`,
      );
    for (const p of s.pools)
      this.log(
        `pool     ${p.key}: ${p.size} hosts (${p.busy} busy, min ${p.min}, max ${p.max}), ${p.replaced} replaced, ${p.recycled} recycled`,
      );
    for (const g of s.gpus)
      this.log(`gpu      ${g.index} ${g.name} ${g.memoryFreeMiB} MiB free${g.busy ? ', busy' : ''}`);
    return s;
  }
}
