import { Flags } from '@oclif/core';
import { BaseCommand } from '../../lib/cli/index.js';
import { type GpuDiscovery, discoverGpus, type HostInfo, hostInfo } from '../../lib/gpu/index.js';

export interface GpuListJson extends GpuDiscovery {
  host: HostInfo | null;
}

export default class GpuLs extends BaseCommand {
  static override summary = 'List the GPUs aionctl can give to packages, and why a vendor was not found.';
  static override description = [
    'NVIDIA via nvidia-smi (CSV query, time-limited), AMD via rocm-smi --json, Intel via /sys/class/drm. A package whose runtime.resources.gpu is required gets devices with enough free memory, pinned with CUDA_VISIBLE_DEVICES (by UUID) or ROCR_VISIBLE_DEVICES and their device nodes bound into the sandbox.',
  ].join('\n\n');
  static override examples = ['<%= config.bin %> gpu ls', '<%= config.bin %> gpu ls --json'];
  static override flags = {
    timeout: Flags.integer({ description: 'Per-tool timeout in ms.', default: 3000, min: 100 }),
    host: Flags.boolean({ description: 'Also show CPU and memory (systeminformation).', default: false }),
  };

  async run(): Promise<GpuListJson> {
    const { flags } = await this.parse(GpuLs);
    const discovery = await discoverGpus({ env: process.env, timeoutMs: flags.timeout });
    const host = flags.host ? await hostInfo() : null;
    if (!this.jsonEnabled()) {
      if (discovery.devices.length === 0) this.log('no GPUs found');
      for (const d of discovery.devices) {
        const mem =
          d.memoryTotalMiB !== null
            ? `${d.memoryFreeMiB ?? '?'} MiB free of ${d.memoryTotalMiB} MiB`
            : 'memory unknown';
        const util = d.utilizationPercent !== null ? `, ${d.utilizationPercent}% busy` : '';
        this.log(`${d.vendor} ${d.index}  ${d.name}  ${d.uuid ?? '-'}  ${mem}${util}`);
      }
      for (const p of discovery.probes) {
        this.diag(`${p.tool}: ${p.ok ? `${p.devices} device(s)` : 'not available'}${p.reason ? ` (${p.reason})` : ''}`);
      }
      if (host?.cpu) this.log(`cpu: ${host.cpu.brand}, ${host.cpu.cores} threads`);
      if (host?.memory) this.log(`memory: ${Math.round(host.memory.availableBytes / 1048576)} MiB available`);
    }
    return { ...discovery, host };
  }
}
