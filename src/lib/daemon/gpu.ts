/**
 * GPU slots for the daemon: one slot per discovered device. A run needing a GPU waits until a device with enough
 * free memory is free, and is pinned to it (by UUID). Discovery is refreshed periodically, each call with a hard
 * timeout, so a hung `nvidia-smi` never blocks the daemon (systeminformation's call has no timeout).
 */
import { execFile } from 'node:child_process';

export interface GpuDevice {
  index: number;
  uuid: string;
  name: string;
  memoryTotalMiB: number;
  memoryUsedMiB: number;
}

export type GpuDiscover = () => Promise<GpuDevice[]>;

/** `nvidia-smi --query-gpu=index,uuid,name,memory.total,memory.used` with a timeout (SIGKILL). */
export function nvidiaSmiDiscover(env: NodeJS.ProcessEnv, timeoutMs = 2000): GpuDiscover {
  return () =>
    new Promise((resolve) => {
      execFile(
        'nvidia-smi',
        ['--query-gpu=index,uuid,name,memory.total,memory.used', '--format=csv,noheader,nounits'],
        { timeout: timeoutMs, killSignal: 'SIGKILL', env },
        (err, stdout) => {
          if (err) return resolve([]);
          const devices: GpuDevice[] = [];
          for (const line of stdout.split('\n')) {
            const f = line.split(',').map((s) => s.trim());
            if (f.length !== 5) continue;
            const [index, total, used] = [Number(f[0]), Number(f[3]), Number(f[4])];
            if (![index, total, used].every(Number.isFinite) || !f[1]) continue;
            devices.push({ index, uuid: f[1], name: f[2]!, memoryTotalMiB: total, memoryUsedMiB: used });
          }
          resolve(devices);
        },
      );
    });
}

export interface GpuLease {
  device: GpuDevice;
  release(): void;
}

interface Waiter {
  memoryMiB: number;
  resolve: (lease: GpuLease) => void;
  reject: (err: unknown) => void;
}

export class GpuScheduler {
  private list: GpuDevice[] = [];
  private readonly busy = new Set<string>();
  private readonly waiters: Waiter[] = [];
  private timer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | undefined;

  constructor(
    private readonly discover: GpuDiscover,
    private readonly refreshMs = 30_000,
  ) {}

  /** Refreshes now (bounded by the discover function's timeout), then every `refreshMs`. */
  async start(): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.refreshMs);
    this.timer.unref();
  }

  refresh(): Promise<void> {
    this.refreshing ??= this.discover()
      .then((devices) => {
        this.list = devices;
        this.dispatch();
      })
      .finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  devices(): { index: number; uuid: string; name: string; memoryFreeMiB: number; busy: boolean }[] {
    return this.list.map((d) => ({
      index: d.index,
      uuid: d.uuid,
      name: d.name,
      memoryFreeMiB: d.memoryTotalMiB - d.memoryUsedMiB,
      busy: this.busy.has(d.uuid),
    }));
  }

  /** Waits for a free device with `memoryMiB` free; rejects when none could ever fit or the signal aborts. */
  acquire(memoryMiB: number, signal?: AbortSignal): Promise<GpuLease> {
    if (!this.list.some((d) => d.memoryTotalMiB >= memoryMiB))
      return Promise.reject(new Error(`no GPU has ${memoryMiB} MiB of memory`));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { memoryMiB, resolve, reject };
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

  private dispatch(): void {
    for (let i = 0; i < this.waiters.length;) {
      const w = this.waiters[i]!;
      const device = this.list.find((d) => !this.busy.has(d.uuid) && d.memoryTotalMiB - d.memoryUsedMiB >= w.memoryMiB);
      if (!device) {
        i++;
        continue;
      }
      this.waiters.splice(i, 1);
      this.busy.add(device.uuid);
      let released = false;
      w.resolve({
        device,
        release: () => {
          if (released) return;
          released = true;
          this.busy.delete(device.uuid);
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
