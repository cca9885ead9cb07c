/**
 * GPU slots for the daemon: one slot per discovered device (the run library's discovery, src/lib/gpu). A run
 * needing a GPU waits until enough devices with enough free memory are free, and is pinned to them (the same
 * CUDA_VISIBLE_DEVICES/ROCR_VISIBLE_DEVICES environment and device nodes `selectGpus` gives an in-process run).
 * Discovery is refreshed periodically, each call with a hard timeout, so a hung `nvidia-smi` never blocks the daemon.
 */
import type { Env } from '../config/index.js';
import {
  discoverGpus,
  type GpuDevice,
  type GpuDiscovery,
  type GpuRequirement,
  type GpuSelection,
  selectGpus,
} from '../gpu/index.js';
import { isAionError } from '../errors/index.js';

export type GpuDiscover = () => Promise<GpuDiscovery>;

/** The run library's discovery (nvidia-smi, rocm-smi, Intel sysfs), each tool cut off after `timeoutMs` (SIGKILL). */
export function libraryDiscover(env: Env, timeoutMs = 2000): GpuDiscover {
  return () => discoverGpus({ env, timeoutMs }).catch(() => ({ devices: [], probes: [] }));
}

export interface GpuLease {
  selection: GpuSelection;
  release(): void;
}

export interface GpuSlotStatus {
  index: number;
  uuid: string;
  name: string;
  memoryFreeMiB: number;
  busy: boolean;
}

interface Waiter {
  requirement: GpuRequirement;
  resolve: (lease: GpuLease) => void;
  reject: (err: unknown) => void;
}

const keyOf = (d: GpuDevice) => d.uuid ?? `${d.vendor}:${d.index}`;

export class GpuScheduler {
  private discovery: GpuDiscovery = { devices: [], probes: [] };
  private readonly busy = new Set<string>();
  private readonly waiters: Waiter[] = [];
  private timer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | undefined;
  private discovered: Promise<void> | undefined;
  refreshes = 0;

  constructor(
    private readonly discover: GpuDiscover,
    private readonly refreshMs = 30_000,
  ) {}

  /** Refreshes now (bounded by the discover function's timeout), then every `refreshMs`. */
  start(): Promise<void> {
    this.discovered ??= this.refresh();
    this.timer ??= setInterval(() => void this.refresh(), this.refreshMs);
    this.timer.unref();
    return this.discovered;
  }

  refresh(): Promise<void> {
    this.refreshing ??= this.discover()
      .then((discovery) => {
        this.discovery = discovery;
        this.refreshes++;
        this.dispatch();
      })
      .finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  devices(): GpuSlotStatus[] {
    return this.discovery.devices.map((d) => ({
      index: d.index,
      uuid: keyOf(d),
      name: d.name,
      memoryFreeMiB: d.memoryFreeMiB ?? 0,
      busy: this.busy.has(keyOf(d)),
    }));
  }

  /** Runs waiting for a device. */
  get waiting(): number {
    return this.waiters.length;
  }

  /**
   * Devices for `requirement`, waiting while the devices that fit are busy. Undefined when the package merely
   * prefers a GPU and none could ever fit; EX020 (as in-process) when it requires one that no device can give.
   */
  async allocate(requirement: GpuRequirement, signal?: AbortSignal): Promise<GpuLease | undefined> {
    await this.start();
    // Could it ever fit (every device free)? selectGpus throws EX020 for a required GPU that cannot be had.
    if (selectGpus(requirement, this.discovery).devices.length === 0) return undefined;
    signal?.throwIfAborted();
    return new Promise<GpuLease>((resolve, reject) => {
      const waiter: Waiter = { requirement, resolve, reject };
      signal?.addEventListener(
        'abort',
        () => {
          const i = this.waiters.indexOf(waiter);
          if (i >= 0) this.waiters.splice(i, 1);
          reject(signal.reason);
        },
        { once: true },
      );
      this.waiters.push(waiter);
      this.dispatch();
    });
  }

  /** Hands free devices to waiters in arrival order (a waiter that does not fit now does not block later ones). */
  private dispatch(): void {
    for (let i = 0; i < this.waiters.length;) {
      const w = this.waiters[i]!;
      const free: GpuDiscovery = {
        devices: this.discovery.devices.filter((d) => !this.busy.has(keyOf(d))),
        probes: this.discovery.probes,
      };
      let selection: GpuSelection;
      try {
        selection = selectGpus({ ...w.requirement, required: true }, free);
      } catch (err) {
        if (!isAionError(err)) throw err;
        i++;
        continue;
      }
      this.waiters.splice(i, 1);
      const keys = selection.devices.map(keyOf);
      for (const k of keys) this.busy.add(k);
      let released = false;
      w.resolve({
        selection,
        release: () => {
          if (released) return;
          released = true;
          for (const k of keys) this.busy.delete(k);
          this.dispatch();
        },
      });
    }
  }

  stop(): void {
    clearInterval(this.timer);
    for (const w of this.waiters.splice(0)) w.reject(new Error('the daemon is stopping'));
  }
}
