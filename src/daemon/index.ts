/**
 * Builds and starts a daemon in this process (the detached child started by `aionctl daemon start`, or the
 * foreground one of `--foreground`): config, runner, caches, GPU slots, socket.
 */
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { type Env, findProjectFile, loadConfig, resolvePaths, USER_CONFIG_FILE } from '../lib/config/index.js';
import { daemonSettings } from '../lib/daemon/config.js';
import { GpuScheduler, libraryDiscover } from '../lib/daemon/gpu.js';
import { daemonPaths } from '../lib/daemon/paths.js';
import { selfIdentity } from '../lib/daemon/identity.js';
import { createLibraryRunner } from '../lib/daemon/library-runner.js';
import type { Runner } from '../lib/daemon/types.js';
import { libraryHandlers } from './handlers.js';
import { JsonLog } from './log.js';
import { DaemonServer } from './server.js';

/** CPU pool size from the machine: systeminformation's core count, bounded in time, else availableParallelism. */
async function machineCores(): Promise<number> {
  try {
    const si = await import('systeminformation');
    const cpu = await Promise.race([
      si.cpu(),
      new Promise<never>((_, rej) => setTimeout(() => rej(new Error('slow')), 2000).unref()),
    ]);
    return Math.max(1, cpu.cores || availableParallelism());
  } catch {
    return availableParallelism();
  }
}

export interface StartOptions {
  env: Env;
  cwd: string;
  /** Echo log lines (foreground mode). */
  echo?: (line: string) => void;
  onStopped?: (reason: string) => void;
  /** Replaces the runner (the run library's, once merged). */
  runner?: Runner;
}

export async function startDaemon(options: StartOptions): Promise<DaemonServer> {
  const paths = daemonPaths(options.env);
  const base = resolvePaths(options.env);
  const loaded = await loadConfig(options.cwd, base.config);
  const settings = daemonSettings(loaded.config);
  const workers = settings.workers ?? (await machineCores());
  const log = new JsonLog(paths.log, 5 * 1024 * 1024, options.echo);
  // GPU slots: one per device the run library discovers (2 s timeout per tool), refreshed periodically.
  const gpu = new GpuScheduler(libraryDiscover(options.env), settings.gpuRefreshMs);
  const runner =
    options.runner ??
    createLibraryRunner({
      env: options.env,
      paths: base,
      workers,
      nodePath: process.execPath,
      cacheBytes: Math.floor(settings.cacheBytes / 2),
      maxRuns: settings.recycleRuns,
      maxRssGrowth: settings.recycleRssBytes,
      rssCheckEvery: settings.recycleCheckEvery,
      moduleCacheBytes: settings.moduleCacheBytes,
      gpus: (requirement, signal) => gpu.allocate(requirement, signal),
    });
  const watch = [join(base.config, USER_CONFIG_FILE), join(base.store, 'index.json')];
  if (loaded.projectFile) watch.push(loaded.projectFile, join(dirname(loaded.projectFile), 'aionctl.lock'));
  const projectFile = await findProjectFile(options.cwd);
  if (projectFile && !watch.includes(projectFile)) watch.push(projectFile);
  const { version, buildId } = selfIdentity();
  const server = new DaemonServer({
    paths,
    version,
    buildId,
    runner,
    handlers: libraryHandlers(options.env, base),
    log,
    idleTimeoutMs: settings.idleTimeoutMs,
    maxQueue: settings.maxQueue,
    concurrency: workers * 2,
    cacheBytes: settings.cacheBytes,
    watch,
    gpu,
    onStopped: (reason) => {
      gpu.stop();
      options.onStopped?.(reason);
    },
  });
  try {
    await server.listen();
  } catch (err) {
    await runner.close();
    await log.close();
    throw err;
  }
  void gpu.start();
  return server;
}
