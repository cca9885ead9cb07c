import type { AionConfig } from '../config/index.js';
import { AionError } from '../errors/index.js';

/** `daemon:` in config.yaml / .aionctl.yaml. */
export interface DaemonSettings {
  /** Exit after this long without requests (default 30 min). */
  idleTimeoutMs: number;
  /** Waiting runs per priority before 429 (default 256). */
  maxQueue: number;
  /** Byte budget of the daemon's caches (default 64 MiB). */
  cacheBytes: number;
  /** Warm hosts per pool (default: the machine's cores, from systeminformation). */
  workers: number | undefined;
  /** A warm host is recycled after this many runs (default 5000). */
  recycleRuns: number;
  /** ... or once its process tree's RSS grew this many bytes (default 256 MiB). */
  recycleRssBytes: number;
  /** RSS growth is read (from /proc) every this many runs of a host (default 100). */
  recycleCheckEvery: number;
  /** GPU discovery is refreshed this often (default 30 s; each call is cut off after 2 s). */
  gpuRefreshMs: number;
  /** Byte budget of the run library's prepared-module cache (default 64 MiB). */
  moduleCacheBytes: number;
}

export const DAEMON_DEFAULTS: DaemonSettings = {
  idleTimeoutMs: 30 * 60_000,
  maxQueue: 256,
  cacheBytes: 64 * 1024 * 1024,
  workers: undefined,
  recycleRuns: 5000,
  recycleRssBytes: 256 * 1024 * 1024,
  recycleCheckEvery: 100,
  gpuRefreshMs: 30_000,
  moduleCacheBytes: 64 * 1024 * 1024,
};

/** Reads and checks the `daemon` section (LC036 for a bad value); absent keys take the defaults. */
export function daemonSettings(config: AionConfig, where = 'configuration'): DaemonSettings {
  const section = config.daemon;
  if (section === undefined || section === null) return { ...DAEMON_DEFAULTS };
  if (typeof section !== 'object' || Array.isArray(section))
    throw new AionError('LC036', `${where}: daemon must be a mapping`);
  const s = section as Record<string, unknown>;
  const out: DaemonSettings = { ...DAEMON_DEFAULTS };
  const ranges: Record<keyof DaemonSettings, [number, number]> = {
    idleTimeoutMs: [100, 7 * 24 * 3600_000],
    maxQueue: [1, 1_000_000],
    cacheBytes: [1024 * 1024, 64 * 1024 ** 3],
    workers: [1, 1024],
    recycleRuns: [1, 1_000_000_000],
    recycleRssBytes: [1, 64 * 1024 ** 3],
    recycleCheckEvery: [1, 1_000_000],
    gpuRefreshMs: [100, 24 * 3600_000],
    moduleCacheBytes: [0, 64 * 1024 ** 3],
  };
  for (const [key, value] of Object.entries(s)) {
    if (!(key in ranges))
      throw new AionError('LC036', `${where}: unknown key daemon.${key}`, {
        hint: `known keys: ${Object.keys(ranges).join(', ')}`,
      });
    const [min, max] = ranges[key as keyof DaemonSettings];
    if (!Number.isInteger(value) || (value as number) < min || (value as number) > max)
      throw new AionError('LC036', `${where}: daemon.${key} must be an integer from ${min} to ${max}`);
    (out as unknown as Record<string, number>)[key] = value as number;
  }
  return out;
}
