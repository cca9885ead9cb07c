/**
 * GPU discovery and pinning. NVIDIA via `nvidia-smi --query-gpu=... --format=csv,noheader,nounits` (our own parser,
 * with a timeout: systeminformation calls it synchronously without one and can hang the process), AMD via
 * `rocm-smi --json`, Intel via /sys/class/drm. A package's `runtime.resources.gpu` picks devices with enough free
 * memory and pins them (CUDA_VISIBLE_DEVICES by UUID / ROCR_VISIBLE_DEVICES, device nodes bound into the sandbox).
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Env } from '../config/index.js';
import { AionError } from '../errors/index.js';

export type GpuVendor = 'nvidia' | 'amd' | 'intel';

export interface GpuDevice {
  vendor: GpuVendor;
  index: number;
  uuid: string | null;
  name: string;
  /** MiB; null when the tool does not say. */
  memoryTotalMiB: number | null;
  memoryUsedMiB: number | null;
  memoryFreeMiB: number | null;
  utilizationPercent: number | null;
  driver: string | null;
  /** Device nodes a sandboxed process needs for this GPU. */
  deviceNodes: string[];
}

export interface GpuProbe {
  vendor: GpuVendor;
  tool: string;
  ok: boolean;
  devices: number;
  /** Why nothing was found (tool absent, failed, timed out, unparseable). */
  reason?: string;
}

export interface GpuDiscovery {
  devices: GpuDevice[];
  probes: GpuProbe[];
}

export interface DiscoverOptions {
  env: Env;
  timeoutMs?: number;
  /** Root of /sys and /dev (tests). */
  sysRoot?: string;
  devRoot?: string;
}

const NVIDIA_QUERY = '--query-gpu=index,uuid,name,memory.total,memory.used,utilization.gpu,driver_version';

function definedEnv(env: Env): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
}

function tool(command: string, args: string[], env: Env, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      {
        env: { ...definedEnv(env), PATH: env.PATH ?? '/usr/bin:/bin' },
        timeout: timeoutMs,
        killSignal: 'SIGKILL',
        maxBuffer: 4 << 20,
      },
      (err, stdout, stderr) => {
        if (err) {
          const e = err as NodeJS.ErrnoException & { killed?: boolean; code?: unknown };
          if (e.code === 'ENOENT') reject(new Error(`${command} not found on PATH`));
          else if (e.killed) reject(new Error(`${command} did not answer within ${timeoutMs} ms (killed)`));
          else reject(new Error(`${command} failed: ${(stderr || err.message).trim().split('\n')[0]}`));
          return;
        }
        resolve(stdout);
      },
    );
  });
}

function num(value: string | undefined): number | null {
  if (value === undefined) return null;
  const v = value.trim();
  if (v === '' || /^\[?N\/A\]?$/i.test(v) || /not supported/i.test(v)) return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
}

/** Parses nvidia-smi CSV (index,uuid,name,memory.total,memory.used,utilization.gpu,driver_version). Throws on garbage. */
export function parseNvidiaCsv(text: string, devRoot = '/dev'): GpuDevice[] {
  const devices: GpuDevice[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === '') continue;
    const f = line.split(',').map((s) => s.trim());
    if (f.length !== 7)
      throw new Error(`unexpected nvidia-smi line (${f.length} fields, want 7): ${line.slice(0, 80)}`);
    const index = Number(f[0]);
    if (!Number.isInteger(index) || index < 0) throw new Error(`unexpected GPU index "${f[0]}"`);
    const total = num(f[3]);
    const used = num(f[4]);
    const nodes = [
      `${devRoot}/nvidia${index}`,
      `${devRoot}/nvidiactl`,
      `${devRoot}/nvidia-uvm`,
      `${devRoot}/nvidia-uvm-tools`,
    ];
    devices.push({
      vendor: 'nvidia',
      index,
      uuid: f[1] && !/N\/A/.test(f[1]) ? f[1] : null,
      name: f[2] ?? '',
      memoryTotalMiB: total,
      memoryUsedMiB: used,
      memoryFreeMiB: total !== null && used !== null ? total - used : null,
      utilizationPercent: num(f[5]),
      driver: f[6] && !/N\/A/.test(f[6]) ? f[6] : null,
      deviceNodes: nodes.filter((n) => existsSync(n)),
    });
  }
  return devices;
}

/** Parses `rocm-smi --showproductname --showuniqueid --showmeminfo vram --showuse --json`. */
export function parseRocmJson(text: string, devRoot = '/dev'): GpuDevice[] {
  const data = JSON.parse(text) as Record<string, Record<string, string>>;
  const devices: GpuDevice[] = [];
  for (const [key, card] of Object.entries(data)) {
    const m = /^card(\d+)$/.exec(key);
    if (!m || typeof card !== 'object') continue;
    const index = Number(m[1]);
    const totalB = num(card['VRAM Total Memory (B)']);
    const usedB = num(card['VRAM Total Used Memory (B)']);
    const total = totalB === null ? null : Math.round(totalB / 1048576);
    const used = usedB === null ? null : Math.round(usedB / 1048576);
    devices.push({
      vendor: 'amd',
      index,
      uuid: card['Unique ID'] ?? null,
      name: card['Card series'] ?? card['Card model'] ?? card['Card SKU'] ?? 'AMD GPU',
      memoryTotalMiB: total,
      memoryUsedMiB: used,
      memoryFreeMiB: total !== null && used !== null ? total - used : null,
      utilizationPercent: num(card['GPU use (%)']),
      driver: null,
      deviceNodes: [`${devRoot}/kfd`, `${devRoot}/dri`].filter((n) => existsSync(n)),
    });
  }
  return devices;
}

/** Intel GPUs from /sys/class/drm/card*\/device/vendor (0x8086): presence only. */
function scanIntel(sysRoot = '/sys', devRoot = '/dev'): GpuDevice[] {
  const drm = join(sysRoot, 'class', 'drm');
  let entries: string[];
  try {
    entries = readdirSync(drm);
  } catch {
    return [];
  }
  const devices: GpuDevice[] = [];
  for (const entry of entries.sort()) {
    const m = /^card(\d+)$/.exec(entry);
    if (!m) continue;
    let vendor: string;
    try {
      vendor = readFileSync(join(drm, entry, 'device', 'vendor'), 'utf8').trim();
    } catch {
      continue;
    }
    if (vendor !== '0x8086') continue;
    devices.push({
      vendor: 'intel',
      index: Number(m[1]),
      uuid: null,
      name: 'Intel GPU',
      memoryTotalMiB: null,
      memoryUsedMiB: null,
      memoryFreeMiB: null,
      utilizationPercent: null,
      driver: null,
      deviceNodes: [join(devRoot, 'dri')].filter((n) => existsSync(n)),
    });
  }
  return devices;
}

/** Every GPU the tools report, and for each vendor why nothing was found. Never hangs (tools are time-limited). */
export async function discoverGpus(options: DiscoverOptions): Promise<GpuDiscovery> {
  const timeoutMs = options.timeoutMs ?? 3000;
  const devRoot = options.devRoot ?? '/dev';
  const probes: GpuProbe[] = [];
  const devices: GpuDevice[] = [];
  const [nvidia, amd] = await Promise.allSettled([
    tool('nvidia-smi', [NVIDIA_QUERY, '--format=csv,noheader,nounits'], options.env, timeoutMs),
    tool(
      'rocm-smi',
      ['--showproductname', '--showuniqueid', '--showmeminfo', 'vram', '--showuse', '--json'],
      options.env,
      timeoutMs,
    ),
  ]);
  const record = (
    vendor: GpuVendor,
    name: string,
    result: PromiseSettledResult<string>,
    parse: (t: string) => GpuDevice[],
  ) => {
    if (result.status === 'rejected') {
      probes.push({ vendor, tool: name, ok: false, devices: 0, reason: (result.reason as Error).message });
      return;
    }
    try {
      const found = parse(result.value);
      devices.push(...found);
      probes.push({
        vendor,
        tool: name,
        ok: true,
        devices: found.length,
        ...(found.length ? {} : { reason: 'no devices listed' }),
      });
    } catch (err) {
      probes.push({
        vendor,
        tool: name,
        ok: false,
        devices: 0,
        reason: `unparseable output: ${(err as Error).message}`,
      });
    }
  };
  record('nvidia', 'nvidia-smi', nvidia, (t) => parseNvidiaCsv(t, devRoot));
  record('amd', 'rocm-smi', amd, (t) => parseRocmJson(t, devRoot));
  const intel = scanIntel(options.sysRoot, devRoot);
  devices.push(...intel);
  probes.push({
    vendor: 'intel',
    tool: '/sys/class/drm',
    ok: true,
    devices: intel.length,
    ...(intel.length ? {} : { reason: 'no Intel DRM device' }),
  });
  return { devices, probes };
}

export interface GpuRequirement {
  required?: boolean;
  vendor?: 'nvidia' | 'amd' | 'intel' | 'none';
  count?: number;
  /** Bytes of free memory per device. */
  memoryBytes?: number;
}

export interface GpuSelection {
  devices: GpuDevice[];
  env: Record<string, string>;
  deviceNodes: string[];
}

/**
 * Picks `count` devices of the vendor with at least `memoryBytes` free (most free first) and the environment that
 * pins them. EX020 when the requirement is `required` and cannot be met; an empty selection otherwise.
 */
export function selectGpus(req: GpuRequirement, discovery: GpuDiscovery): GpuSelection {
  const none: GpuSelection = { devices: [], env: {}, deviceNodes: [] };
  if (!req.required && (!req.vendor || req.vendor === 'none') && !req.count) return none;
  const count = Math.max(1, req.count ?? 1);
  const needMiB = req.memoryBytes ? req.memoryBytes / 1048576 : 0;
  const candidates = discovery.devices
    .filter((d) => !req.vendor || req.vendor === 'none' || d.vendor === req.vendor)
    .filter((d) => needMiB === 0 || (d.memoryFreeMiB !== null && d.memoryFreeMiB >= needMiB))
    .sort((a, b) => (b.memoryFreeMiB ?? 0) - (a.memoryFreeMiB ?? 0));
  if (candidates.length < count) {
    if (!req.required) return none;
    const why = discovery.probes
      .filter((p) => !req.vendor || req.vendor === 'none' || p.vendor === req.vendor)
      .map((p) => `${p.tool}: ${p.ok ? `${p.devices} device(s)` : p.reason}`)
      .join('; ');
    const what = `${count} ${req.vendor && req.vendor !== 'none' ? req.vendor + ' ' : ''}GPU(s)${needMiB ? ` with ${Math.round(needMiB)} MiB free` : ''}`;
    throw new AionError('EX020', `the package requires ${what}; ${candidates.length} available (${why})`, {
      hint: 'run `aionctl gpu ls` to see what was found and why',
    });
  }
  const picked = candidates.slice(0, count);
  const vendor = picked[0]!.vendor;
  const ids = picked.map((d) => d.uuid ?? String(d.index)).join(',');
  const env: Record<string, string> =
    vendor === 'nvidia'
      ? { CUDA_VISIBLE_DEVICES: ids, CUDA_DEVICE_ORDER: 'PCI_BUS_ID', NVIDIA_VISIBLE_DEVICES: ids }
      : vendor === 'amd'
        ? { ROCR_VISIBLE_DEVICES: ids, HIP_VISIBLE_DEVICES: picked.map((d) => String(d.index)).join(',') }
        : { ZE_AFFINITY_MASK: picked.map((d) => String(d.index)).join(',') };
  const deviceNodes = [...new Set(picked.flatMap((d) => d.deviceNodes))];
  return { devices: picked, env, deviceNodes };
}

export interface HostInfo {
  cpu: { brand: string; cores: number; physicalCores: number } | null;
  memory: { totalBytes: number; availableBytes: number } | null;
}

/** CPU and memory via systeminformation (its graphics() is never called: it can hang). */
export async function hostInfo(): Promise<HostInfo> {
  const si = (await import('systeminformation')).default;
  const [cpu, mem] = await Promise.allSettled([si.cpu(), si.mem()]);
  return {
    cpu:
      cpu.status === 'fulfilled'
        ? {
            brand: `${cpu.value.manufacturer} ${cpu.value.brand}`.trim(),
            cores: cpu.value.cores,
            physicalCores: cpu.value.physicalCores,
          }
        : null,
    memory: mem.status === 'fulfilled' ? { totalBytes: mem.value.total, availableBytes: mem.value.available } : null,
  };
}
