/** The aionctl daemon: lifecycle, client, paths and the types the run library and the server share. */
import type { Env } from '../config/index.js';
export {
  type CacheStats,
  type DaemonStatus,
  type Health,
  type PoolStats,
  PRIORITIES,
  type Priority,
  PROTOCOL,
  type RunContext,
  type RunEnvelope,
  type Runner,
  type RunRequest,
} from './types.js';
export { DaemonClient } from './client.js';
export { daemonPaths, checkPrivateDir, type DaemonPaths, MAX_SOCKET_PATH } from './paths.js';
export { selfIdentity } from './identity.js';
export { daemonSettings, type DaemonSettings } from './config.js';
export {
  daemonLogs,
  daemonStatus,
  type DaemonRecord,
  isDaemonPid,
  pidAlive,
  probe,
  startDaemon,
  type StartResult,
  type StatusResult,
  stopDaemon,
  type StopResult,
} from './lifecycle.js';
export { createLibraryRunner, type LibraryRunnerOptions, treeRss } from './library-runner.js';
export { GpuScheduler, libraryDiscover, type GpuDiscover, type GpuLease, type GpuSlotStatus } from './gpu.js';
export { LruCache } from './lru.js';

/**
 * Runs a daemon in this process until it stops (`daemon start --foreground`, service managers). Resolves with the
 * reason it stopped. SIGTERM/SIGINT drain first.
 */
export async function runForeground(options: {
  env: Env;
  cwd: string;
  echo?: (line: string) => void;
  signals?: NodeJS.EventEmitter;
}): Promise<string> {
  const { startDaemon: start } = await import('../../daemon/index.js');
  return new Promise((resolve, reject) => {
    start({ env: options.env, cwd: options.cwd, echo: options.echo, onStopped: resolve }).then((server) => {
      for (const signal of ['SIGTERM', 'SIGINT'] as const) options.signals?.on(signal, () => void server.stop(signal));
    }, reject);
  });
}
